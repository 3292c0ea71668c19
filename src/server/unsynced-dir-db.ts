/**
 * A negative control's storage: the node's LevelDB opened without any directory fsync (no
 * durable mkdir, no fsync after the open, none after a synced write that created a file), so
 * new files and renames (a new log file, CURRENT) live only in the page cache's directory.
 * File data is still synced. Honoured only in test mode (test-hooks.ts,
 * RAFTQ_TEST_UNSAFE=skip-dir-fsync); a power cut of every node (the jepsen-like `power`
 * nemesis) must then lose acknowledged messages or leave a node unable to open its database.
 */
import { type Db, openDbWith } from '../storage/level-db.js';
import type { StorageLogger } from '../storage/logger.js';

/** openDb (level-db.ts) whose directory fsyncs do nothing. */
export function openDbWithoutDirFsync(dir: string, logger?: StorageLogger): Promise<Db> {
  return openDbWith(dir, { syncDir: async () => {}, ...(logger !== undefined ? { logger } : {}) });
}
