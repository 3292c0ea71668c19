/**
 * Byte accounting of the stored Raft log, for compaction decisions (src/server/compactor.ts):
 * how many bytes the log holds, and which compaction index keeps at most so many bytes behind
 * an index. The log is accounted in *runs*, one per save (the entries of one Ready), because
 * that is the granularity in which a lagging follower is sent entries again: the run holding
 * an index is kept whole, so a follower one Ready behind never needs a snapshot, however large
 * that Ready was.
 *
 * Memory only: rebuilt at open from the entries loaded (one run per segment-log read batch), it
 * is a measure, not a record of where anything is stored.
 */
import { assert } from '../../raft/assert.js';
import type { Entry } from '../../raft/types.js';

/** One run of consecutive entries and the bytes they take. Invariant: first <= last. */
interface Run {
  readonly first: number;
  readonly last: number;
  readonly bytes: number;
}

/** Bytes an entry is accounted for: its data plus a fixed record overhead (framing, type). */
export function entryBytes(e: Entry): number {
  return e.data.length + entryOverheadBytes;
}

/** The segment record header (28 bytes) and the entry's type byte. */
const entryOverheadBytes = 29;

/** The runs of the stored log, contiguous, in index order (module comment). */
export class LogRuns {
  /** Invariant: contiguous; the first may start at or before the snapshot's next index. */
  #runs: Run[] = [];
  /** Invariant: the sum of the runs' bytes. */
  #bytes = 0;

  /** Bytes of the stored log. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Accounts `entries` (contiguous) as one run, dropping what they overwrite: runs from the
   * first new index on go, and a run straddling it keeps the bytes of its entries before it,
   * measured by `keptBytes(first, lastExclusive)`.
   */
  append(entries: readonly Entry[], keptBytes: (from: number, toExclusive: number) => number): void {
    const head = entries[0];
    if (head === undefined) return;
    this.truncateFrom(head.index, keptBytes);
    let bytes = 0;
    for (const e of entries) bytes += entryBytes(e);
    this.#push({ first: head.index, last: entries[entries.length - 1]!.index, bytes });
  }

  /** Forgets the runs from `index` on; a run straddling it keeps `keptBytes` of its head. */
  truncateFrom(index: number, keptBytes: (from: number, toExclusive: number) => number): void {
    while (this.#runs.length > 0 && this.#runs[this.#runs.length - 1]!.last >= index) {
      const run = this.#runs.pop()!;
      this.#bytes -= run.bytes;
      if (run.first < index) this.#push({ first: run.first, last: index - 1, bytes: keptBytes(run.first, index) });
    }
  }

  /** Forgets the runs wholly at or below `index` (compacted). */
  dropThrough(index: number): void {
    let n = 0;
    while (n < this.#runs.length && this.#runs[n]!.last <= index) this.#bytes -= this.#runs[n++]!.bytes;
    this.#runs.splice(0, n);
  }

  /** Forgets every run (the log was replaced by a snapshot). */
  clear(): void {
    this.#runs = [];
    this.#bytes = 0;
  }

  /**
   * The compaction index that keeps at most `bytes` of log after it, below `upTo`: whole runs
   * are kept from `upTo` backwards while they fit, and the run holding `upTo` is always kept.
   * At least `floor` (the snapshot index).
   */
  indexKeepingBytes(upTo: number, bytes: number, floor: number): number {
    let kept = 0;
    let first = true;
    for (let k = this.#runs.length - 1; k >= 0; k--) {
      const r = this.#runs[k]!;
      if (r.first > upTo) continue;
      kept += r.bytes;
      if (kept > bytes) return Math.max(floor, Math.min(upTo, first ? r.first - 1 : r.last));
      first = false;
    }
    return floor;
  }

  /** Asserts the runs cover exactly [from, last] (or nothing when last < from); #push keeps them contiguous. */
  checkCovers(from: number, last: number): void {
    const runs = this.#runs;
    if (last < from) {
      assert(runs.length === 0 || runs[runs.length - 1]!.last < from, () => `log runs reach ${runs[runs.length - 1]!.last} in an empty log at ${from}`);
      return;
    }
    // Ends only: contiguity is asserted as each run is pushed (this runs every save).
    assert(runs.length > 0 && runs[0]!.first <= from && runs[runs.length - 1]!.last === last, () => `log runs do not cover [${from}, ${last}]`);
  }

  #push(run: Run): void {
    assert(run.first <= run.last, () => `empty run [${run.first}, ${run.last}]`);
    const prev = this.#runs[this.#runs.length - 1];
    assert(prev === undefined || run.first === prev.last + 1, () => `run at ${run.first} does not follow ${prev?.last}`);
    this.#runs.push(run);
    this.#bytes += run.bytes;
  }
}
