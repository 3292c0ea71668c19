/** SegmentLog on SimDisk: round trip, rolling, truncation, compaction, reopen, group commit. */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../raft/assert.js';
import { StorageIoError } from '../../src/storage/errors.js';
import { openSim, readAll, record, records, rejection, segmentNames, show, simDir, simDisk, writeLog } from './segment-log-helpers.js';

/** Small segments: about 4 records of 40-odd bytes each. */
const small = { segmentBytesMax: 200, indexIntervalBytes: 64 };

describe('SegmentLog', () => {
  it('round-trips appended records before and after sync, and reports their terms', async () => {
    const disk = simDisk();
    const log = await openSim(disk);
    expect([log.firstIndex(), log.lastIndex()]).toEqual([1, 0]);
    const recs = records(1, 10, (i) => (i < 5 ? 1 : 3));
    log.append(recs);
    expect(show(await readAll(log))).toEqual(show(recs)); // readable before sync
    await log.sync();
    expect(show(await log.entries(3, 8))).toEqual(show(recs.slice(2, 7)));
    expect([log.term(4), log.term(5), log.lastIndex()]).toEqual([1, 3, 10]);
    await log.close();
  });

  it('rolls to a new segment named by its first index when full, and reads across segments', async () => {
    const disk = simDisk();
    const log = await openSim(disk, small);
    const recs = records(1, 30, (i) => 1 + Math.floor(i / 7));
    log.append(recs);
    await log.sync();
    const names = await segmentNames(disk);
    expect(names.length).toBeGreaterThan(5);
    expect(names[0]).toBe('00000000000000000001.seg');
    for (const name of names) expect(disk.bytesOf(simDir, name).length).toBeLessThanOrEqual(200);
    expect(show(await readAll(log))).toEqual(show(recs));
    expect(show(await log.entries(7, 23))).toEqual(show(recs.slice(6, 22)));
  });

  it('reads records larger than the read chunk that start anywhere, after a reopen (from disk)', async () => {
    // Each record is 64 KiB + 29 bytes: the third starts right where a 64 KiB read of the one
    // before ended, so its first read holds none of it and a second read must follow.
    const disk = simDisk();
    let log = await openSim(disk);
    const recs = [record(1, 1, 10), ...records(2, 6, () => 1, 64 * 1024 + 1)];
    log.append(recs);
    await log.sync();
    await log.close();
    log = await openSim(disk);
    expect(show(await readAll(log))).toEqual(show(recs));
    expect(show(await log.entries(3, 5))).toEqual(show(recs.slice(2, 4)));
    await log.close();
  });

  it('stops a read at the payload byte limit, always returning the first record', async () => {
    const log = await openSim(simDisk(), small);
    log.append(records(1, 20, () => 1, 30));
    expect((await log.entries(1, 21, 100)).map((r) => r.index)).toEqual([1, 2, 3]);
    expect((await log.entries(5, 21, 1)).map((r) => r.index)).toEqual([5]);
  });

  it('puts a record larger than segmentBytesMax alone in its segment', async () => {
    const disk = simDisk();
    const log = await openSim(disk, small);
    log.append([record(1, 1, 10), record(2, 1, 500), record(3, 1, 10)]);
    await log.sync();
    expect(await segmentNames(disk)).toEqual(['00000000000000000001.seg', '00000000000000000002.seg', '00000000000000000003.seg']);
    expect((await readAll(log)).map((r) => r.payload.length)).toEqual([10, 500, 10]);
  });

  it('truncates a suffix across segments: later segments deleted, the one holding `from` cut', async () => {
    const disk = simDisk();
    const log = await openSim(disk, small);
    log.append(records(1, 30));
    await log.sync();
    const before = await segmentNames(disk);
    await log.truncateSuffix(9);
    expect(log.lastIndex()).toBe(8);
    log.append(records(9, 12, () => 2));
    await log.sync();
    const after = await segmentNames(disk);
    expect(after.length).toBeLessThan(before.length);
    const expected = [...records(1, 8), ...records(9, 12, () => 2)];
    expect(show(await readAll(log))).toEqual(show(expected));
    await log.close();
    const reopened = await openSim(disk, small);
    expect(show(await readAll(reopened))).toEqual(show(expected));
  });

  it('truncates unsynced records without touching the disk', async () => {
    const log = await openSim(simDisk(), small);
    log.append(records(1, 5));
    await log.sync();
    log.append(records(6, 20));
    await log.truncateSuffix(4);
    log.append(records(4, 6, () => 5));
    await log.sync();
    expect(show(await readAll(log))).toEqual(show([...records(1, 3), ...records(4, 6, () => 5)]));
  });

  it('truncating from the first index empties the log and keeps the next index across a reopen', async () => {
    const disk = simDisk();
    const log = await openSim(disk, small);
    log.append(records(1, 30));
    await log.sync();
    await log.compactPrefix(12);
    const first = log.firstIndex();
    await log.truncateSuffix(first);
    await log.sync();
    expect([log.firstIndex(), log.lastIndex()]).toEqual([first, first - 1]);
    await log.close();
    const reopened = await openSim(disk, small);
    expect([reopened.firstIndex(), reopened.lastIndex()]).toEqual([first, first - 1]);
    reopened.append([record(first, 9)]);
    expect(show(await readAll(reopened))).toEqual(show([record(first, 9)]));
  });

  it('compacts whole segments at or below upTo, never the last one', async () => {
    const disk = simDisk();
    const log = await openSim(disk, small);
    log.append(records(1, 30));
    await log.sync();
    const first = await log.compactPrefix(12);
    expect(first).toBeGreaterThan(1);
    expect(first).toBeLessThanOrEqual(13);
    expect(log.firstIndex()).toBe(first);
    expect((await segmentNames(disk))[0]).toBe(`${String(first).padStart(20, '0')}.seg`);
    expect(show(await readAll(log))).toEqual(show(records(first, 30)));
    expect(await log.compactPrefix(1000)).toBe(log.firstIndex());
    expect(log.lastIndex()).toBe(30);
    expect((await segmentNames(disk)).length).toBe(1);
    await log.sync();
    await log.close();
    const reopened = await openSim(disk, small);
    expect(reopened.firstIndex()).toBe(log.firstIndex());
    expect(show(await readAll(reopened))).toEqual(show(records(log.firstIndex(), 30)));
  });

  it('reopens to the same records, terms and bounds', async () => {
    const disk = simDisk();
    const log = await openSim(disk, small);
    const recs = records(1, 40, (i) => 1 + Math.floor(i / 9));
    log.append(recs);
    await log.sync();
    await log.close();
    const reopened = await openSim(disk, small);
    expect(reopened.recovery.tornTail).toBeNull();
    expect([reopened.firstIndex(), reopened.lastIndex(), reopened.term(40)]).toEqual([1, 40, 5]);
    expect(show(await readAll(reopened))).toEqual(show(recs));
    reopened.append([record(41, 5)]);
    await reopened.sync();
  });

  it('group commit: one fdatasync per changed segment, a directory fsync only when segments were created', async () => {
    const disk = simDisk();
    const log = await openSim(disk, small);
    for (let i = 1; i <= 3; i++) log.append([record(i, 1)]);
    await log.sync();
    expect([disk.calls.get('datasync'), disk.calls.get('syncDir'), disk.calls.get('append')]).toEqual([1, 1, 1]);
    log.append([record(4, 1)]);
    await log.sync();
    expect([disk.calls.get('datasync'), disk.calls.get('syncDir')]).toEqual([2, 1]);
    await log.sync(); // nothing new: no disk call
    expect([disk.calls.get('datasync'), disk.calls.get('syncDir')]).toEqual([2, 1]);
  });

  it('appends made while a sync runs ride the next sync', async () => {
    const disk = simDisk();
    const log = await openSim(disk);
    log.append([record(1, 1)]);
    disk.beforeOp = (op) => {
      if (op !== 'datasync') return;
      disk.beforeOp = undefined;
      log.append([record(2, 1)]); // between the write and the fdatasync of record 1
    };
    await log.sync();
    expect(log.lastIndex()).toBe(2);
    disk.crash();
    disk.reboot();
    const afterFirst = await openSim(disk);
    expect((await readAll(afterFirst)).map((r) => r.index)).toEqual([1]);
    afterFirst.append([record(2, 1)]);
    const during = afterFirst.sync();
    afterFirst.append([record(3, 1)]); // before the sync started: it rides this one
    await during;
    await afterFirst.sync();
    disk.crash();
    disk.reboot();
    expect((await readAll(await openSim(disk))).map((r) => r.index)).toEqual([1, 2, 3]);
  });

  it('asserts contiguous indexes and non-decreasing terms on append', async () => {
    const log = await openSim(simDisk());
    log.append([record(1, 2)]);
    expect(() => log.append([record(3, 2)])).toThrow(AssertionError);
    expect(() => log.append([record(2, 1)])).toThrow(AssertionError);
    expect(() => log.term(2)).toThrow(AssertionError);
  });

  it('an EIO on fdatasync fails the log with STORAGE_IO, for that sync and every later call', async () => {
    const disk = simDisk();
    const log = await openSim(disk);
    log.append([record(1, 1)]);
    disk.injectFault('datasync', 'EIO');
    const err = await rejection(() => log.sync());
    expect(err).toBeInstanceOf(StorageIoError);
    expect((err as StorageIoError).code).toBe('STORAGE_IO');
    expect(() => log.append([record(2, 1)])).toThrow(StorageIoError);
    expect(await rejection(() => log.sync())).toBe(err);
  });

  it('an ENOSPC on write fails the log with STORAGE_FULL', async () => {
    const disk = simDisk();
    const log = await openSim(disk);
    log.append([record(1, 1)]);
    disk.injectFault('append', 'ENOSPC');
    expect(await rejection(() => log.sync())).toMatchObject({ code: 'STORAGE_FULL' });
  });
});

