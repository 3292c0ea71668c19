/**
 * The pre-open verifier: reads and checks every file LevelDB will use, before LevelDB opens the
 * directory. LevelDB 1.20 (classic-level) opens without paranoid checks: it skips a write-ahead
 * log record it cannot read (and the rest of its 32 KiB block) silently, with every synced write
 * in it, and reads tables through mmap, where a read error is a SIGBUS. So, in order:
 *
 * - CURRENT must name an existing MANIFEST (no CURRENT at all is a new directory, unless logs or
 *   tables exist);
 * - that MANIFEST is scanned (leveldb-log-scan.ts) and its version edits replayed: which
 *   write-ahead logs are live (number >= the log number, or the previous log number) and which
 *   tables, with their sizes;
 * - every live log is scanned; every live table is verified (leveldb-table-verify.ts).
 *
 * A torn tail (a bad or unfinished record with nothing valid after it) is accepted at the end of
 * each live log and of the MANIFEST: a power cut leaves one there, and what it cut was never
 * acknowledged. That holds for an older live log too: LevelDB syncs only the log it writes, so a
 * power cut between a log switch and the flush of the old memtable can tear the old log's
 * unsynced tail (raftq's unsynced saves only move the commit index, see durable-storage.ts);
 * every synced write in a log made everything before it in that log durable. It is logged. Anything else is a StorageCorruptionError naming the file and
 * byte offset; a read error is StorageIoError (STORAGE_IO). Files LevelDB will not read (older
 * MANIFESTs, logs already compacted, tables no MANIFEST lists) are not checked: LevelDB deletes
 * them. Reads go through a bounded window (leveldb-bytes.ts), whatever the file sizes.
 *
 * Pure LevelDB: nothing here knows raft or raftq's keys.
 */
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { typedDiskError } from './disk-errors.js';
import { StorageCorruptionError } from './errors.js';
import { Cursor, FormatDamage, WindowReader } from './leveldb-bytes.js';
import { scanLogFile, type TornTail } from './leveldb-log-scan.js';
import { verifyTable } from './leveldb-table-verify.js';
import type { StorageLogger } from './logger.js';

/** What the verifier checked. */
export interface VerifyReport {
  /** Files read and checked. */
  readonly files: number;
  /** Their bytes. */
  readonly bytes: number;
  /** Torn tails accepted (at most one per file: live logs and the MANIFEST). */
  readonly tornTails: ReadonlyArray<TornTail & { readonly file: string }>;
  /** Set when the directory's LOCK is held: nothing was checked (LevelDB's open refuses it). */
  readonly locked: boolean;
}

/** A StorageCorruptionError naming a file of the directory and a byte offset in it. */
export function fileCorruption(file: string, offset: number, detail: string): StorageCorruptionError {
  return new StorageCorruptionError(`${file} at byte ${offset}`, null, detail);
}

/** Verifies the LevelDB directory `dir` (module comment). A missing directory passes (it is new). */
export function verifyLevelDbDir(dir: string, logger: StorageLogger): VerifyReport {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return { files: 0, bytes: 0, tornTails: [], locked: false };
    throw typedDiskError(err, dir, 'listing the data directory');
  }
  if (names.includes('LOCK') && isLockHeld(join(dir, 'LOCK'))) return { files: 0, bytes: 0, tornTails: [], locked: true };
  const tornTails: Array<TornTail & { file: string }> = [];
  const totals = { files: 0, bytes: 0 };
  const fileNumber = (name: string, suffix: string): number | undefined => (name.endsWith(suffix) && /^\d+$/.test(name.slice(0, -suffix.length)) ? Number(name.slice(0, -suffix.length)) : undefined);
  const logs = names.map((n) => ({ name: n, number: fileNumber(n, '.log') })).filter((l): l is { name: string; number: number } => l.number !== undefined);
  if (!names.includes('CURRENT')) {
    const data = names.filter((n) => fileNumber(n, '.log') !== undefined || fileNumber(n, '.ldb') !== undefined || fileNumber(n, '.sst') !== undefined);
    if (data.length > 0) throw fileCorruption('CURRENT', 0, `missing, while ${data.join(', ')} exist${data.length === 1 ? 's' : ''}`);
    return { ...totals, tornTails, locked: false };
  }
  const current = readWhole(dir, 'CURRENT').toString('latin1');
  const manifest = /^(MANIFEST-\d+)\n$/.exec(current)?.[1];
  if (manifest === undefined) throw fileCorruption('CURRENT', 0, `does not name a MANIFEST (${JSON.stringify(current.slice(0, 40))})`);
  if (!names.includes(manifest)) throw fileCorruption('CURRENT', 0, `names ${manifest}, which does not exist`);
  const version = new VersionState();
  withFile(dir, manifest, totals, (reader) => {
    const torn = scanLogFile(reader, true, (record, offset) => version.apply(record, offset));
    if (torn !== undefined) tornTails.push({ file: manifest, ...torn });
  });
  const live = logs.filter((l) => l.number >= version.logNumber || l.number === version.prevLogNumber).sort((a, b) => a.number - b.number);
  for (const log of live) {
    withFile(dir, log.name, totals, (reader) => {
      const torn = scanLogFile(reader, true);
      if (torn !== undefined) tornTails.push({ file: log.name, ...torn });
    });
  }
  for (const [number, size] of version.tables) {
    const base = String(number).padStart(6, '0');
    const name = names.includes(`${base}.ldb`) ? `${base}.ldb` : names.includes(`${base}.sst`) ? `${base}.sst` : undefined;
    if (name === undefined) throw fileCorruption(`${base}.ldb`, 0, `missing: ${manifest} lists it`);
    withFile(dir, name, totals, (reader) => verifyTable(reader, size));
  }
  for (const t of tornTails) {
    logger.warn({ dir, file: t.file, offset: t.offset, detail: t.detail }, 'torn tail accepted: the end of a LevelDB log (or MANIFEST) was cut by a crash; what it held was never synced');
  }
  return { ...totals, tornTails, locked: false };
}

