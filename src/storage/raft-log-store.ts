/**
 * The Raft log of a data directory, in the segment log (src/storage/segment-log) under
 * `<dir>/log`: one segment record per entry, its payload the entry's type code and data. What
 * Raft needs beyond "contiguous indexes, terms never decrease" lives here: a save that
 * overwrites a conflicting suffix, a compaction, a log replaced by a snapshot, and the open-time
 * reconciliation of the log with the snapshot meta that LevelDB holds (durable-storage.ts).
 *
 * Reconciliation at open. The snapshot meta in LevelDB is the authority on where the log
 * starts; the segments may disagree after a crash, and only in these ways, each of which is
 * resolved here:
 * - records at or below the snapshot index: a compaction deletes whole segments after its
 *   synced meta, and keeps the segment holding the snapshot's next index; they are skipped;
 * - a log that ends before the snapshot index, or whose entry at the snapshot index has
 *   another term: a snapshot install switched LevelDB (synced) and crashed before it replaced
 *   the log (or before that replacement was durable): the log is replaced now (logged);
 * - a log whose first record lies after the snapshot's next index: entries that were promised
 *   are missing. Never the result of a crash: StorageCorruptionError.
 */
import { assert } from '../../raft/assert.js';
import type { Entry, EntryType, SnapshotMeta } from '../../raft/types.js';
import { StorageCorruptionError } from './errors.js';
import type { StorageLogger } from './logger.js';
import type { SegmentDisk } from './segment-log/segment-disk.js';
import { SegmentLog, type UnsafeSegmentLogMode } from './segment-log/segment-log.js';
import type { SegmentRecord } from './segment-log/record-format.js';

/** The subdirectory of a data directory that holds the Raft log's segments. */
export const logDirName = 'log';

const typeCodes: Record<EntryType, number> = { normal: 0, conf: 1 };

/** Options of RaftLogStore.open. */
export interface RaftLogStoreOptions {
  readonly logger: StorageLogger;
  /** Largest segment file in bytes (segment-log-options.ts); default 64 MiB. */
  readonly segmentBytesMax?: number;
  /** TEST ONLY: a negative control that skips a sync step (segment-log-options.ts). */
  readonly unsafe?: UnsafeSegmentLogMode;
  /** TEST ONLY: false skips record checksums (the skip-checksums negative control). */
  readonly verifyChecksums?: boolean;
}

/** The Raft log in segments (module comment). Calls are serialized by the caller. */
export class RaftLogStore {
  readonly #log: SegmentLog;

  private constructor(log: SegmentLog) {
    this.#log = log;
  }

  /**
   * Opens (creating) `<dir>/log`, reconciles it with `snapshot` (module comment) and returns
   * the store with the entries after the snapshot, verified and contiguous.
   */
  static async open(disk: SegmentDisk, dir: string, snapshot: SnapshotMeta, opts: RaftLogStoreOptions): Promise<{ store: RaftLogStore; entries: Entry[] }> {
    // The skip-dir-fsync control syncs no directory: this one would make LevelDB's files durable too.
    const logDir = await disk.makeDir(dir, logDirName, opts.unsafe !== 'skip-dir-fsync');
    const log = await SegmentLog.open(logDir, disk, {
      logger: opts.logger,
      firstIndexIfEmpty: snapshot.index + 1,
      ...(opts.segmentBytesMax !== undefined ? { segmentBytesMax: opts.segmentBytesMax } : {}),
      ...(opts.unsafe !== undefined ? { unsafe: opts.unsafe } : {}),
      ...(opts.verifyChecksums === false ? { verifyChecksums: false } : {}),
    });
    try {
      const store = new RaftLogStore(log);
      await store.#reconcile(snapshot, opts.logger);
      return { store, entries: await store.#readAfter(snapshot.index) };
    } catch (err) {
      await log.close();
      throw err;
    }
  }

  /** Index of the last stored entry (the snapshot index when none is after it). */
  lastIndex(): number {
    return this.#log.lastIndex();
  }

  /**
   * Writes `entries` (contiguous, the first at most lastIndex() + 1, none at or below the
   * snapshot), first removing a stored suffix they overwrite. Durable after sync().
   */
  async write(entries: readonly Entry[]): Promise<void> {
    const head = entries[0];
    if (head === undefined) return;
    if (head.index <= this.#log.lastIndex()) await this.#log.truncateSuffix(head.index);
    this.#log.append(entries.map(toRecord));
  }

  /** Makes every write before it durable (group commit: one fdatasync per changed segment). */
  sync(): Promise<void> {
    return this.#log.sync();
  }

  /**
   * Replaces the whole log by an empty one whose next index is `nextIndex` (a snapshot was
   * installed at nextIndex - 1), durably. A crash on the way leaves the old log or a prefix of
   * it, which the next open's reconciliation replaces.
   */
  async replace(nextIndex: number): Promise<void> {
    const log = this.#log;
    if (log.lastIndex() < log.firstIndex() && log.firstIndex() === nextIndex) return;
    if (log.lastIndex() >= nextIndex) await log.truncateSuffix(log.firstIndex());
    await log.reset(nextIndex);
  }

  /**
   * Deletes the segments wholly at or below `index` (a compaction; its snapshot meta is already
   * durable). Durable after the next sync(); a deleted segment that comes back lies at or below
   * the snapshot and is skipped at open.
   */
  async compact(index: number): Promise<void> {
    await this.#log.compactPrefix(index);
  }

  /** Closes the files; writes not synced are dropped. */
  close(): Promise<void> {
    return this.#log.close();
  }

  async #reconcile(snapshot: SnapshotMeta, logger: StorageLogger): Promise<void> {
    const log = this.#log;
    const first = log.firstIndex();
    const last = log.lastIndex();
    if (first > snapshot.index + 1) {
      throw new StorageCorruptionError(`log[${snapshot.index + 1}]`, snapshot.index + 1, `entry missing: the snapshot ends at ${snapshot.index} and the stored log starts at ${first} (gap in the log)`);
    }
    const behind = last < snapshot.index;
    const otherTerm = !behind && snapshot.index >= first && snapshot.index > 0 && log.term(snapshot.index) !== snapshot.term;
    if (behind || otherTerm) {
      logger.warn({ snapshot: snapshot.index, snapshotTerm: snapshot.term, logFirst: first, logLast: last }, 'replacing a log that does not continue the snapshot (an install interrupted before it replaced the log)');
      await this.replace(snapshot.index + 1);
    }
  }

  /** The entries after `index`, decoded, in one read. */
  async #readAfter(index: number): Promise<Entry[]> {
    const last = this.#log.lastIndex();
    if (last <= index) return [];
    const records = await this.#log.entries(index + 1, last + 1);
    assert(records.length === last - index, () => `read ${records.length} records of [${index + 1}, ${last}]`);
    return records.map(fromRecord);
  }
}

/** The segment record of an entry: payload = type code, then data. */
function toRecord(e: Entry): SegmentRecord {
  const payload = Buffer.allocUnsafe(1 + e.data.length);
  payload[0] = typeCodes[e.type];
  payload.set(e.data, 1);
  return { term: e.term, index: e.index, payload };
}

/** The entry of a segment record (its checksum was verified by the segment log). */
function fromRecord(r: SegmentRecord): Entry {
  const code = r.payload[0];
  const type: EntryType | undefined = code === 0 ? 'normal' : code === 1 ? 'conf' : undefined;
  if (type === undefined) throw new StorageCorruptionError(`log[${r.index}]`, r.index, `unknown entry type ${code ?? 'none'} (empty payload?)`);
  return { index: r.index, term: r.term, type, data: r.payload.subarray(1) };
}
