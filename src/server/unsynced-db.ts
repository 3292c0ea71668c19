/**
 * A negative control's storage: the node's LevelDB with every write's sync flag dropped, so
 * the node acknowledges entries that sit only in the operating system's page cache. Honoured
 * only in test mode (test-hooks.ts, RAFTQ_TEST_UNSAFE=skip-fsync); a power cut (the jepsen-like
 * `power` nemesis) must then lose acknowledged messages, which proves the harness can see it.
 */
import { type Db, openDb, overrideWrites, type WriteOptions } from '../storage/level-db.js';
import type { StorageLogger } from '../storage/logger.js';

/** `db` with put, del and batch forced to sync:false (everything else passes through). */
export function unsyncedDb(db: Db): Db {
  const unsynced = (opts: WriteOptions): { sync: false } => ({ ...opts, sync: false });
  return overrideWrites(db, {
    put: (key, value, opts) => db.put(key, value, unsynced(opts)),
    del: (key, opts) => db.del(key, unsynced(opts)),
    batch: (ops, opts) => db.batch(ops, unsynced(opts)),
  });
}

/** openDb (level-db.ts) whose handle never syncs. */
export async function openUnsyncedDb(dir: string, logger?: StorageLogger): Promise<Db> {
  return unsyncedDb(await openDb(dir, logger));
}
