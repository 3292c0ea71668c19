/**
 * Opening the node's LevelDB: binary keys and values, and a typed error when another process
 * holds the directory's lock.
 */
import { readdirSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Level } from 'level';
import { checkOpenFilesReadable, typedDiskError } from './disk-errors.js';
import { DataDirLockedError, StorageCorruptionError } from './errors.js';
import { verifyLevelDbDir } from './leveldb-verify.js';
import { silentLogger, type StorageLogger } from './logger.js';

/** The node's database: Uint8Array keys and values (LevelDB returns Buffers, a subclass). */
export type Db = Level<Uint8Array, Uint8Array>;

/** One operation of an atomic LevelDB batch. */
export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/**
 * Creates `dir` if missing, verifies every file LevelDB will read (leveldb-verify.ts: damage is
 * a StorageCorruptionError naming the file and offset, a torn tail of the newest log is logged
 * on `logger` and accepted) and opens its LevelDB, durably (below). Throws DataDirLockedError
 * at once when another process (or another open handle) holds the LOCK file, and
 * StorageCorruptionError when LevelDB itself reports corruption at open.
 *
 * Durable open. A directory entry (a created directory, a renamed file) survives a power loss
 * only once its parent directory is fsynced. So the directories created here are made durable
 * in their parents. And LevelDB 1.20 (classic-level 3) leaves its own open half-durable: every
 * open writes a new MANIFEST (synced, with the directory) and only then renames CURRENT to it
 * without a directory fsync, while a brand-new database's first MANIFEST is never synced at
 * all; after a power cut CURRENT can name that empty MANIFEST and the database no longer opens
 * (found by the jepsen-like power nemesis). The fsync of `dir` after the open makes CURRENT's
 * rename durable before anything is written.
 */
export function openDb(dir: string, logger?: StorageLogger): Promise<Db> {
  return openDbWith(dir, { syncDir: fsyncDir, ...(logger !== undefined ? { logger } : {}) });
}

/** How openDbWith makes directory entries durable, and whether it verifies the files first. */
export interface DirSync {
  /** Makes the entries of a directory durable: fsyncDir, or a no-op for a negative control. */
  readonly syncDir: (dir: string) => Promise<void>;
  /**
   * Whether to verify the files before opening (default true). False only for the
   * skip-checksums negative control: the files are then only read through (an unreadable one is
   * still STORAGE_IO), and LevelDB drops what it cannot read, as it does by default.
   */
  readonly verifyFiles?: boolean;
  /** Where the verifier reports the torn tails it accepts. */
  readonly logger?: StorageLogger;
}

/**
 * openDb with the directory fsyncs (the durable mkdir, the fsync after the open, the fsync after
 * a synced write that changed the directory) made by `d.syncDir`. Servers use openDb; only the
 * skip-dir-fsync negative control (test mode) passes a no-op.
 */
export async function openDbWith(dir: string, d: DirSync): Promise<Db> {
  try {
    await mkdirDurably(dir, d.syncDir);
  } catch (err) {
    throw typedDiskError(err, dir, 'creating the data directory');
  }
  if (d.verifyFiles ?? true) {
    const started = performance.now();
    const report = verifyLevelDbDir(dir, d.logger ?? silentLogger);
    (d.logger ?? silentLogger).info({ dir, files: report.files, bytes: report.bytes, ms: Math.round(performance.now() - started) }, 'storage files verified');
  } else checkOpenFilesReadable(dir);
  const db: Db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open();
  } catch (err) {
    if (isLockError(err)) throw new DataDirLockedError(dir, err);
    const corruption = corruptionOf(err);
    if (corruption !== undefined) throw new StorageCorruptionError('LevelDB', null, `LevelDB refused to open: ${corruption}`);
    throw typedDiskError(err, dir, 'open');
  }
  try {
    await d.syncDir(dir);
    return withDurableFiles(db, dir, listing(dir), d.syncDir);
  } catch (err) {
    await db.close();
    throw typedDiskError(err, dir, 'fsync of the directory');
  }
}