/** Opens `name` and runs `check` on it; FormatDamage becomes a StorageCorruptionError, EIO a StorageIoError. */
function withFile(dir: string, name: string, totals: { files: number; bytes: number }, check: (reader: WindowReader) => void): void {
  let fd: number | undefined;
  try {
    fd = openSync(join(dir, name), 'r');
    const reader = new WindowReader(fd, fstatSync(fd).size);
    check(reader);
    totals.files++;
    totals.bytes += reader.size;
  } catch (err) {
    if (err instanceof FormatDamage) throw fileCorruption(name, err.offset, err.message);
    if ((err as { code?: unknown }).code === 'ENOENT') throw fileCorruption(name, 0, 'vanished while being verified');
    throw typedDiskError(err, dir, `read of ${name}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function readWhole(dir: string, name: string): Buffer {
  try {
    return readFileSync(join(dir, name));
  } catch (err) {
    throw typedDiskError(err, dir, `read of ${name}`);
  }
}

/** VersionEdit tags (LevelDB db/version_edit.cc). */
const tag = { comparator: 1, logNumber: 2, nextFileNumber: 3, lastSequence: 4, compactPointer: 5, deletedFile: 6, newFile: 7, prevLogNumber: 9 } as const;

/** The MANIFEST's version edits replayed: the live log numbers and tables. */
class VersionState {
  logNumber = 0;
  prevLogNumber = 0;
  /** Live tables: file number -> size in bytes. */
  readonly tables = new Map<number, number>();

  apply(record: Uint8Array, offset: number): void {
    const c = new Cursor(record, 0, record.length, offset);
    while (!c.done) {
      const t = c.varint();
      if (t === tag.comparator) c.lengthPrefixed();
      else if (t === tag.logNumber) this.logNumber = c.varint();
      else if (t === tag.prevLogNumber) this.prevLogNumber = c.varint();
      else if (t === tag.nextFileNumber || t === tag.lastSequence) c.varint();
      else if (t === tag.compactPointer) {
        c.varint();
        c.lengthPrefixed();
      } else if (t === tag.deletedFile) {
        c.varint();
        this.tables.delete(c.varint());
      } else if (t === tag.newFile) {
        c.varint();
        const number = c.varint();
        const size = c.varint();
        c.lengthPrefixed();
        c.lengthPrefixed();
        this.tables.set(number, size);
      } else throw new FormatDamage(offset, `unknown version edit tag ${t}`);
    }
  }
}

/**
 * Whether a process holds the POSIX lock LevelDB takes on `lockFile`, from /proc/locks (Linux):
 * a held directory belongs to a running node and must be neither verified (its files change
 * under the reader) nor repaired; LevelDB's open then refuses it as DATA_DIR_LOCKED. Where
 * /proc/locks is unreadable, false (the verification goes on).
 */
function isLockHeld(lockFile: string): boolean {
  let locks: string;
  let st: { ino: number; dev: number };
  try {
    locks = readFileSync('/proc/locks', 'latin1');
    st = statSync(lockFile);
  } catch {
    return false;
  }
  // Linux dev_t: major in bits 8..19, minor in bits 0..7 and 20..31.
  const major = (st.dev >>> 8) & 0xfff;
  const minor = (st.dev & 0xff) | ((st.dev >>> 12) & 0xfff00);
  for (const line of locks.split('\n')) {
    const m = /\s([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m !== null && Number(m[3]) === st.ino && parseInt(m[1]!, 16) === major && parseInt(m[2]!, 16) === minor) return true;
  }
  return false;
}
