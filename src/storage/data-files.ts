/**
 * The files of a node's data directory that hold its state, by role. Tools that must reach
 * exactly those files (the jepsen-like `corrupt` nemesis damages them; a backup or a
 * consistency check could read them) ask here instead of matching file names themselves, so
 * that a change of the storage layout is made in one place: when the segmented log of storage
 * v2 lands, its segment and index files are added below and every such tool follows.
 *
 * Pure: it lists and stats files, it never opens the database (no LevelDB import), so it works
 * on the directory of a node that is down, and on one whose database no longer opens.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { logDirName } from './raft-log-store.js';

/**
 * What a data file holds. The Raft log is in segment files under `log/`:
 * - `segment`: `log/<first index, 20 digits>.seg`, the log's records;
 * - `segment-index`: `log/<same>.idx`, a segment's sparse offset index (a cache: rebuilt at
 *   open when missing or damaged);
 * LevelDB keeps the hard state, the metadata and the state machine, under LevelDB's own roles:
 * - `write-ahead-log`: `NNNNNN.log`, the most recent writes (hard state, applied state) not
 *   yet compacted into tables;
 * - `table`: `NNNNNN.ldb` (`.sst` in older LevelDB), sorted immutable tables of everything older;
 * - `manifest`: `MANIFEST-NNNNNN`, which tables make up the database;
 * - `current`: `CURRENT`, the name of the live manifest.
 */
export type DataFileRole = 'segment' | 'segment-index' | 'write-ahead-log' | 'table' | 'manifest' | 'current';

/** One file holding node state. */
export interface DataFile {
  /** The file's path relative to the data directory (`log/...` for the segment log's files). */
  readonly name: string;
  /** Its absolute (or `dir`-relative, as given) path. */
  readonly path: string;
  readonly role: DataFileRole;
  /** Its size in bytes when listed. */
  readonly sizeBytes: number;
}

/**
 * The role of the data file called `name`, or undefined for a file that holds no node state:
 * LevelDB's `LOCK` (an empty lock file), its info logs `LOG` and `LOG.old`, and temporary files
 * (`*.dbtmp`, written then renamed to CURRENT).
 */
export function dataFileRole(name: string): DataFileRole | undefined {
  if (name === 'CURRENT') return 'current';
  if (/^MANIFEST-\d+$/.test(name)) return 'manifest';
  if (/^\d+\.log$/.test(name)) return 'write-ahead-log';
  if (/^\d+\.(ldb|sst)$/.test(name)) return 'table';
  return undefined;
}

/** The role of the file called `name` in the segment log's directory, or undefined (temporary files, markers). */
export function segmentFileRole(name: string): DataFileRole | undefined {
  if (/^\d{20}\.seg$/.test(name)) return 'segment';
  if (/^\d{20}\.idx$/.test(name)) return 'segment-index';
  return undefined;
}

/**
 * The files of data directory `dir` that hold the Raft log, the hard state or the state
 * machine, each with its role and size, sorted by name. Files that vanish while being listed
 * (LevelDB deletes obsolete ones) are left out. Throws if `dir` cannot be listed.
 */
export function dataFiles(dir: string): DataFile[] {
  const files: DataFile[] = [];
  const candidates: Array<{ name: string; role: DataFileRole | undefined }> = readdirSync(dir).sort().map((name) => ({ name, role: dataFileRole(name) }));
  let segmentNames: string[] = [];
  try {
    segmentNames = readdirSync(join(dir, logDirName)).sort();
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT' && (err as { code?: unknown }).code !== 'ENOTDIR') throw err;
  }
  for (const name of segmentNames) candidates.push({ name: `${logDirName}/${name}`, role: segmentFileRole(name) });
  for (const { name, role } of candidates) {
    if (role === undefined) continue;
    const path = join(dir, name);
    let sizeBytes: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) continue;
      sizeBytes = st.size;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') continue;
      throw err;
    }
    files.push({ name, path, role, sizeBytes });
  }
  return files;
}
