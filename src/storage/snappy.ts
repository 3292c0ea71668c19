/**
 * Snappy decompression (the block compression LevelDB uses by default), for reading the index
 * and metaindex blocks of a table when verifying it (leveldb-table-verify.ts). Format: a varint
 * uncompressed length, then elements, each a tag byte whose low two bits say what follows:
 * 0 a literal (length in the tag, or in 1..4 following bytes), 1 a copy with an 11-bit offset,
 * 2 a copy with a 16-bit offset, 3 a copy with a 32-bit offset. Malformed input throws
 * FormatDamage at `fileOffset` (where the block is in its file).
 */
import { Cursor, FormatDamage } from './leveldb-bytes.js';

/**
 * Bound on an uncompressed block in bytes: LevelDB blocks are about 4 KiB, or one large value;
 * 64 MiB is far above any value raftq stores and stops a damaged length from allocating more.
 */
const uncompressedBytesMax = 64 * 1024 * 1024;

/** The uncompressed bytes of `input`. */
export function snappyDecompress(input: Uint8Array, fileOffset: number): Uint8Array {
  const c = new Cursor(input, 0, input.length, fileOffset);
  const length = c.varint();
  if (length > uncompressedBytesMax) throw new FormatDamage(fileOffset, `snappy length ${length} beyond ${uncompressedBytesMax}`);
  const out = new Uint8Array(length);
  let at = 0;
  while (!c.done) {
    const tag = c.bytes(1)[0]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = c.bytes(len - 59);
        len = 0;
        for (let i = extra.length - 1; i >= 0; i--) len = len * 256 + extra[i]!;
      }
      len += 1;
      if (at + len > length) throw new FormatDamage(fileOffset, 'snappy literal past the uncompressed length');
      out.set(c.bytes(len), at);
      at += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | c.bytes(1)[0]!;
    } else if (kind === 2) {
      const b = c.bytes(2);
      len = (tag >>> 2) + 1;
      offset = b[0]! | (b[1]! << 8);
    } else {
      const b = c.bytes(4);
      len = (tag >>> 2) + 1;
      offset = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    }
    if (offset === 0 || offset > at || at + len > length) throw new FormatDamage(fileOffset, 'snappy copy out of range');
    for (let i = 0; i < len; i++, at++) out[at] = out[at - offset]!;
  }
  if (at !== length) throw new FormatDamage(fileOffset, `snappy output ${at} bytes, header says ${length}`);
  return out;
}
