/**
 * The types of DurableStorage's interface (durable-storage.ts): its options, one Ready's save,
 * applied changes, and the reads of the applied state.
 */
import type { ConfState, Entry, HardState, SnapshotMeta } from '../../raft/types.js';
import type { Db } from './level-db.js';
import type { StorageLogger } from './logger.js';
import type { StateWrite } from './pending-writes.js';
import type { SegmentDisk } from './segment-log/segment-disk.js';
import type { UnsafeSegmentLogMode } from './segment-log/segment-log-options.js';

/** Options of DurableStorage.open. */
export interface DurableStorageOptions {
  /** The cluster this directory belongs to; written on first open, checked afterwards. */
  readonly clusterId: string;
  /** This node's id; written on first open, checked afterwards. */
  readonly nodeId: string;
  /** Membership of a brand-new directory (bootstrap). Ignored once the directory exists. */
  readonly initialConfState?: ConfState;
  /** Structured logger (pino fits). Defaults to silence. */
  readonly logger?: StorageLogger;
  /**
   * Opens the directory's LevelDB (verifying its files first, level-db.ts); defaults to
   * level-db.ts openDb. Tests pass a wrapper that records every write with its sync flag to
   * simulate a power cut (test/storage/power-cut.ts); test mode's negative controls pass theirs.
   */
  readonly openDb?: (dir: string, logger?: StorageLogger) => Promise<Db>;
  /**
   * Whether to verify the checksums of log entries, records and applied values (default true).
   * False only for the skip-checksums negative control (test mode): damage is then served.
   */
  readonly verifyChecksums?: boolean;
  /** The file system of the log's segments; default the real one. Tests pass a SimDisk. */
  readonly segmentDisk?: SegmentDisk;
  /** Largest segment file in bytes (segment-log-options.ts); default 64 MiB. */
  readonly segmentBytesMax?: number;
  /** TEST ONLY: a segment-log negative control that skips a sync step. */
  readonly unsafeSegmentLog?: UnsafeSegmentLogMode;
  /** Checkpoint once this many entries were applied since the last one (default: checkpointer.ts). */
  readonly checkpointEntries?: number;
  /** Checkpoint once the entries applied since the last one take this many bytes of log (default: checkpointer.ts). */
  readonly checkpointLogBytes?: number;
  /** Checkpoint once the pending changes take this many bytes of memory (default: checkpointer.ts). */
  readonly checkpointBytes?: number;
  /** The application's applied keys that copy log data (durable-storage.ts, "Log-backed keys"); none when absent. */
  readonly logBacked?: LogBackedKeys;
}

/**
 * Applied keys whose values copy data of log entries (message bodies: src/queue/log-bodies.ts),
 * written only for entries the log drops while the data is still needed: the application says
 * which keys they are, the storage keeps them consistent with its log (durable-storage.ts,
 * "Log-backed keys").
 */
export interface LogBackedKeys {
  /** The log index whose data the value of `key` copies; undefined for every other key. */
  entryOf(key: Uint8Array): number | undefined;
  /** The range of keys copying data of entries after `index`: [gte, lt). */
  keysAfter(index: number): { readonly gte: Uint8Array; readonly lt: Uint8Array };
  /**
   * For a snapshot that covers `entries` (the log after the sender's own compaction, up to the
   * snapshot index): sees every pair the snapshot sends, then adds the copies it must carry
   * because its receiver's log will start after them.
   */
  snapshotCopies(entries: readonly Entry[]): SnapshotCopies;
}

/** One snapshot's collector of copies (LogBackedKeys.snapshotCopies). */
export interface SnapshotCopies {
  /** Sees one pair of the snapshot (in key order). */
  observe(key: Uint8Array, value: Uint8Array): void;
  /** The pairs to add after the last one. */
  finish(): Iterable<[Uint8Array, Uint8Array]>;
}

/** One Raft Ready's persistence. */
export interface SaveBatch {
  /** New entries; a conflicting suffix of the stored log is truncated. Compacted ones are skipped. */
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
  /**
   * Snapshot meta from the Ready. Its state must already be installed with installSnapshot();
   * saving it replaces the log. Saving the current snapshot meta again is a no-op.
   */
  readonly snapshot?: SnapshotMeta;
  /**
   * State-machine changes of the entries applied since the last save: kept in memory and
   * written by the next checkpoint (module comment), which this save makes when one is due.
   * Requires sync.
   */
  readonly applied?: AppliedChanges;
  /**
   * Whether to fsync (default true). Only a commit-index-only change may skip it (asserted: no
   * entries, snapshot or applied changes, same term and vote): a lost commit index is re-learned
   * from the leader, and open() raises a commit below the applied index to it (module comment).
   */
  readonly sync?: boolean;
}

/** State-machine changes and the applied index and membership they bring the state to. */
export interface AppliedChanges {
  readonly writes: readonly StateWrite[];
  /** Invariant: at least the current applied index, at most the last index after the write. */
  readonly appliedIndex: number;
  readonly confState: ConfState;
}

/** What one save cost. */
export interface SaveResult {
  /** Wall time of the save's syncs (segments and LevelDB) in milliseconds (0 when there was nothing to write). */
  readonly syncMs: number;
  /** Entries written (after skipping compacted ones). */
  readonly entryCount: number;
}

/** Reads of the applied state, as the queue state machine sees it. */
export interface StateReader {
  /** The value at `key`, or undefined. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** The values of `keys` in order (undefined where absent), in one read. */
  getMany(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>>;
  /** Pairs whose key starts with `prefix`, in key order, from a consistent point in time. */
  iterate(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** Options of openSnapshotReader. */
export interface SnapshotReaderOptions {
  /** Bound on a chunk's size in bytes; defaults to snapshotChunkBytesMax (1 MiB). */
  readonly chunkBytesMax?: number;
}

/** What installSnapshot wrote. */
export interface InstallResult {
  readonly pairCount: number;
  readonly chunkCount: number;
}
