/**
 * The segmented log: records {term, index, payload} with contiguous indexes, in append-only
 * segment files of bounded size, named by their first index. Pure storage: it knows nothing of
 * Raft's rules beyond "indexes are contiguous and terms never decrease".
 *
 * Durability contract.
 * - append() only buffers (in the last segment, rolling to a new one when full); nothing
 *   appended is durable, or even written, until a later sync() resolves. Appended records are
 *   readable at once.
 * - sync() is the group commit: it writes every unwritten record and fdatasyncs each changed
 *   segment once, in index order, creating a rolled segment's file only after the segment
 *   before it is durable (so every segment but the last is whole on disk: recovery.ts relies
 *   on it). It fsyncs the directory first if segment files were deleted since the last sync
 *   (a truncation's deletions must be durable before the records that replace them), and last
 *   if segment files were created. When it resolves, everything appended before it was called
 *   survives a power loss. Appends made while it runs ride the next sync.
 * - reset() is durable when it resolves (segment-reset.ts).
 * - truncateSuffix() and compactPrefix() change the files at once but are durable only after
 *   the next sync(); until then a power loss may bring the removed records back (never a mix:
 *   sync's ordering above). A truncation that deletes whole segments fsyncs the directory
 *   before it cuts the segment holding `from`, so that no file system can keep the cut
 *   without the deletions (a gap at open).
 * - A failed disk operation (ENOSPC, EIO) fails the log: every later call throws the same typed
 *   error (StorageFullError, StorageIoError). A failed fdatasync is never retried.
 * - close() closes the files; what was appended and not synced is dropped.
 *
 * Concurrency: op-gate.ts. Recovery at open: recovery.ts.
 */
import { assert } from '../../../raft/assert.js';
import { typedDiskError } from '../disk-errors.js';
import { LogCompactedError } from '../errors.js';
import { type StorageLogger, silentLogger } from '../logger.js';
import { OpGate } from './op-gate.js';
import { segmentBytesMaxDefault, segmentBytesMaxLimit, type SegmentLogOptions, type UnsafeSegmentLogMode } from './segment-log-options.js';
import { encodeRecord, recordPayloadBytesMax, type SegmentRecord } from './record-format.js';
import { type RecoveryReport, recoverSegments } from './recovery.js';
import type { SegmentDisk } from './segment-disk.js';
import { indexFileName, segmentFileName } from './segment-names.js';
import { indexIntervalBytesDefault, SegmentSummary } from './segment-summary.js';
import { Segment } from './segment.js';
import { checkSegmentInvariants } from './segment-invariants.js';
import { resetSegmentFiles } from './segment-reset.js';
import { removeIfPresent, writeIndexSidecar } from './sidecar-files.js';

export { segmentBytesMaxDefault, type SegmentLogOptions, type UnsafeSegmentLogMode } from './segment-log-options.js';

/** A segmented, checksummed, append-only log of records in one directory. */
export class SegmentLog {
  readonly #dir: string;
  readonly #disk: SegmentDisk;
  readonly #logger: StorageLogger;
  readonly #segmentBytesMax: number;
  readonly #indexIntervalBytes: number;
  readonly #firstIndexIfEmpty: number;
  readonly #unsafe: UnsafeSegmentLogMode | undefined;
  /** False only for the skip-checksums negative control. */
  readonly #verify: boolean;
  readonly #gate = new OpGate();
  /** Invariant: in index order, contiguous; only the last may be empty; terms never decrease. */
  #segments: Segment[];
  /** Segment files were deleted since the last directory fsync. */
  #dirRemovalsPending = false;
  /** The error that failed the log; every later operation throws it. */
  #failed: unknown;
  #closed = false;
  /** What recovery found when the log was opened. */
  readonly recovery: RecoveryReport;

