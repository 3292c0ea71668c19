/**
 * Verification of a file in LevelDB's log format (the write-ahead logs `*.log` and the
 * MANIFEST): 32 KiB blocks of physical records, each
 *
 *   masked crc32c(type ++ payload) u32 LE | length u16 LE | type u8 | payload
 *
 * with type FULL=1, FIRST=2, MIDDLE=3, LAST=4 (a logical record is FULL, or FIRST MIDDLE* LAST).
 * A block's last 1..6 bytes, too few for a header, are zero padding. Every block with data
 * starts with a header, which is how valid data after a damaged spot is found.
 *
 * LevelDB (without paranoid checks) skips a record it cannot read and the rest of its block,
 * silently. Here, a bad record is accepted only as a torn tail: nothing valid after it, at the
 * end of a file whose tail a power cut may tear (the caller says which). Otherwise it is damage.
 */
import { FormatDamage, maskedCrcOf, type WindowReader } from './leveldb-bytes.js';

/** Bytes of a log block. */
export const logBlockBytes = 32 * 1024;
const headerBytes = 7;
const full = 1;
const first = 2;
const middle = 3;
const last = 4;

/**
 * Bound on the bytes checksummed while looking for a valid record after a damaged one inside
 * its block (candidate headers at every byte): 16 MiB keeps the worst case well under a second;
 * past it the spot is reported as damage, the safe answer.
 */
const searchCrcBytesMax = 16 * 1024 * 1024;

const empty = new Uint8Array(0);

/** A torn tail that was accepted: where it starts and what was found there. */
export interface TornTail {
  readonly offset: number;
  readonly detail: string;
}

/**
 * Scans the whole file, calling `onRecord` with each complete logical record (a copy) if given.
 * Returns the torn tail it accepted, if any; throws FormatDamage at any other bad spot.
 */
export function scanLogFile(reader: WindowReader, tailMayTear: boolean, onRecord?: (record: Uint8Array, offset: number) => void): TornTail | undefined {
  let pending: { parts: Uint8Array[]; offset: number } | undefined;
  for (let blockAt = 0; blockAt < reader.size; blockAt += logBlockBytes) {
    const blockLen = Math.min(logBlockBytes, reader.size - blockAt);
    let pos = 0;
    while (pos < blockLen) {
      const block = reader.read(blockAt, blockLen);
      let bad: string | undefined;
      let length = 0;
      if (blockLen - pos < headerBytes) {
        // Padding at a block end; at the file end, non-zero bytes are a header cut short.
        if (blockLen === logBlockBytes || block.subarray(pos).every((b) => b === 0)) break;
        bad = 'record header cut short by the end of the file';
      } else {
        const crc = block.readUInt32LE(pos);
        length = block.readUInt16LE(pos + 4);
        const type = block[pos + 6]!;
        if (type === 0 && length === 0) bad = 'zeroed record header';
        else if (pos + headerBytes + length > blockLen) bad = blockLen < logBlockBytes ? 'record cut short by the end of the file' : 'record length runs past its block';
        else if (maskedCrcOf(type, block.subarray(pos + headerBytes, pos + headerBytes + length), false) !== crc) bad = 'record checksum mismatch';
        else if (type < full || type > last) bad = `unknown record type ${type}`;
        else if ((type === full || type === first) && pending !== undefined) bad = 'a record starts inside an unfinished one';
        else if ((type === middle || type === last) && pending === undefined) bad = 'a continuation without a first fragment';
        else {
          // Payloads are kept (copied) only for a caller that reads the records: the MANIFEST.
          const payload = onRecord === undefined ? empty : Uint8Array.from(block.subarray(pos + headerBytes, pos + headerBytes + length));
          if (type === full) onRecord?.(payload, blockAt + pos);
          else if (type === first) pending = { parts: [payload], offset: blockAt + pos };
          else {
            pending!.parts.push(payload);
            if (type === last) {
              onRecord?.(Buffer.concat(pending!.parts), pending!.offset);
              pending = undefined;
            }
          }
        }
      }
      if (bad !== undefined) return tornTailOrThrow(reader, blockAt, pos, bad, tailMayTear);
      pos += headerBytes + length;
    }
  }
  if (pending !== undefined) {
    if (!tailMayTear) throw new FormatDamage(pending.offset, 'record unfinished at the end of the file');
    return { offset: pending.offset, detail: 'record unfinished at the end of the file' };
  }
  return undefined;
}

function tornTailOrThrow(reader: WindowReader, blockAt: number, pos: number, detail: string, tailMayTear: boolean): TornTail {
  const offset = blockAt + pos;
  if (validRecordAfter(reader, blockAt, pos)) throw new FormatDamage(offset, `${detail}, followed by valid records`);
  if (!tailMayTear) throw new FormatDamage(offset, `${detail} (at the end of a file that must be whole)`);
  return { offset, detail };
}

/**
 * Whether a valid record starts after the bad one at `pos` of the block at `blockAt`: at any
 * later byte of that block, or at the start of any later block. Only the start of a logical
 * record (FULL or FIRST) counts: the MIDDLE or LAST fragment of a large write cut by a power cut
 * can reach the disk before its first pages do (the page cache writes back in any order), and
 * is a torn tail, not damage followed by valid data.
 */
function validRecordAfter(reader: WindowReader, blockAt: number, pos: number): boolean {
  const budget = { crcBytes: searchCrcBytesMax };
  const blockLen = Math.min(logBlockBytes, reader.size - blockAt);
  for (let q = pos + 1; q + headerBytes <= blockLen; q++) {
    if (recordValidAt(reader.read(blockAt, blockLen), q, budget)) return true;
  }
  for (let b = blockAt + logBlockBytes; b < reader.size; b += logBlockBytes) {
    if (recordValidAt(reader.read(b, Math.min(logBlockBytes, reader.size - b)), 0, budget)) return true;
  }
  return false;
}

/** Whether a whole physical record with a matching checksum starts at `q` (budget spent: true). */
function recordValidAt(block: Uint8Array, q: number, budget: { crcBytes: number }): boolean {
  if (q + headerBytes > block.length) return false;
  const type = block[q + 6]!;
  if (type !== full && type !== first) return false;
  const crc = (block[q]! | (block[q + 1]! << 8) | (block[q + 2]! << 16) | (block[q + 3]! << 24)) >>> 0;
  const length = block[q + 4]! | (block[q + 5]! << 8);
  if (q + headerBytes + length > block.length) return false;
  budget.crcBytes -= length;
  if (budget.crcBytes < 0) return true;
  return maskedCrcOf(type, block.subarray(q + headerBytes, q + headerBytes + length), false) === crc;
}
