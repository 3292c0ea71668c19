/**
 * The framing of one segment record. Little-endian, fixed 28-byte header, then the payload:
 *
 *   offset  size  field
 *        0     4  length: bytes after this field (24 + payload length)
 *        4     4  crc: CRC-32C of every byte after this field (header rest and payload)
 *        8     8  term: u64 as two u32 (low word first); the high word < 2^21 (a safe integer)
 *       16     8  index: u64 likewise
 *       24     4  payload length
 *       28     n  payload
 *
 * The length is outside the checksum, so a damaged length shows up as a checksum mismatch at
 * the boundary it points to, or as a record running past the end of the bytes (incomplete).
 * The payload length repeats the length inside the checksum: a cross-check against bugs.
 * Decoding never throws: it says valid, incomplete or bad, and the caller decides (recovery.ts
 * treats incomplete and bad alike at the tail, and as corruption when a valid record follows).
 */
import { crc32c } from '../crc32.js';

/** Bytes of the fixed header. */
export const recordHeaderBytes = 28;

/** Bytes the length field counts besides the payload (crc, term, index, payload length). */
const lengthOverheadBytes = recordHeaderBytes - 4;

/**
 * Largest payload of one record: 64 MiB. A payload is one Raft entry, at most one peer frame
 * (16 MiB by default, src/server/size-limits.ts); four times that leaves room for an operator
 * who raises the frame limit, while bounding what one damaged length field can make a reader
 * allocate or a recovery scan skip.
 */
export const recordPayloadBytesMax = 64 * 1024 * 1024;

/** High word bound of a u64 field that still reads as a safe integer (2^53 - 1). */
const safeHighWordLimit = 0x200000;

/** One decoded record. Invariant: term >= 1, index >= 1, both safe integers. */
export interface SegmentRecord {
  readonly term: number;
  readonly index: number;
  readonly payload: Uint8Array;
}

/** What decoding at an offset found. */
export type RecordDecode =
  | { readonly type: 'valid'; readonly record: SegmentRecord; readonly recordBytes: number }
  /** The bytes end inside the record (or inside its header): possibly a torn write. */
  | { readonly type: 'incomplete' }
  /** The record is damaged: checksum mismatch or a field that cannot be. */
  | { readonly type: 'bad'; readonly reason: string };

/** The encoded size of a record with `payloadBytes` of payload. */
export function recordBytesOf(payloadBytes: number): number {
  return recordHeaderBytes + payloadBytes;
}

/** Encodes one record. The caller asserts the fields (segment-log.ts). */
export function encodeRecord(record: SegmentRecord): Uint8Array {
  const n = record.payload.length;
  const out = new Uint8Array(recordHeaderBytes + n);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, lengthOverheadBytes + n, true);
  writeU64(view, 8, record.term);
  writeU64(view, 16, record.index);
  view.setUint32(24, n, true);
  out.set(record.payload, recordHeaderBytes);
  view.setUint32(4, crc32c(out.subarray(8)), true);
  return out;
}

/**
 * Decodes the record starting at `offset` of `bytes`; never throws. `verify` false skips the
 * checksum (only the skip-checksums negative control of test mode: damage is then served).
 */
export function decodeRecord(bytes: Uint8Array, offset: number, verify = true): RecordDecode {
  const remaining = bytes.length - offset;
  if (remaining < 4) return { type: 'incomplete' };
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, remaining);
  const length = view.getUint32(0, true);
  if (length < lengthOverheadBytes) return { type: 'bad', reason: `length ${length} is below the header's ${lengthOverheadBytes}` };
  if (length > lengthOverheadBytes + recordPayloadBytesMax) return { type: 'bad', reason: `length ${length} exceeds recordPayloadBytesMax` };
  if (remaining - 4 < length) return { type: 'incomplete' };
  const stored = view.getUint32(4, true);
  const body = bytes.subarray(offset + 8, offset + 4 + length);
  const computed = verify ? crc32c(body) : stored;
  if (stored !== computed) return { type: 'bad', reason: `checksum ${hex(stored)} != computed ${hex(computed)}` };
  const term = readU64(view, 8);
  const index = readU64(view, 16);
  const payloadBytes = view.getUint32(24, true);
  if (payloadBytes !== length - lengthOverheadBytes) return { type: 'bad', reason: `payload length ${payloadBytes} disagrees with length ${length}` };
  if (term === undefined || term < 1) return { type: 'bad', reason: 'term is 0 or not a safe integer' };
  if (index === undefined || index < 1) return { type: 'bad', reason: 'index is 0 or not a safe integer' };
  const payload = bytes.slice(offset + recordHeaderBytes, offset + 4 + length);
  return { type: 'valid', record: { term, index, payload }, recordBytes: 4 + length };
}

/** Writes a safe integer as u64 (low word first). */
export function writeU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 0x100000000, true);
  view.setUint32(at + 4, Math.floor(value / 0x100000000), true);
}

/** Reads a u64 (low word first); undefined when it is not a safe integer. */
export function readU64(view: DataView, at: number): number | undefined {
  const high = view.getUint32(at + 4, true);
  if (high >= safeHighWordLimit) return undefined;
  return high * 0x100000000 + view.getUint32(at, true);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
