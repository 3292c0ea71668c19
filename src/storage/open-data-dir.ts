/**
 * Opening a data directory (DurableStorage.open): its identity, the records in LevelDB, the
 * migrations of older layouts (migrate.ts, then convert-log.ts), the Raft log's segments
 * reconciled with the snapshot (raft-log-store.ts), the records checked against the log, the
 * application's copies of log data the log still holds deleted (log-copies.ts), and the read
 * cache the Raft core reads from. Anything it opened is closed again if a step fails.
 */
import { MemoryStorage } from '../../raft/storage.js';
import type { AppliedMeta } from './codec.js';
import { convertLogToSegments } from './convert-log.js';
import type { DurableStorageOptions } from './durable-storage-types.js';
import { type Db, openDb } from './level-db.js';
import { LogCopies } from './log-copies.js';
import { checkAgainstLog, checkIdentity, checksummedValuesVersion, formatVersion, loadMeta, segmentLogVersion } from './load.js';
import { encodeRecord } from './codec.js';
import { identityKey } from './keys.js';
import type { StorageLogger } from './logger.js';
import { migrateAppliedValues } from './migrate.js';
import { RaftLogStore } from './raft-log-store.js';
import { readRecoveringMarker, type RecoveringMarker } from './recovering.js';
import { nodeDisk } from './segment-log/node-disk.js';

/** What an opened data directory holds. */
export interface OpenedDataDir {
  readonly db: Db;
  readonly log: RaftLogStore;
  /** The read cache: the log after the snapshot, the hard state, the snapshot meta. */
  readonly mem: MemoryStorage;
  /** The checkpoint the applied state is at. */
  readonly applied: AppliedMeta;
  readonly recovering: RecoveringMarker | undefined;
}

/** Opens `dir` (module comment); throws the typed errors DurableStorage.open documents. */
export async function openDataDir(dir: string, opts: DurableStorageOptions, logger: StorageLogger, verify: boolean): Promise<OpenedDataDir> {
  const disk = opts.segmentDisk ?? nodeDisk;
  const db = await (opts.openDb ?? openDb)(dir, logger);
  let log: RaftLogStore | undefined;
  try {
    const storedVersion = await checkIdentity(db, dir, opts.clusterId, opts.nodeId, verify);
    const meta = await loadMeta(db, opts.initialConfState ?? { voters: [], learners: [] }, logger, verify);
    const applied = storedVersion < checksummedValuesVersion ? await migrateAppliedValues(db, meta.applied, opts, storedVersion, logger) : meta.applied;
    const segmentOpts = { logger, verifyChecksums: verify, ...(opts.segmentBytesMax !== undefined ? { segmentBytesMax: opts.segmentBytesMax } : {}) };
    if (storedVersion < segmentLogVersion) await convertLogToSegments({ db, disk, dir, identity: opts, snapshot: meta.snapshot, verify, ...segmentOpts });
    const opened = await RaftLogStore.open(disk, dir, meta.snapshot, { ...segmentOpts, ...(opts.unsafeSegmentLog !== undefined ? { unsafe: opts.unsafeSegmentLog } : {}) });
    log = opened.store;
    const hardState = await checkAgainstLog(db, meta, Math.max(meta.snapshot.index, log.lastIndex()), logger);
    const recovering = await readRecoveringMarker(db, verify);
    if (recovering !== undefined) logger.warn({ dir, ...recovering }, 'storage is recovering: rebuilt after damage, not yet caught up with a leader');
    const mem = new MemoryStorage(meta.snapshot.confState);
    mem.applySnapshot(meta.snapshot);
    mem.append(opened.entries);
    mem.setHardState(hardState);
    if (opts.logBacked !== undefined) {
      const cleared = await LogCopies.clearAbove(db, opts.logBacked, applied.generation, meta.snapshot.index);
      if (cleared > 0) logger.info({ cleared, snapshot: meta.snapshot.index }, 'deleted copies of log data the log still holds (a compaction interrupted, or a directory of layout 4)');
    }
    // Layout 4 to 5 needs no change but the version: the copies a layout-4 checkpoint wrote of
    // bodies the log holds are deleted at every open (above); an older build must not open it.
    if (storedVersion >= segmentLogVersion && storedVersion < formatVersion) {
      await db.put(identityKey, encodeRecord({ clusterId: opts.clusterId, nodeId: opts.nodeId, formatVersion }), { sync: true });
      logger.info({ dir, fromVersion: storedVersion, toVersion: formatVersion }, 'storage layout version raised: message bodies live in the log');
    }
    logger.info({ dir, firstIndex: mem.firstIndex(), lastIndex: mem.lastIndex(), applied: applied.index, term: hardState.term }, 'storage opened');
    return { db, log, mem, applied, recovering };
  } catch (err) {
    await log?.close();
    await db.close();
    throw err;
  }
}
