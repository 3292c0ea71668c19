/**
 * Verification of a LevelDB table file (`*.ldb`, `*.sst`): every block's checksum, found through
 * the index. Layout:
 *
 *   data blocks | meta blocks | metaindex block | index block | footer (48 bytes)
 *
 * Each block is followed by a 5-byte trailer: compression type u8 (0 none, 1 snappy) and the
 * masked CRC-32C u32 LE of the block bytes followed by the type byte. The footer holds the
 * metaindex and index BlockHandles (varint64 offset, varint64 size), zero padding to 40 bytes,
 * and the magic 0xdb4775248b80fb57 as u64 LE. The index block's entries map a key to the
 * BlockHandle of a data block; the metaindex's, a name to a meta block (the filter). A block's
 * entries are shared/non-shared/value-length varints, the key delta and the value; a restart
 * array of u32 LE and its u32 LE count end the block.
 */
import { Cursor, FormatDamage, maskedCrcOf, type WindowReader } from './leveldb-bytes.js';
import { snappyDecompress } from './snappy.js';

const footerBytes = 48;
const trailerBytes = 5;
/** The magic as two u32 LE halves: 0xdb4775248b80fb57. */
const magicLo = 0x8b80fb57;
const magicHi = 0xdb477524;

interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

/** Verifies the table read by `reader`; `expectedSize` is what the MANIFEST says, if known. */
export function verifyTable(reader: WindowReader, expectedSize: number | undefined): void {
  const size = reader.size;
  if (expectedSize !== undefined && size !== expectedSize) {
    throw new FormatDamage(Math.min(size, expectedSize), `table is ${size} bytes, the MANIFEST says ${expectedSize} (truncated or extended)`);
  }
  if (size < footerBytes) throw new FormatDamage(0, `${size} bytes is shorter than a table footer`);
  const footerAt = size - footerBytes;
  const footer = Uint8Array.from(reader.read(footerAt, footerBytes));
  const view = Buffer.from(footer.buffer);
  if (view.readUInt32LE(40) !== magicLo || view.readUInt32LE(44) !== magicHi) throw new FormatDamage(footerAt + 40, 'bad table magic number');
  const c = new Cursor(footer, 0, 40, footerAt);
  const metaindex = handleOf(c);
  const index = handleOf(c);
  for (const h of [metaindex, index]) {
    for (const child of blockHandles(readBlock(reader, h, footerAt, true)!, h.offset)) readBlock(reader, child, footerAt, false);
  }
}

function handleOf(c: Cursor): BlockHandle {
  return { offset: c.varint(), size: c.varint() };
}

/**
 * Reads the block at `h` (ending before `limit`) and verifies its trailer; returns its
 * uncompressed contents when `contents` is set.
 */
function readBlock(reader: WindowReader, h: BlockHandle, limit: number, contents: boolean): Uint8Array | undefined {
  if (h.offset + h.size + trailerBytes > limit) throw new FormatDamage(h.offset, `block of ${h.size} bytes at ${h.offset} runs past the end of the table's blocks (${limit})`);
  const raw = reader.read(h.offset, h.size + trailerBytes);
  const type = raw[h.size]!;
  const stored = raw.readUInt32LE(h.size + 1);
  if (maskedCrcOf(type, raw.subarray(0, h.size), true) !== stored) throw new FormatDamage(h.offset, 'block checksum mismatch');
  if (type !== 0 && type !== 1) throw new FormatDamage(h.offset + h.size, `unknown block compression ${type}`);
  if (!contents) return undefined;
  return type === 1 ? snappyDecompress(raw.subarray(0, h.size), h.offset) : Uint8Array.from(raw.subarray(0, h.size));
}

/** The BlockHandles that are the values of a block's entries (index and metaindex blocks). */
function blockHandles(block: Uint8Array, blockOffset: number): BlockHandle[] {
  if (block.length < 4) throw new FormatDamage(blockOffset, 'block shorter than its restart count');
  const view = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const restarts = view.readUInt32LE(block.length - 4);
  const entriesEnd = block.length - 4 - 4 * restarts;
  if (entriesEnd < 0) throw new FormatDamage(blockOffset, `restart count ${restarts} too large for a ${block.length}-byte block`);
  const c = new Cursor(block, 0, entriesEnd, blockOffset);
  const handles: BlockHandle[] = [];
  while (!c.done) {
    c.varint(); // bytes shared with the previous key
    const nonShared = c.varint();
    const valueBytes = c.varint();
    c.bytes(nonShared);
    const value = c.bytes(valueBytes);
    handles.push(handleOf(new Cursor(value, 0, value.length, blockOffset)));
  }
  return handles;
}
