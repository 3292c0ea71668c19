/**
 * What the log keeps in memory about one segment without reading it: its index range, size,
 * the terms of its records (as runs: terms change rarely, so a segment of a million records
 * usually has one run), and the sparse offset index (Kafka's OffsetIndex: every
 * `indexIntervalBytes` of records, the index and byte offset of the record starting there),
 * so a read of index i decodes at most about one interval of records before reaching i.
 *
 * Built record by record, by appends and by recovery scans alike, so a rebuilt index equals
 * the one written before (the sidecar, index-sidecar.ts, is only a cache of it).
 */
import { assert } from '../../../raft/assert.js';

/** A sparse offset index entry: the record `index` starts at `offsetBytes`. */
export interface OffsetEntry {
  readonly index: number;
  readonly offsetBytes: number;
}

/** A run of records with one term, starting at `index`. */
export interface TermRun {
  readonly index: number;
  readonly term: number;
}

/**
 * Default spacing of the sparse offset index: 4 KiB of records (Kafka's index.interval.bytes
 * default). A lookup then reads about 4 KiB plus the wanted record; a 64 MiB segment needs
 * about 16 Ki entries, 200 KiB of memory.
 */
export const indexIntervalBytesDefault = 4096;

/** The in-memory description of one segment. */
export class SegmentSummary {
  /** The index of the first record (from the file name). Invariant: >= 1. */
  readonly firstIndex: number;
  /** Spacing of offset entries. Invariant: > 0. */
  readonly indexIntervalBytes: number;
  /** Invariant: firstIndex - 1 when empty; the index of the record at lastRecordOffset else. */
  lastIndex: number;
  /** Bytes of the records. Invariant: 0 when empty. */
  bytes = 0;
  /** Offset of the last record; -1 when empty. */
  lastRecordOffset = -1;
  /** Invariant: indexes strictly increasing, terms strictly increasing, first run at firstIndex. */
  termRuns: TermRun[] = [];
  /** Invariant: the first record is always indexed at offset 0; indexes and offsets increase. */
  offsets: OffsetEntry[] = [];

  constructor(firstIndex: number, indexIntervalBytes: number) {
    assert(Number.isSafeInteger(firstIndex) && firstIndex >= 1, `segment first index ${firstIndex}`);
    assert(indexIntervalBytes > 0, 'indexIntervalBytes must be positive');
    this.firstIndex = firstIndex;
    this.indexIntervalBytes = indexIntervalBytes;
    this.lastIndex = firstIndex - 1;
  }

  /** True when the segment holds no record. */
  get empty(): boolean {
    return this.lastIndex < this.firstIndex;
  }

  /** The term of the last record, or 0 when empty. */
  get lastTerm(): number {
    return this.termRuns.at(-1)?.term ?? 0;
  }

  /** The term of the first record, or 0 when empty. */
  get firstTerm(): number {
    return this.termRuns[0]?.term ?? 0;
  }

  /** Records the next record (index lastIndex + 1) of `recordBytes` at the end. */
  add(term: number, index: number, recordBytes: number): void {
    assert(index === this.lastIndex + 1, () => `segment record ${index} after ${this.lastIndex}`);
    assert(term >= this.lastTerm, () => `segment term ${term} after ${this.lastTerm}`);
    const offsetBytes = this.bytes;
    const lastEntry = this.offsets.at(-1);
    if (lastEntry === undefined || offsetBytes - lastEntry.offsetBytes >= this.indexIntervalBytes) this.offsets.push({ index, offsetBytes });
    if (term !== this.lastTerm) this.termRuns.push({ index, term });
    this.lastIndex = index;
    this.lastRecordOffset = offsetBytes;
    this.bytes += recordBytes;
  }

  /** Forgets records from `from` on; `fromOffset` is where record `from` starts, `lastOffset` where from - 1 does (-1 if none). */
  truncateFrom(from: number, fromOffset: number, lastOffset: number): void {
    assert(from >= this.firstIndex && from <= this.lastIndex + 1, () => `segment truncation at ${from} outside ${this.firstIndex}..${this.lastIndex + 1}`);
    this.offsets = this.offsets.filter((e) => e.index < from);
    this.termRuns = this.termRuns.filter((r) => r.index < from);
    this.lastIndex = from - 1;
    this.bytes = fromOffset;
    this.lastRecordOffset = lastOffset;
    assert((this.empty && fromOffset === 0 && lastOffset === -1) || (!this.empty && lastOffset >= 0 && lastOffset < fromOffset), 'segment truncation offsets');
  }

  /** The offset entry to start a read of `index` from: the last one at or below it. */
  seek(index: number): OffsetEntry {
    assert(index >= this.firstIndex && index <= this.lastIndex, () => `seek ${index} outside ${this.firstIndex}..${this.lastIndex}`);
    return floorBy(this.offsets, index)!;
  }

  /** The term of record `index`. */
  termOf(index: number): number {
    assert(index >= this.firstIndex && index <= this.lastIndex, () => `term ${index} outside ${this.firstIndex}..${this.lastIndex}`);
    return floorBy(this.termRuns, index)!.term;
  }
}

/** The last element whose `index` is <= `index` (binary search), if any. */
function floorBy<T extends { readonly index: number }>(items: readonly T[], index: number): T | undefined {
  let lo = 0;
  let hi = items.length - 1;
  let found: T | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const item = items[mid]!;
    if (item.index <= index) {
      found = item;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
