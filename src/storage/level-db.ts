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

/** Whether any key lies in [gte, lt): one seek, no scan. */
export async function hasKeyIn(db: Db, gte: Uint8Array, lt: Uint8Array): Promise<boolean> {
  const keys = await db.keys({ gte, lt, limit: 1 }).all();
  return keys.length > 0;
}
