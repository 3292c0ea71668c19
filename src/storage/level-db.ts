/**
 * Opening the node's LevelDB: binary keys and values, and a typed error when another process
 * holds the directory's lock.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';
import { Level } from 'level';
import { DataDirLockedError } from './errors.js';

/** The node's database: Uint8Array keys and values (LevelDB returns Buffers, a subclass). */
export type Db = Level<Uint8Array, Uint8Array>;

/** One operation of an atomic LevelDB batch. */
export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/**
 * Creates `dir` if missing and opens its LevelDB. Throws DataDirLockedError at once when
 * another process (or another open handle) holds the LOCK file.
 *
 * Directory entries are made durable too, which the bundled LevelDB (1.20) does not do by
 * itself: it fsyncs the directory only when it writes a MANIFEST, never when it creates a
 * database (its first MANIFEST and CURRENT) or a new log file at a memtable switch. A power
 * loss could then drop a whole log file, synced records included, or leave CURRENT naming an
 * empty manifest (found with jepsen-like/powerfs). So: the directories `mkdir` created are
 * fsynced, the database directory is fsynced once open, and after every synced write (batch or
 * put with `sync: true`) the database directory is fsynced before the write counts as done.
 */
export async function openDb(dir: string): Promise<Db> {
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined) await syncCreatedDirs(created, dir);
  const db: Db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open();
  } catch (err) {
    if (isLockError(err)) throw new DataDirLockedError(dir, err);
    throw err;
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } catch (err) {
    await dirHandle.close();
    await db.close();
    throw err;
  }
  syncDirectoryOnSyncedWrites(db, dirHandle);
  return db;
}

/** fsyncs the parent of every directory from `firstCreated` down to `dir` (all just created). */
async function syncCreatedDirs(firstCreated: string, dir: string): Promise<void> {
  const parts = relative(firstCreated, dir).split(sep).filter((p) => p !== '');
  const chain = [firstCreated];
  for (const p of parts) chain.push(`${chain[chain.length - 1]!}${sep}${p}`);
  for (const d of chain) await syncDirectory(dirname(d));
}

/** fsync of a directory: makes the entries created, renamed or removed in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Makes `db`'s synced writes also fsync its directory (see openDb) through `dirHandle`, which
 * is closed with the database. Chained batches (no operations given) are left as they are:
 * raftq does not use them.
 */
function syncDirectoryOnSyncedWrites(db: Db, dirHandle: FileHandle): void {
  type Opts = { sync?: boolean } | undefined;
  const batch = db.batch.bind(db) as unknown as (ops?: BatchOp[], opts?: Opts) => Promise<void>;
  const put = db.put.bind(db) as unknown as (key: Uint8Array, value: Uint8Array, opts?: Opts) => Promise<void>;
  const patched = db as unknown as { batch: (ops?: BatchOp[], opts?: Opts) => unknown; put: (key: Uint8Array, value: Uint8Array, opts?: Opts) => Promise<void> };
  patched.batch = (ops?: BatchOp[], opts?: Opts) => {
    if (ops === undefined) return batch();
    return batch(ops, opts).then(() => (opts?.sync === true ? dirHandle.sync() : undefined));
  };
  patched.put = (key, value, opts) => put(key, value, opts).then(() => (opts?.sync === true ? dirHandle.sync() : undefined));
  db.once('closed', () => void dirHandle.close().catch(() => {}));
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