/** Options of a write: `sync` makes LevelDB fsync its log before the write returns. */
export type WriteOptions = { sync?: boolean } | undefined;

/** The write operations of a Db, as a wrapper replaces them (overrideWrites). */
export interface DbWrites {
  put(key: Uint8Array, value: Uint8Array, opts?: WriteOptions): Promise<void>;
  del(key: Uint8Array, opts?: WriteOptions): Promise<void>;
  batch(ops: BatchOp[], opts?: WriteOptions): Promise<void>;
}

/**
 * `db` with put, del and batch replaced by `writes`; everything else is the real handle's,
 * bound to it (classic-level keeps private state that a proxy cannot reach). A chained batch
 * (batch() without operations) is refused: its write({ sync }) would bypass the wrapper.
 */
export function overrideWrites(db: Db, writes: DbWrites): Db {
  const overrides: Record<string | symbol, unknown> = {
    put: writes.put,
    del: writes.del,
    batch: (ops: BatchOp[], opts?: WriteOptions): Promise<void> => {
      if (!Array.isArray(ops)) throw new Error('chained batches are not supported by this database handle');
      return writes.batch(ops, opts);
    },
  };
  return new Proxy(db, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop];
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * `db` whose synced writes are durable together with the file they went to. LevelDB 1.20
 * switches to a brand-new log file when its memtable is full and writes the following (synced)
 * writes there, but fsyncs the directory only when the memtable's compaction writes the next
 * MANIFEST: a power cut in between loses the new log's directory entry, and with it writes
 * LevelDB had acknowledged as synced (found with powerfs, test/storage/powerfs-cut.test.ts). So
 * after each synced write the directory is listed, and fsynced before the write returns when
 * its files changed since the last fsync: one readdir per synced write, one directory fsync per
 * log switch or compaction.
 */
function withDurableFiles(db: Db, dir: string, syncedListing: string, syncDir: (dir: string) => Promise<void>): Db {
  let synced = syncedListing;
  // One check at a time: a write returns only after a check that began after it ended.
  let chain: Promise<void> = Promise.resolve();
  const syncDirIfChanged = (): Promise<void> => {
    const next = chain.then(async () => {
      const now = listing(dir);
      if (now === synced) return;
      await syncDir(dir);
      synced = now;
    });
    chain = next.catch(() => {});
    return next;
  };
  // ENOSPC and EIO become STORAGE_FULL and STORAGE_IO (disk-errors.ts); nothing is retried.
  const after = async (write: Promise<void>, opts: WriteOptions): Promise<void> => {
    try {
      await write;
      if (opts?.sync === true) await syncDirIfChanged();
    } catch (err) {
      throw typedDiskError(err, dir, opts?.sync === true ? 'write and fsync' : 'write');
    }
  };
  return overrideWrites(db, {
    put: (key, value, opts) => after(db.put(key, value, opts ?? {}), opts),
    del: (key, opts) => after(db.del(key, opts ?? {}), opts),
    batch: (ops, opts) => after(db.batch(ops, opts ?? {}), opts),
  });
}

/**
 * The names in `dir`, sorted, as one string. Synchronous on purpose: a readdir of a dozen
 * entries takes microseconds, far less than the thread-pool round trip of the async call that
 * every synced write would pay.
 */
function listing(dir: string): string {
  return readdirSync(dir).sort().join('/');
}

/** mkdir -p whose new directories survive a power loss: each is fsynced in its parent. */
async function mkdirDurably(dir: string, syncDir: (dir: string) => Promise<void>): Promise<void> {
  const target = resolve(dir);
  const first = await mkdir(target, { recursive: true });
  if (first === undefined) return;
  // From the deepest new directory up to the parent of the first one created.
  for (let d = target; ; d = dirname(d)) {
    await syncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
}

/** fsync of a directory: makes its entries (creates, renames, unlinks) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
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

/** LevelDB's message when `err` (or its cause) reports corruption (LEVEL_CORRUPTION). */
function corruptionOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) {
    if ((e as { code?: unknown }).code === 'LEVEL_CORRUPTION' || e.message.startsWith('Corruption:')) return e.message;
  }
  return undefined;
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
