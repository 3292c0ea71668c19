/**
 * Scans the bytes of one segment record by record: rebuilds its summary, and classifies what
 * stops the scan early. A record that is incomplete or bad with no valid record anywhere after
 * it is a torn tail (a write that never completed, so never synced, never acknowledged). A bad
 * or incomplete record with a valid record after it, an index out of sequence or a term that
 * decreases is corruption: SegmentCorruptionError naming the segment and byte offset.
 */
import { decodeRecord } from './record-format.js';
import { SegmentCorruptionError } from './segment-corruption.js';
import { SegmentSummary } from './segment-summary.js';

/** A torn tail: the bytes from `offsetBytes` on are not a record. */
export interface TornTail {
  readonly offsetBytes: number;
  readonly reason: string;
}

/** The result of a scan: the summary of the valid records, and the torn tail if any. */
export interface SegmentScan {
  readonly summary: SegmentSummary;
  readonly tornTail: TornTail | null;
}

/**
 * Scans `bytes`, the content of segment `name` starting at `firstIndex`. `termFloor` is the
 * last term of the segment before (0 if none): terms never decrease across segments either.
 */
export function scanSegment(name: string, bytes: Uint8Array, firstIndex: number, termFloor: number, indexIntervalBytes: number, verify = true): SegmentScan {
  const summary = new SegmentSummary(firstIndex, indexIntervalBytes);
  let offset = 0;
  while (offset < bytes.length) {
    const d = decodeRecord(bytes, offset, verify);
    if (d.type !== 'valid') {
      const reason = d.type === 'bad' ? d.reason : 'incomplete record';
      const next = findValidRecordAfter(bytes, offset + 1);
      if (next !== undefined) throw new SegmentCorruptionError(name, offset, summary.lastIndex + 1, `${reason}, yet a valid record starts at byte ${next}`);
      return { summary, tornTail: { offsetBytes: offset, reason } };
    }
    const { term, index } = d.record;
    if (index !== summary.lastIndex + 1) throw new SegmentCorruptionError(name, offset, index, `record index ${index} where ${summary.lastIndex + 1} was expected`);
    const floor = Math.max(termFloor, summary.lastTerm);
    if (term < floor) throw new SegmentCorruptionError(name, offset, index, `term ${term} decreases below ${floor}`);
    summary.add(term, index, d.recordBytes);
    offset += d.recordBytes;
  }
  return { summary, tornTail: null };
}

/**
 * The first offset at or after `from` where a valid record starts, if any. Byte by byte, so
 * quadratic in the worst case, but only on the damage path and bounded by the segment size;
 * most offsets fail on the length field without computing a checksum.
 */
export function findValidRecordAfter(bytes: Uint8Array, from: number): number | undefined {
  for (let at = from; at + 4 <= bytes.length; at++) {
    if (decodeRecord(bytes, at).type === 'valid') return at;
  }
  return undefined;
}