  private constructor(dir: string, disk: SegmentDisk, options: SegmentLogOptions, segments: Segment[], recovery: RecoveryReport) {
    this.#dir = dir;
    this.#disk = disk;
    this.#logger = options.logger ?? silentLogger;
    this.#segmentBytesMax = options.segmentBytesMax ?? segmentBytesMaxDefault;
    this.#indexIntervalBytes = options.indexIntervalBytes ?? indexIntervalBytesDefault;
    this.#firstIndexIfEmpty = options.firstIndexIfEmpty ?? 1;
    this.#unsafe = options.unsafe;
    this.#verify = options.verifyChecksums ?? true;
    this.#segments = segments;
    this.recovery = recovery;
    assert(this.#segmentBytesMax > 0 && this.#segmentBytesMax <= segmentBytesMaxLimit, () => `segmentBytesMax ${this.#segmentBytesMax} outside 1..${segmentBytesMaxLimit}`);
    assert(this.#indexIntervalBytes > 0, 'indexIntervalBytes must be positive');
    assert(Number.isSafeInteger(this.#firstIndexIfEmpty) && this.#firstIndexIfEmpty >= 1, 'firstIndexIfEmpty must be a positive integer');
    this.#checkInvariants();
  }

  /**
   * Opens the log in the existing directory `dir`, recovering its segments (recovery.ts): a
   * torn tail is cut and reported in `recovery`; damage throws SegmentCorruptionError
   * (STORAGE_CORRUPT); disk faults throw StorageFullError or StorageIoError.
   */
  static async open(dir: string, disk: SegmentDisk, options: SegmentLogOptions = {}): Promise<SegmentLog> {
    const interval = options.indexIntervalBytes ?? indexIntervalBytesDefault;
    try {
      const { segments, report } = await recoverSegments(dir, disk, interval, options.logger ?? silentLogger, options.verifyChecksums ?? true);
      return new SegmentLog(dir, disk, options, segments, report);
    } catch (err) {
      throw typedDiskError(err, dir, 'opening the segment log');
    }
  }

  /** The index of the first record (or of the next append when the log is empty). */
  firstIndex(): number {
    return this.#segments[0]?.summary.firstIndex ?? this.#firstIndexIfEmpty;
  }

  /** The index of the last record; firstIndex() - 1 when the log is empty. */
  lastIndex(): number {
    const last = this.#segments.at(-1);
    return last === undefined ? this.#firstIndexIfEmpty - 1 : last.summary.lastIndex;
  }

  /** The term of record `index`. Below firstIndex() throws LogCompactedError; index <= lastIndex() is asserted. */
  term(index: number): number {
    this.#checkUsable();
    if (index < this.firstIndex()) throw new LogCompactedError(index, this.firstIndex());
    return this.#segmentAt(index).summary.termOf(index);
  }

  /**
   * Appends `entries` (contiguous, the first at lastIndex() + 1, terms not decreasing) to the
   * unwritten tail: not durable until a sync() called afterwards resolves. Must not be called
   * while a truncation or compaction is pending (await it first).
   */
  append(entries: readonly SegmentRecord[]): void {
    this.#checkUsable();
    assert(!this.#gate.destructivePending, 'append while a truncation or compaction is pending');
    for (const e of entries) {
      assert(Number.isSafeInteger(e.index) && e.index === this.lastIndex() + 1, () => `append of index ${e.index} after ${this.lastIndex()}`);
      assert(Number.isSafeInteger(e.term) && e.term >= 1 && e.term >= this.#lastTerm(), () => `append of term ${e.term} after ${this.#lastTerm()}`);
      assert(e.payload.length <= recordPayloadBytesMax, () => `payload of ${e.payload.length} bytes exceeds recordPayloadBytesMax`);
      const bytes = encodeRecord(e);
      let seg = this.#segments.at(-1);
      if (seg === undefined || (!seg.summary.empty && seg.summary.bytes + bytes.length > this.#segmentBytesMax)) {
        seg = new Segment(segmentFileName(e.index), new SegmentSummary(e.index, this.#indexIntervalBytes), undefined, false);
        this.#segments.push(seg);
      }
      seg.appendRecord(bytes, e.term, e.index);
    }
    const last = entries.at(-1);
    assert(last === undefined || (this.lastIndex() === last.index && this.term(last.index) === last.term), 'append did not land at the end');
  }

  /** Makes everything appended before this call durable (the contract above). */
  sync(): Promise<void> {
    return this.#gate.mutate(false, async () => {
      this.#checkUsable();
      this.#checkInvariants();
      try {
        if (this.#dirRemovalsPending) await this.#syncDir();
        this.#dirRemovalsPending = false;
        const plan = this.#segments.filter((s) => s.pending.length > 0 || s.needsDatasync).map((seg) => ({ seg, chunks: seg.pending.length }));
        let created = false;
        for (const { seg, chunks } of plan) {
          if (seg.file === undefined) {
            seg.file = await this.#disk.open(this.#dir, seg.name, 'create');
            created = true;
          }
          if (chunks > 0) await seg.file.append(seg.pendingPrefix(chunks));
          seg.markWritten(chunks);
          if (this.#unsafe !== 'skip-fdatasync') await seg.file.datasync();
          seg.needsDatasync = false;
        }
        if (created) await this.#syncDir();
      } catch (err) {
        throw this.#fail(err, 'write or fsync of a segment');
      }
      await this.#writeSealedIndexes();
      this.#checkInvariants();
    });
  }

  /**
   * The records [lo, hiExclusive), stopping early once their payloads would exceed
   * `payloadBytesMax` (the first always comes). lo below firstIndex() throws LogCompactedError;
   * lo <= hiExclusive <= lastIndex() + 1 is asserted (a caller bug). A damaged record throws
   * SegmentCorruptionError; it is never returned.
   */
  entries(lo: number, hiExclusive: number, payloadBytesMax = Number.POSITIVE_INFINITY): Promise<SegmentRecord[]> {
    return this.#gate.read(async () => {
      this.#checkUsable();
      if (lo < this.firstIndex()) throw new LogCompactedError(lo, this.firstIndex());
      assert(lo <= hiExclusive && hiExclusive <= this.lastIndex() + 1, () => `entries [${lo}, ${hiExclusive}) outside [${this.firstIndex()}, ${this.lastIndex() + 1})`);
      const out: SegmentRecord[] = [];
      let payloadBytes = 0;
      let index = lo;
      try {
        while (index < hiExclusive) {
          const seg = this.#segmentAt(index);
          const to = Math.min(hiExclusive - 1, seg.summary.lastIndex);
          const got = await seg.readRecords(seg.summary.seek(index), index, to, payloadBytesMax - payloadBytes, out.length === 0, this.#verify);
          for (const r of got) {
            out.push(r.record);
            payloadBytes += r.record.payload.length;
          }
          if (index + got.length <= to) break; // the byte limit stopped it
          index = to + 1;
        }
      } catch (err) {
        throw typedDiskError(err, this.#dir, 'read of a segment');
      }
      return out;
    });
  }

  /**
   * Removes the records from `from` on (a conflicting suffix): deletes later segments whole and
   * cuts the one holding `from`. Durable after the next sync(). Invariant: firstIndex() <= from
   * <= lastIndex() + 1. Truncating from firstIndex() empties the log but keeps its first
   * segment file (empty), whose name keeps the next index across a restart.
   */
  truncateSuffix(from: number): Promise<void> {
    return this.#gate.mutate(true, async () => {
      this.#checkUsable();
      this.#checkInvariants();
      assert(from >= this.firstIndex() && from <= this.lastIndex() + 1, () => `truncation at ${from} outside [${this.firstIndex()}, ${this.lastIndex() + 1}]`);
      try {
        while (this.#segments.length > 1 && this.#segments.at(-1)!.summary.firstIndex >= from) await this.#remove(this.#segments.pop()!);
        // The deletions are made durable before the cut below can be: a cut segment must never
        // be found shorter on disk with a deleted later segment still there (a gap at open).
        if (this.#dirRemovalsPending) await this.#syncDir();
        this.#dirRemovalsPending = false;
        const seg = this.#segments.at(-1);
        if (seg !== undefined && from <= seg.summary.lastIndex) await this.#cut(seg, from);
      } catch (err) {
        throw this.#fail(err, 'truncation of a segment');
      }
      assert(this.lastIndex() === from - 1, () => `truncation at ${from} left last index ${this.lastIndex()}`);
      this.#checkInvariants();
    });
  }

  /**
   * Deletes every segment whose records are all at or below `upTo`, except the last segment,
   * and returns the new firstIndex(). So the first index moves to the start of the first
   * remaining segment: records at or below `upTo` that share a segment with later ones stay
   * readable. No metadata is kept: the first segment's name is the first index. Durable after
   * the next sync(); until then a power loss may bring deleted segments back.
   */
  compactPrefix(upTo: number): Promise<number> {
    return this.#gate.mutate(true, async () => {
      this.#checkUsable();
      this.#checkInvariants();
      try {
        while (this.#segments.length > 1 && this.#segments[0]!.summary.lastIndex <= upTo) await this.#remove(this.#segments.shift()!);
      } catch (err) {
        throw this.#fail(err, 'deletion of a segment');
      }
      this.#checkInvariants();
      return this.firstIndex();
    });
  }

  /**
   * Discards every record and leaves the log empty with firstIndex() === nextIndex (a follower
   * installing a snapshot past its log's end); the next append must be nextIndex. Durable when
   * it resolves (and so after the next sync()): a power loss at any point reopens either the old
   * log or the new empty one (the file order is segment-reset.ts). Invariant: nextIndex >
   * lastIndex(), or the log is already empty at nextIndex.
   */
  reset(nextIndex: number): Promise<void> {
    return this.#gate.mutate(true, async () => {
      this.#checkUsable();
      this.#checkInvariants();
      const emptyThere = this.lastIndex() < this.firstIndex() && this.firstIndex() === nextIndex;
      assert(Number.isSafeInteger(nextIndex) && (nextIndex > this.lastIndex() || emptyThere), () => `reset to ${nextIndex} not past the last index ${this.lastIndex()}`);
      try {
        const fresh = await resetSegmentFiles(this.#disk, this.#dir, this.#segments, nextIndex, this.#indexIntervalBytes, () => this.#syncDir());
        this.#segments = [fresh];
        this.#dirRemovalsPending = false;
      } catch (err) {
        throw this.#fail(err, 'reset of the segments');
      }
      assert(this.firstIndex() === nextIndex && this.lastIndex() === nextIndex - 1, () => `reset to ${nextIndex} left [${this.firstIndex()}, ${this.lastIndex()}]`);
      this.#checkInvariants();
    });
  }

  /** Closes every file after the operations called before. Appends not synced are dropped. */
  close(): Promise<void> {
    return this.#gate.mutate(true, async () => {
      if (this.#closed) return;
      this.#closed = true;
      await Promise.allSettled(this.#segments.map((s) => s.file?.close()));
    });
  }

  /** The segment holding record `index`. */
  #segmentAt(index: number): Segment {
    assert(index >= this.firstIndex() && index <= this.lastIndex(), () => `index ${index} outside [${this.firstIndex()}, ${this.lastIndex()}]`);
    let lo = 0;
    let hi = this.#segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#segments[mid]!.summary.firstIndex <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.#segments[lo]!;
  }

  /** The term of the last record, or 0 when the log is empty. */
  #lastTerm(): number {
    for (let i = this.#segments.length - 1; i >= 0; i--) {
      const s = this.#segments[i]!.summary;
      if (!s.empty) return s.lastTerm;
    }
    return 0;
  }

  /** Cuts `seg` so that its last record is from - 1. */
  async #cut(seg: Segment, from: number): Promise<void> {
    const s = seg.summary;
    let fromOffset = 0;
    let lastOffset = -1;
    if (from > s.firstIndex) {
      const [prev] = await seg.readRecords(s.seek(from - 1), from - 1, from - 1, Number.POSITIVE_INFINITY, true, this.#verify);
      assert(prev !== undefined, 'the record before a truncation point was not read');
      lastOffset = prev.offsetBytes;
      fromOffset = prev.offsetBytes + prev.recordBytes;
    }
    if (fromOffset >= seg.writtenBytes) {
      seg.dropPendingFrom(fromOffset);
    } else {
      assert(seg.file !== undefined, 'written bytes without a file');
      seg.pending.length = 0;
      await seg.file.truncate(fromOffset);
      seg.writtenBytes = fromOffset;
      seg.needsDatasync = true;
    }
    s.truncateFrom(from, fromOffset, lastOffset);
    seg.indexWritten = false;
    // A sidecar of the longer content must not outlive it (it is checked at open, but cheaply).
    if (seg.file !== undefined && (await removeIfPresent(this.#disk, this.#dir, indexFileName(seg.name)))) this.#dirRemovalsPending = true;
  }

  /** Deletes the files of a segment already taken out of #segments. */
  async #remove(seg: Segment): Promise<void> {
    if (seg.file === undefined) return;
    await seg.file.close();
    await this.#disk.unlink(this.#dir, seg.name);
    await removeIfPresent(this.#disk, this.#dir, indexFileName(seg.name));
    this.#dirRemovalsPending = true;
  }

  /** Writes the sidecar of each sealed segment that has none for its content. A cache: failures are logged, not thrown. */
  async #writeSealedIndexes(): Promise<void> {
    for (const seg of this.#segments.slice(0, -1)) {
      if (seg.indexWritten || seg.file === undefined || seg.pendingBytes > 0 || seg.summary.empty) continue;
      try {
        await writeIndexSidecar(this.#disk, this.#dir, seg.name, seg.summary);
        seg.indexWritten = true;
      } catch (err) {
        this.#logger.warn({ dir: this.#dir, segment: seg.name, err }, 'segment log: could not write an offset index sidecar (it will be rebuilt at open)');
      }
    }
  }

  async #syncDir(): Promise<void> {
    if (this.#unsafe !== 'skip-dir-fsync') await this.#disk.syncDir(this.#dir);
  }

  /** Fails the log with `err` as a typed error, and returns that error to throw. */
  #fail(err: unknown, operation: string): unknown {
    this.#failed ??= typedDiskError(err, this.#dir, operation);
    return this.#failed;
  }

  #checkUsable(): void {
    assert(!this.#closed, 'segment log used after close');
    if (this.#failed !== undefined) throw this.#failed;
  }

  /** Asserts the invariants of #segments (segment-invariants.ts). */
  #checkInvariants(): void {
    checkSegmentInvariants(this.#segments);
  }
}
