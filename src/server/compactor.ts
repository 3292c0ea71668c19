/**
 * Log compaction (issue 17, item 5): when this node takes a snapshot of its applied state and
 * drops the log behind it. The runtime calls maybeCompact at the end of every ready-loop turn
 * (after advance) and memberAdded when an applied conf entry added a member.
 *
 * A compaction is due once snapshotEntries applied entries lie behind the last snapshot, or the
 * stored log takes snapshotBytes (with something applied past the snapshot). It keeps at most
 * compactionTrailingEntries entries and at most compactionTrailingBytes bytes behind the applied
 * index, so briefly lagging followers need no snapshot. After a member was added it compacts
 * through the applied index at once: the new member knows no membership and must be brought up
 * by a snapshot, never by a log replay from index 1. Either way the Raft core caps the index
 * (compactionLimit: on a leader, not past a snapshot still being sent), and nothing is
 * done unless the result lies past the current snapshot.
 *
 * When the application keeps copies of log data (message bodies: src/storage/log-copies.ts), a
 * compaction first hands the storage the copies the applied state needs of the entries it will
 * drop (coldWrites, under the ready-loop lock, so the state read is the state stored), a chunk
 * of about copyChunkBytes at a time; a chunk becomes durable with the checkpoint it requests,
 * in the background, the next chunk is taken after that, and the log is compacted no further
 * than its durable copies reach (copiedThrough): over this call and later ones.
 *
 * Storage and the Raft core are reached through narrow interfaces, so tests drive this class
 * with fakes (test/server/compactor.test.ts).
 */
import type { Logger } from 'pino';
import { assert } from '../../raft/assert.js';
import type { StateWrite } from '../storage/index.js';
import type { ConfState } from '../../raft/types.js';
import type { NodeMetrics } from './metrics-hooks.js';

/** What compaction needs of durable storage; DurableStorage has it. */
export interface CompactorStorage {
  appliedIndex(): number;
  snapshot(): { readonly index: number };
  /** Bytes the stored log entries take. */
  logBytes(): number;
  /** The compaction index that keeps at most `bytes` of stored log after it, below `upTo` (at least the snapshot index). */
  indexKeepingBytes(upTo: number, bytes: number): number;
  /** Writes a checkpoint of everything applied, so that appliedIndex() reaches it. */
  checkpoint(): Promise<void>;
  /** The applied index the state machine reflects (appliedIndex() is the last checkpoint's). */
  liveAppliedIndex(): number;
  compact(index: number, confState: ConfState): Promise<void>;
  /** Whether log data is copied before a compaction (the four members below are used only then). */
  readonly copiesLogData?: boolean;
  /** The index through which copies were taken in. */
  copyFloor?(): number;
  /** The index through which copies are durable: compaction may reach it. */
  copiedThrough?(): number;
  /** Takes in the copies of entries after copyFloor() up to `through`. */
  copyOutOfLog?(through: number, writes: readonly StateWrite[]): Promise<void>;
}

/** What compaction needs of the Raft core; RawNode has it. */
export interface CompactorRaft {
  /** `upTo`, lowered on a leader below a snapshot still being sent to a follower. */
  compactionLimit(upTo: number): number;
}

/** The thresholds (NodeRuntimeConfig's, validated by config.ts). */
export interface CompactionSettings {
  readonly snapshotEntries: number;
  readonly compactionTrailingEntries: number;
  readonly snapshotBytes: number;
  readonly compactionTrailingBytes: number;
}

