/** nodeDisk against a real temporary directory: the SegmentDisk operations, and a log on it. */
import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeDisk } from '../../src/storage/segment-log/node-disk.js';
import { SegmentLog } from '../../src/storage/segment-log/segment-log.js';
import { makeTempDir, removeDir } from './helpers.js';
import { records, rejection, show } from './segment-log-helpers.js';

describe('nodeDisk', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('creates exclusively, appends, reads at offsets, truncates, renames, lists, syncs', async () => {
    const f = await nodeDisk.open(dir, 'a.seg', 'create');
    await f.append(new Uint8Array([1, 2, 3, 4, 5]));
    await f.append(new Uint8Array([6, 7]));
    expect(await f.size()).toBe(7);
    expect(Array.from(await f.read(2, 3))).toEqual([3, 4, 5]);
    expect(Array.from(await f.read(5, 10))).toEqual([6, 7]); // short only at the end
    await f.truncate(4);
    await f.append(new Uint8Array([9])); // appends land at the (new) end
    expect(Array.from(await f.read(0, 10))).toEqual([1, 2, 3, 4, 9]);
    await f.datasync();
    await f.close();
    expect(await rejection(() => nodeDisk.open(dir, 'a.seg', 'create'))).toMatchObject({ code: 'EEXIST' });
    expect(await rejection(() => nodeDisk.open(dir, 'missing.seg', 'existing'))).toMatchObject({ code: 'ENOENT' });
    await nodeDisk.rename(dir, 'a.seg', 'b.seg');
    await nodeDisk.syncDir(dir);
    expect(await nodeDisk.list(dir)).toEqual(['b.seg']);
    const g = await nodeDisk.open(dir, 'b.seg', 'existing');
    expect(await g.size()).toBe(5);
    await g.close();
    await nodeDisk.unlink(dir, 'b.seg');
    expect(await readdir(dir)).toEqual([]);
  });

  it('runs a segment log: roll, sync, reopen, truncate, compact', async () => {
    const opts = { segmentBytesMax: 300, indexIntervalBytes: 64 };
    const log = await SegmentLog.open(dir, nodeDisk, opts);
    log.append(records(1, 40, (i) => 1 + Math.floor(i / 20)));
    await log.sync();
    await log.truncateSuffix(31);
    log.append(records(31, 35, () => 4));
    await log.sync();
    const first = await log.compactPrefix(10);
    await log.sync();
    await log.close();
    const names = (await readdir(dir)).sort();
    expect(names.filter((n) => n.endsWith('.seg')).length).toBeGreaterThan(2);
    expect(names.filter((n) => n.endsWith('.idx')).length).toBe(names.filter((n) => n.endsWith('.seg')).length - 1);
    const reopened = await SegmentLog.open(dir, nodeDisk, opts);
    expect(reopened.recovery).toEqual({ segments: names.filter((n) => n.endsWith('.seg')).length, tornTail: null, indexesRebuilt: [] });
    const expected = [...records(first, 30, (i) => 1 + Math.floor(i / 20)), ...records(31, 35, () => 4)];
    expect(show(await reopened.entries(first, 36))).toEqual(show(expected));
    await reopened.close();
  });
});
