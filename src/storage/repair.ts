/**
 * Opening a data directory, and repairing it when it is damaged: the node runtime's way in.
 *
 * Damage is any StorageCorruptionError at open: the pre-open verifier (leveldb-verify.ts),
 * LevelDB's own Corruption, a checksum or the log's contiguity (load.ts). Then, instead of
 * refusing to start, the node:
 *   1. logs one error line naming the damage;
 *   2. builds a fresh LevelDB in `<dir>.repairing` holding only the recovering marker
 *      (recovering.ts), synced, its directory entry too;
 *   3. moves the damaged directory aside to `<dir>.damaged-<UTC timestamp>` (kept for a post
 *      mortem; the 2 newest quarantined copies are kept, older ones deleted);
 *   4. renames `<dir>.repairing` to `<dir>` and fsyncs the parent directory;
 *   5. opens it with the same identity (cluster id, node id) and initial membership: the node
 *      is recovering until it has caught up with a leader (DurableStorage.recovering).
 * A crash anywhere leaves a state the next open finishes: before 3 the damaged directory is
 * still there (found damaged again; the half-built `.repairing` is deleted); between 3 and 4
 * `<dir>` is missing and `.repairing` is complete, so it is renamed into place. There is never a
 * moment at which `<dir>` is an empty directory without the marker: a node must not come back
 * from damage as a brand-new member (it would vote with no memory of its promises).
 *
 * Not damage: a disk fault (STORAGE_FULL, STORAGE_IO), a held lock (DATA_DIR_LOCKED), another
 * cluster's directory (CLUSTER_MISMATCH), a newer build's layout (STORAGE_FORMAT). Those keep refusing to start. Nothing is repaired
 * silently. The skip-checksums negative control neither verifies nor repairs.
 */
import { existsSync } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DurableStorage, type DurableStorageOptions } from './durable-storage.js';
import { StorageCorruptionError } from './errors.js';
import { fsyncDir, openDb } from './level-db.js';
import { silentLogger, type StorageLogger } from './logger.js';
import { type RecoveringMarker, writeRecoveringMarker } from './recovering.js';

/** Options of openStorage. */
export interface OpenStorageOptions extends DurableStorageOptions {
  /**
   * The skip-checksums negative control (test mode only): no checksum is verified, the files
   * are not checked before LevelDB opens them, and nothing is ever repaired. Pass an openDb that
   * does not verify files with it (src/server/unverified-db.ts).
   */
  readonly skipChecksums?: boolean;
  /**
   * Whether damage may be repaired from peers (default true). A node with no peers (a
   * single-node cluster) has nobody to repair from: its damage is refused (STORAGE_CORRUPT).
   */
  readonly repair?: boolean;
  /** Called once per repair (the raftq_storage_repairs_total counter). */
  readonly onRepair?: () => void;
  /** Wall clock in milliseconds for the marker and the quarantine name; default Date.now. */
  readonly now?: () => number;
}

/**
 * Quarantined copies kept beside the data directory: the 2 newest are enough for a post mortem
 * of a damage that recurs, and bound the disk a flapping disk can fill.
 */
export const quarantinedCopiesMax = 2;

/** The message of the one error line a repair logs (fields: dir, damage, quarantinedAs). */
export const storageDamagedMessage = 'storage damaged: moving the data directory aside and starting from a fresh one; the node recovers from its peers and does not vote until it has caught up';

/** Opens `dir` (DurableStorage.open), repairing it when it is damaged (module comment). */
export async function openStorage(dataDir: string, opts: OpenStorageOptions): Promise<DurableStorage> {
  const logger = opts.logger ?? silentLogger;
  // Resolved: the staging and quarantine names are siblings of `dataDir`, even when it is "data/".
  const dir = resolve(dataDir);
  if (opts.skipChecksums === true) return DurableStorage.open(dir, { ...opts, verifyChecksums: false });
  await finishInterruptedRepair(dir, logger);
  let damage: StorageCorruptionError;
  try {
    return await DurableStorage.open(dir, opts);
  } catch (err) {
    if (!(err instanceof StorageCorruptionError) || opts.repair === false) throw err;
    damage = err;
  }
  const now = new Date((opts.now ?? Date.now)());
  const quarantined = quarantineName(dir, now);
  (logger.error ?? logger.warn).call(logger, { dir, damage: damage.message, quarantinedAs: quarantined }, storageDamagedMessage);
  await rebuild(dir, quarantined, { reason: damage.message, since: now.toISOString() }, opts, logger);
  opts.onRepair?.();
  return DurableStorage.open(dir, opts);
}

/** The staging directory of a repair. */
function stagingDir(dir: string): string {
  return `${dir}.repairing`;
}

/** Steps 2 to 4 of the module comment. */
async function rebuild(dir: string, quarantined: string, marker: RecoveringMarker, opts: OpenStorageOptions, logger: StorageLogger): Promise<void> {
  const staging = stagingDir(dir);
  await rm(staging, { recursive: true, force: true });
  const db = await (opts.openDb ?? openDb)(staging, logger);
  try {
    await writeRecoveringMarker(db, marker);
  } finally {
    await db.close();
  }
  const parent = dirname(dir);
  await fsyncDir(parent);
  await rename(dir, quarantined);
  await rename(staging, dir);
  await fsyncDir(parent);
  await pruneQuarantined(dir, logger);
}

/** Step 4 after a crash between 3 and 4, or drops a staging directory a crash left before 3. */
async function finishInterruptedRepair(dir: string, logger: StorageLogger): Promise<void> {
  const staging = stagingDir(dir);
  if (!existsSync(staging)) return;
  if (existsSync(dir)) {
    logger.warn({ dir, staging }, 'dropping the fresh directory of an interrupted repair (the data directory was not moved aside yet)');
    await rm(staging, { recursive: true, force: true });
    return;
  }
  logger.warn({ dir, staging }, 'finishing an interrupted repair: the fresh directory takes the place of the quarantined one');
  await rename(staging, dir);
  await fsyncDir(dirname(dir));
}

/** `<dir>.damaged-<UTC timestamp>`, made unique with a counter if needed. */
function quarantineName(dir: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '');
  let name = `${dir}.damaged-${stamp}`;
  for (let k = 2; existsSync(name); k++) name = `${dir}.damaged-${stamp}-${k}`;
  return name;
}

/** Deletes all but the quarantinedCopiesMax newest quarantined copies of `dir`. */
async function pruneQuarantined(dir: string, logger: StorageLogger): Promise<void> {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.damaged-`;
  const copies = (await readdir(parent)).filter((n) => n.startsWith(prefix)).sort(byAge);
  for (const old of copies.slice(0, Math.max(0, copies.length - quarantinedCopiesMax))) {
    logger.info({ removed: join(parent, old) }, 'deleting an old quarantined data directory');
    await rm(join(parent, old), { recursive: true, force: true });
  }
}

/** Oldest first: by timestamp, then by the uniqueness counter. */
function byAge(a: string, b: string): number {
  const key = (n: string): [string, number] => {
    const m = /^(.*?)(?:-(\d+))?$/.exec(n.slice(n.indexOf('.damaged-') + '.damaged-'.length))!;
    return [m[1]!, Number(m[2] ?? 1)];
  };
  const [ta, ka] = key(a);
  const [tb, kb] = key(b);
  return ta < tb ? -1 : ta > tb ? 1 : ka - kb;
}