/** What Compactor needs of its node. */
export interface CompactorOptions {
  readonly storage: CompactorStorage;
  readonly raft: CompactorRaft;
  readonly settings: CompactionSettings;
  /** The applied configuration, stored with the snapshot. */
  readonly confState: () => ConfState;
  readonly logger: Pick<Logger, 'info'>;
  /** Clock of the log line's duration, in milliseconds. */
  readonly now: () => number;
  readonly metrics?: Pick<NodeMetrics, 'compacted'> | undefined;
  /** The copies of log data the applied state needs of entries from `from` on, about `bytesMax` bytes at most (Application.coldWrites). */
  readonly coldWrites?: ((from: number, through: number, bytesMax: number) => { readonly writes: StateWrite[]; readonly through: number }) | undefined;
  /** Bytes of copies handed to storage at a time (default copyChunkBytesDefault). */
  readonly copyChunkBytes?: number;
}

/**
 * Copies are taken in chunks of about this many bytes, the next once the last is durable: one
 * checkpoint's worth, so a backlog copied out of the log never makes one huge synced batch
 * (which would stall the segment fsyncs behind it) nor a burst of memory.
 */
export const copyChunkBytesDefault = 1024 * 1024;

/** Decides and performs log compactions: see the module comment. */
export class Compactor {
  readonly #o: CompactorOptions;
  /** Set when an applied conf entry added a member: compact the log at the next chance. */
  #compactNow = false;
  /** The target of a compaction that stopped short of it (copies not yet durable): still due. */
  #unfinished = 0;

  constructor(opts: CompactorOptions) {
    this.#o = opts;
  }

  /** An applied conf entry added a member: the next maybeCompact compacts through the applied index. */
  memberAdded(): void {
    this.#compactNow = true;
  }

  /** Compacts the log if a compaction is due (or forced); the caller holds the ready-loop lock. */
  async maybeCompact(): Promise<void> {
    const { storage, settings } = this.#o;
    const forced = this.#compactNow;
    this.#compactNow = false;
    const live = storage.liveAppliedIndex();
    const snap = storage.snapshot().index;
    const due = live - snap >= settings.snapshotEntries || (storage.logBytes() >= settings.snapshotBytes && live > snap) || this.#unfinished > snap;
    if (!due && !(forced && live > snap)) return;
    // Compaction reaches the checkpoint at most (a restart replays the log after it); storage
    // writes checkpoints in the background, several per compaction interval. A new member is
    // the exception: its snapshot must hold the membership that added it, so one is taken now.
    if (forced) await storage.checkpoint();
    const applied = storage.appliedIndex();
    // Keep at most compactionTrailingEntries entries, and at most compactionTrailingBytes bytes.
    const keep = Math.max(applied - settings.compactionTrailingEntries, storage.indexKeepingBytes(applied, settings.compactionTrailingBytes));
    const limit = this.#o.raft.compactionLimit(forced ? applied : keep);
    if (limit <= snap) return;
    const t0 = this.#o.now();
    const target = await this.#copied(limit, forced);
    this.#unfinished = target < limit ? limit : 0;
    if (target <= snap) return;
    await storage.compact(target, this.#o.confState());
    this.#o.logger.info({ index: target, applied, ms: this.#o.now() - t0 }, 'compacted the log');
    this.#o.metrics?.compacted();
  }

  /** How far the log may be compacted toward `limit` with the copies of its data durable (module comment). */
  async #copied(limit: number, forced: boolean): Promise<number> {
    const { storage, coldWrites } = this.#o;
    if (storage.copiesLogData !== true) return limit;
    assert(coldWrites !== undefined && storage.copyFloor !== undefined && storage.copiedThrough !== undefined && storage.copyOutOfLog !== undefined, 'log data copied without coldWrites');
    const chunk = this.#o.copyChunkBytes ?? copyChunkBytesDefault;
    // One chunk in flight at a time; a new member's snapshot cannot wait: then every chunk now.
    while (storage.copyFloor() < limit && storage.copiedThrough() === storage.copyFloor()) {
      const taken = coldWrites(storage.copyFloor() + 1, limit, chunk);
      await storage.copyOutOfLog(taken.through, taken.writes);
      if (!forced) break;
      await storage.checkpoint();
    }
    return Math.min(limit, storage.copiedThrough());
  }
}