describe('SegmentLog operation order', () => {
  it('a read called before a truncation sees the records before it; one called after waits for it', async () => {
    const log = await openSim(simDisk(), small);
    log.append(records(1, 20));
    await log.sync();
    const before = log.entries(1, 21);
    const truncation = log.truncateSuffix(6);
    const after = log.entries(1, 6);
    await truncation;
    expect((await before).map((r) => r.index)).toEqual(records(1, 20).map((r) => r.index));
    expect(show(await after)).toEqual(show(records(1, 5)));
    log.append([record(6, 2)]);
    expect(log.lastIndex()).toBe(6);
  });

  it('append while a truncation is pending is a programming error', async () => {
    const log = await openSim(simDisk());
    log.append(records(1, 5));
    const truncation = log.truncateSuffix(3);
    expect(() => log.append([record(6, 1)])).toThrow(AssertionError);
    await truncation;
    log.append([record(3, 1)]);
  });

  it('a truncation that deletes segments fsyncs the directory before cutting', async () => {
    const disk = simDisk();
    const log = await openSim(disk, small);
    log.append(records(1, 30));
    await log.sync();
    const ops: string[] = [];
    disk.beforeOp = (op) => ops.push(op);
    await log.truncateSuffix(2);
    const cut = ops.indexOf('truncate');
    const dirSync = ops.indexOf('syncDir');
    expect(cut).toBeGreaterThan(0);
    expect(dirSync).toBeGreaterThan(ops.slice(0, cut).lastIndexOf('unlink'));
    expect(dirSync).toBeLessThan(cut);
  });

  it('open removes sidecars whose segment is gone', async () => {
    const disk = simDisk();
    await writeLog(disk, records(1, 30), small);
    const f = await disk.open(simDir, '00000000000000000999.idx', 'create');
    await f.close();
    await openSim(disk, small);
    expect(await disk.list(simDir)).not.toContain('00000000000000000999.idx');
  });
});
