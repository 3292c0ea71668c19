/**
 * A negative control's storage: the node's LevelDB with every write's sync flag dropped, so
 * the node acknowledges entries that sit only in the operating system's page cache. Honoured
 * only in test mode (test-hooks.ts, RAFTQ_TEST_UNSAFE=skip-fsync); a power cut (the jepsen-like
 * `power` nemesis) must then lose acknowledged messages, which proves the harness can see it.
 */
import { type BatchOp, type Db, openDb } from '../storage/level-db.js';

type WriteOptions = { sync?: boolean } | undefined;

/** `db` with put, del and batch forced to sync:false (everything else passes through). */
export function unsyncedDb(db: Db): Db {
  const unsynced = (opts: WriteOptions): { sync: false } => ({ ...opts, sync: false });
  const overrides: Record<string | symbol, unknown> = {
    put: (key: Uint8Array, value: Uint8Array, opts?: WriteOptions): Promise<void> => db.put(key, value, unsynced(opts)),
    del: (key: Uint8Array, opts?: WriteOptions): Promise<void> => db.del(key, unsynced(opts)),
    batch: (ops: BatchOp[], opts?: WriteOptions): Promise<void> => {
      // Chained batches (db.batch() without ops) are not used by DurableStorage; refuse them
      // rather than let one sync behind this wrapper's back.
      if (!Array.isArray(ops)) throw new Error('unsyncedDb: chained batches are not supported');
      return db.batch(ops, unsynced(opts));
    },
  };
  return new Proxy(db, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop];
      const v: unknown = Reflect.get(target, prop, target);
      // Bound to the real handle: classic-level keeps private state that a proxy cannot reach.
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** openDb (level-db.ts) whose handle never syncs. */
export async function openUnsyncedDb(dir: string): Promise<Db> {
  return unsyncedDb(await openDb(dir));
}
