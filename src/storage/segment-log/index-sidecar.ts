/**
 * The offset index sidecar of a sealed segment ("<first index>.idx"): the segment's summary
 * (segment-summary.ts) so that opening the log need not scan every sealed segment.
 *
 * A cache, never trusted over the segment: it carries its own CRC-32C, and recovery.ts
 * accepts it only if the segment file has exactly the recorded size and the record at the
 * recorded last offset decodes to the recorded last index and term. Otherwise the segment is
 * scanned and the sidecar rewritten. It is written (temp file, then rename) without any sync:
 * losing it costs one scan.
 *
 * Layout, little-endian: magic u32, version u32, indexIntervalBytes u32, firstIndex u64,
 * lastIndex u64, segment bytes u32, last record offset u32, run count u32, runs (index u64,
 * term u64), offset count u32, offsets (index u64, offset u32), CRC-32C u32 of all before.
 */
import { crc32c } from '../crc32.js';
import { readU64, writeU64 } from './record-format.js';
import { SegmentSummary } from './segment-summary.js';

const magic = 0x58495152; // "RQIX"
const version = 1;
const fixedBytes = 4 + 4 + 4 + 8 + 8 + 4 + 4 + 4 + 4 + 4;

/** Encodes the summary of a sealed, non-empty segment. */
export function encodeIndexSidecar(s: SegmentSummary): Uint8Array {
  const out = new Uint8Array(fixedBytes + s.termRuns.length * 16 + s.offsets.length * 12);
  const v = new DataView(out.buffer);
  let at = 0;
  const u32 = (n: number): void => {
    v.setUint32(at, n, true);
    at += 4;
  };
  const u64 = (n: number): void => {
    writeU64(v, at, n);
    at += 8;
  };
  u32(magic);
  u32(version);
  u32(s.indexIntervalBytes);
  u64(s.firstIndex);
  u64(s.lastIndex);
  u32(s.bytes);
  u32(s.lastRecordOffset);
  u32(s.termRuns.length);
  for (const r of s.termRuns) {
    u64(r.index);
    u64(r.term);
  }
  u32(s.offsets.length);
  for (const e of s.offsets) {
    u64(e.index);
    u32(e.offsetBytes);
  }
  u32(crc32c(out.subarray(0, at)));
  return out;
}

/**
 * Decodes a sidecar of the segment starting at `firstIndex`: its summary, or why it is
 * unusable (damaged, another layout or interval, inconsistent). Never throws.
 */
export function decodeIndexSidecar(bytes: Uint8Array, firstIndex: number, indexIntervalBytes: number): SegmentSummary | string {
  if (bytes.length < fixedBytes) return 'shorter than its header';
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(bytes.length - 4, true) !== crc32c(bytes.subarray(0, bytes.length - 4))) return 'checksum mismatch';
  let at = 0;
  let unsafe = false;
  const u32 = (): number => {
    const n = at + 4 <= bytes.length - 4 ? v.getUint32(at, true) : 0;
    at += 4;
    return n;
  };
  const u64 = (): number => {
    const n = at + 8 <= bytes.length - 4 ? readU64(v, at) : 0;
    at += 8;
    if (n === undefined) unsafe = true;
    return n ?? 0;
  };
  if (u32() !== magic || u32() !== version) return 'unknown magic or version';
  if (u32() !== indexIntervalBytes) return 'written with another index interval';
  const s = new SegmentSummary(firstIndex, indexIntervalBytes);
  if (u64() !== firstIndex) return 'first index disagrees with the segment name';
  s.lastIndex = u64();
  s.bytes = u32();
  s.lastRecordOffset = u32();
  const runCount = u32();
  if (runCount * 16 > bytes.length) return 'run count exceeds the file';
  for (let i = 0; i < runCount; i++) s.termRuns.push({ index: u64(), term: u64() });
  const offsetCount = u32();
  if (offsetCount * 12 > bytes.length) return 'offset count exceeds the file';
  for (let i = 0; i < offsetCount; i++) s.offsets.push({ index: u64(), offsetBytes: u32() });
  if (unsafe || at !== bytes.length - 4) return 'length disagrees with its counts';
  return consistencyProblem(s) ?? s;
}

/** Why a decoded summary cannot describe a sealed segment, or undefined if it can. */
function consistencyProblem(s: SegmentSummary): string | undefined {
  if (s.empty) return 'describes an empty segment';
  if (s.lastRecordOffset >= s.bytes) return 'last record offset beyond the segment';
  const runs = s.termRuns;
  if (runs[0]?.index !== s.firstIndex || runs[0].term < 1) return 'term runs do not start at the first index';
  for (let i = 1; i < runs.length; i++) {
    if (runs[i]!.index <= runs[i - 1]!.index || runs[i]!.term <= runs[i - 1]!.term || runs[i]!.index > s.lastIndex) return 'term runs out of order';
  }
  const offsets = s.offsets;
  if (offsets[0]?.index !== s.firstIndex || offsets[0].offsetBytes !== 0) return 'offsets do not start at the first record';
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i]!.index <= offsets[i - 1]!.index || offsets[i]!.offsetBytes <= offsets[i - 1]!.offsetBytes || offsets[i]!.index > s.lastIndex || offsets[i]!.offsetBytes > s.lastRecordOffset) return 'offsets out of order';
  }
  return undefined;
}
