/** dataFiles: the files of a data directory that hold node state, by role, and nothing else. */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../raft/types.js';
import { dataFileRole, dataFiles } from '../../src/storage/data-files.js';
import { openTest } from './durable-harness.js';
import { makeTempDir, removeDir } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeDir(dir));

/** Files a data directory may hold that keep no node state (LevelDB's lock and info logs). */
const notState = new Set(['LOCK', 'LOG', 'LOG.old']);

describe('dataFiles', () => {
  it('names each LevelDB file by its role and leaves out the lock, the info logs and temporary files', () => {
    const files: Record<string, string> = {
      CURRENT: 'MANIFEST-000004\n',
      'MANIFEST-000004': 'm',
      '000003.log': 'wal bytes',
      '000005.ldb': 'table bytes!',
      '000006.sst': 't',
      LOCK: '',
      LOG: 'info',
      'LOG.old': 'info',
      '000007.dbtmp': 'tmp',
      'notes.txt': 'x',
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    mkdirSync(join(dir, '000008.log')); // a directory is not a data file, whatever its name
    expect(dataFiles(dir).map((f) => [f.name, f.role, f.sizeBytes])).toEqual([
      ['000003.log', 'write-ahead-log', 9],
      ['000005.ldb', 'table', 12],
      ['000006.sst', 'table', 1],
      ['CURRENT', 'current', 16],
      ['MANIFEST-000004', 'manifest', 1],
    ]);
    expect(dataFiles(dir)[0]!.path).toBe(join(dir, '000003.log'));
  });

  it('roles of names that only look like data files', () => {
    const cases: Array<[string, string | undefined]> = [
      ['MANIFEST-', undefined],
      ['MANIFEST-12x', undefined],
      ['x.log', undefined],
      ['12.log.bak', undefined],
      ['CURRENT.tmp', undefined],
      ['000012.ldb', 'table'],
    ];
    for (const [name, role] of cases) expect(dataFileRole(name), name).toBe(role);
  });

  it('classifies every file a real node writes: one that holds node state is never missed', async () => {
    // A layout change (a new file kind) fails here until data-files.ts knows it. Enough data
    // to fill LevelDB's 4 MiB write buffer, so tables are written besides the log.
    const storage = await openTest(dir);
    try {
      const body = new Uint8Array(64 * 1024).fill(7);
      for (let batch = 0; batch < 10; batch++) {
        const entries: Entry[] = [];
        for (let k = 1; k <= 10; k++) entries.push({ index: batch * 10 + k, term: 1, type: 'normal', data: body });
        await storage.save({ entries, hardState: { term: 1, vote: 'n1', commit: batch * 10 } });
      }
    } finally {
      await storage.close();
    }
    const listed = new Set(dataFiles(dir).map((f) => f.name));
    for (const name of readdirSync(dir)) expect(listed.has(name) || notState.has(name), `${name} is neither a data file nor known to hold no state`).toBe(true);
    const roles = new Set(dataFiles(dir).map((f) => f.role));
    expect(roles).toEqual(new Set(['write-ahead-log', 'table', 'manifest', 'current']));
  });
});
