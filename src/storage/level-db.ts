/**
 * Opening the node's LevelDB: binary keys and values, and a typed error when another process
 * holds the directory's lock.
 */
import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import { DataDirLockedError } from './errors.js';

/** The node's database: Uint8Array keys and values (LevelDB returns Buffers, a subclass). */
export type Db = Level<Uint8Array, Uint8Array>;

/** One operation of an atomic LevelDB batch. */
export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/**
 * Creates `dir` if missing and opens its LevelDB. Throws DataDirLockedError at once when
 * another process (or another open handle) holds the LOCK file.
 */
export async function openDb(dir: string): Promise<Db> {
  await mkdir(dir, { recursive: true });
  const db: Db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open();
  } catch (err) {
    if (isLockError(err)) throw new DataDirLockedError(dir, err);
    throw err;
  }
  return db;
}

/**
 * level reports a held lock as LEVEL_DATABASE_NOT_OPEN with a cause coded LEVEL_LOCKED (same
 * process) or an IO error mentioning the LOCK file (another process).
 */
function isLockError(err: unknown): boolean {
  if (!(err instanceof Error) || (err as { code?: unknown }).code !== 'LEVEL_DATABASE_NOT_OPEN') return false;
  const cause = err.cause;
  if (!(cause instanceof Error)) return false;
  return (cause as { code?: unknown }).code === 'LEVEL_LOCKED' || /\block\b/i.test(cause.message);
}

/**
 * Bound on the keys in one synced batch of clearDurably: 4096 keys of an applied state (tens
 * of bytes each) make a batch of a few hundred KiB, so a large range costs one fsync per 4096
 * keys and never one huge batch in memory.
 */
const clearBatchKeysMax = 4096;

/**
 * Deletes every key in [gte, lt) in synced batches and returns how many there were. LevelDB's
 * own clear() never syncs, and a later synced write does not make it durable (rule in
 * durable-storage.ts), so a range that must stay empty across a power loss is cleared with this.
 * Keys whose deletion is already in the database, synced or not, are not seen: so every clear
 * of such a range must be durable, not only the last one.
 */
export async function clearDurably(db: Db, range: { readonly gte: Uint8Array; readonly lt: Uint8Array }): Promise<number> {
  let deleted = 0;
  let ops: BatchOp[] = [];
  for await (const key of db.keys({ gte: range.gte, lt: range.lt })) {
    ops.push({ type: 'del', key });
    if (ops.length === clearBatchKeysMax) {
      await db.batch(ops, { sync: true });
      deleted += ops.length;
      ops = [];
    }
  }
  if (ops.length > 0) await db.batch(ops, { sync: true });
  return deleted + ops.length;
}

/** Whether any key lies in [gte, lt): one seek, no scan. */
export async function hasKeyIn(db: Db, gte: Uint8Array, lt: Uint8Array): Promise<boolean> {
  const keys = await db.keys({ gte, lt, limit: 1 }).all();
  return keys.length > 0;
}
