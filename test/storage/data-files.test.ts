/** dataFiles: the files of a data directory that hold node state, by role, and nothing else. */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../raft/types.js';
import { dataFileRole, dataFiles, segmentFileRole } from '../../src/storage/data-files.js';
import { DurableStorage, type StateWrite } from '../../src/storage/durable-storage.js';
import { testIdentity } from './durable-harness.js';
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

  it('names the segment log\'s files under log/ and leaves out its temporary files', () => {
    mkdirSync(join(dir, 'log'));
    const seg = '00000000000000000001.seg';
    for (const [name, text] of [[seg, 'records'], ['00000000000000000001.idx', 'ix'], ['00000000000000000001.idx.tmp', 't'], ['1.seg', 'x']] as const) writeFileSync(join(dir, 'log', name), text);
    expect(dataFiles(dir).map((f) => [f.name, f.role, f.sizeBytes])).toEqual([
      ['log/00000000000000000001.idx', 'segment-index', 2],
      [`log/${seg}`, 'segment', 7],
    ]);
    expect(segmentFileRole(seg)).toBe('segment');
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
    // A layout change (a new file kind) fails here until data-files.ts knows it. Enough applied
    // state to fill LevelDB's 4 MiB write buffer, so tables are written besides its log, and
    // small segments, so that sealed ones get their index sidecars.
    const storage = await DurableStorage.open(dir, { ...testIdentity, segmentBytesMax: 256 * 1024 });
    try {
      const body = new Uint8Array(64 * 1024).fill(7);
      for (let batch = 0; batch < 10; batch++) {
        const entries: Entry[] = [];
        for (let k = 1; k <= 10; k++) entries.push({ index: batch * 10 + k, term: 1, type: 'normal', data: body });
        await storage.save({ entries, hardState: { term: 1, vote: 'n1', commit: batch * 10 + 10 } });
        const writes = entries.map((e): StateWrite => ({ type: 'put', key: Buffer.from(`m/${e.index}`), value: body }));
        await storage.applyBatch(writes, batch * 10 + 10, { voters: [], learners: [] });
      }
    } finally {
      await storage.close();
    }
    const listed = new Set(dataFiles(dir).map((f) => f.name));
    for (const name of readdirSync(dir)) {
      if (name === 'log') continue;
      expect(listed.has(name) || notState.has(name), `${name} is neither a data file nor known to hold no state`).toBe(true);
    }
    for (const name of readdirSync(join(dir, 'log'))) expect(listed.has(`log/${name}`), `log/${name} is not a data file`).toBe(true);
    const roles = new Set(dataFiles(dir).map((f) => f.role));
    expect(roles).toEqual(new Set(['segment', 'segment-index', 'write-ahead-log', 'table', 'manifest', 'current']));
  });
});
