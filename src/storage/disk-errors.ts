/**
 * Disk faults as typed storage errors. LevelDB reports ENOSPC and EIO as LEVEL_IO_ERROR with
 * the strerror text ("IO error: <file>: No space left on device"), possibly as the cause of
 * LEVEL_DATABASE_NOT_OPEN; Node's own file calls carry errno codes. Both become
 * StorageFullError (STORAGE_FULL) or StorageIoError (STORAGE_IO).
 */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError, StorageFullError, StorageIoError } from './errors.js';

type Fault = 'full' | 'io';

/** The disk fault `err` (or an error of its cause chain) reports, if any. */
function diskFaultOf(err: unknown): Fault | undefined {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOSPC' || /No space left on device/.test(e.message)) return 'full';
    if (code === 'EIO' || /Input\/output error/.test(e.message)) return 'io';
  }
  return undefined;
}

/** `err` as StorageFullError or StorageIoError when it reports a disk fault; else `err` itself. */
export function typedDiskError(err: unknown, dir: string, operation: string): unknown {
  if (err instanceof StorageError) return err;
  const fault = diskFaultOf(err);
  if (fault === 'full') return new StorageFullError(dir, err);
  if (fault === 'io') return new StorageIoError(dir, operation, err);
  return err;
}

const readChunkBytes = 1 << 20;

/**
 * Reads every file LevelDB reads at open (CURRENT, MANIFEST-*, the *.log write-ahead logs) to
 * its end; throws StorageIoError on a read error. Used only when the pre-open verifier
 * (leveldb-verify.ts, which reads all of these and the tables, and checks them) is off: the
 * skip-checksums negative control. LevelDB 1.20 opens without paranoid checks:
 * a log it cannot read is dropped silently and then deleted, with every synced write in it (a
 * node forgetting its vote and log). Bounded: logs are at most about LevelDB's 4 MiB write
 * buffer each. Table files (*.ldb) are not read here: LevelDB reads them through mmap, where a
 * read error is a SIGBUS that kills the process (no silent loss, but no message either).
 */
export function checkOpenFilesReadable(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw typedDiskError(err, dir, 'listing the data directory');
  }
  const buf = Buffer.allocUnsafe(readChunkBytes);
  for (const name of names) {
    if (name !== 'CURRENT' && !name.startsWith('MANIFEST-') && !name.endsWith('.log')) continue;
    let fd: number | undefined;
    try {
      fd = openSync(join(dir, name), 'r');
      while (readSync(fd, buf, 0, buf.length, null) > 0) {
        /* read to the end */
      }
    } catch (err) {
      // Gone meanwhile: another process holds the directory (its open then says so).
      if ((err as { code?: unknown }).code === 'ENOENT') continue;
      throw typedDiskError(err, dir, `read of ${name}`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
