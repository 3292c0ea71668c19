/**
 * Conversion of a layout version 3 directory (the Raft log in LevelDB) to version 4 (the log
 * in segment files under `log/`, raft-log-store.ts), in place and crash-safe:
 *   1. read and verify the LevelDB log after the snapshot (load.ts loadLevelLog);
 *   2. empty `log/` of anything an interrupted conversion left, durably;
 *   3. write the entries into segments and sync them;
 *   4. one synced LevelDB batch deletes the log keys and writes the identity with version 4.
 * The conversion holds the whole log in memory once, as opening it does anyway (the read cache).
 * Step 4 is the commit point. A crash before it leaves a version 3 directory whose LevelDB
 * still holds the whole log (an older build opens it: it ignores `log/`), and the next open
 * converts again from step 1; a crash after it leaves a version 4 directory.
 */
import type { Entry, SnapshotMeta } from '../../raft/types.js';
import { encodeRecord } from './codec.js';
import { identityKey, logBlockRange, logRange } from './keys.js';
import type { BatchOp, Db } from './level-db.js';
import { formatVersion, loadLevelLog } from './load.js';
import type { StorageLogger } from './logger.js';
import { logDirName, RaftLogStore } from './raft-log-store.js';
import type { SegmentDisk } from './segment-log/segment-disk.js';

/** Entries written per segment-log append during a conversion (bounds the records built at once). */
const convertChunkEntries = 4096;

/** What convertLogToSegments needs. */
export interface ConvertLogOptions {
  readonly db: Db;
  readonly disk: SegmentDisk;
  /** The data directory. */
  readonly dir: string;
  readonly identity: { readonly clusterId: string; readonly nodeId: string };
  /** The snapshot meta LevelDB holds: the log converted starts after it. */
  readonly snapshot: SnapshotMeta;
  readonly logger: StorageLogger;
  readonly verify: boolean;
  readonly segmentBytesMax?: number;
}

/** Converts the directory (module comment); returns how many entries moved. */
export async function convertLogToSegments(opts: ConvertLogOptions): Promise<number> {
  const { db, disk, dir, snapshot, logger } = opts;
  const entries: Entry[] = await loadLevelLog(db, snapshot, opts.verify);
  const logDir = await disk.makeDir(dir, logDirName);
  const leftovers = await disk.list(logDir);
  if (leftovers.length > 0) {
    logger.warn({ dir: logDir, files: leftovers.length }, 'discarding the segments of an interrupted log conversion');
    for (const name of leftovers) await disk.unlink(logDir, name);
    await disk.syncDir(logDir);
  }
  const { store } = await RaftLogStore.open(disk, dir, snapshot, { logger, ...(opts.segmentBytesMax !== undefined ? { segmentBytesMax: opts.segmentBytesMax } : {}) });
  try {
    for (let k = 0; k < entries.length; k += convertChunkEntries) await store.write(entries.slice(k, k + convertChunkEntries));
    await store.sync();
  } finally {
    await store.close();
  }
  // The commit point: the LevelDB log goes and the version says where the log is now, in one
  // batch (a later clear could be lost, leaving keys nobody reads again).
  const ops: BatchOp[] = [];
  for (const range of [logRange, logBlockRange]) {
    for await (const key of db.keys(range)) ops.push({ type: 'del', key });
  }
  ops.push({ type: 'put', key: identityKey, value: encodeRecord({ clusterId: opts.identity.clusterId, nodeId: opts.identity.nodeId, formatVersion }) });
  await db.batch(ops, { sync: true });
  logger.info({ dir, entries: entries.length, first: snapshot.index + 1, toVersion: formatVersion }, 'storage layout converted: the Raft log now lives in segment files');
  return entries.length;
}
