/** SegmentLog.reset(nextIndex): round trip, reopen, and a crash at every step of it. */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../raft/assert.js';
import { LogCompactedError } from '../../src/storage/errors.js';
import { openSim, readAll, records, rejection, segmentNames, show, simDisk } from './segment-log-helpers.js';

const small = { segmentBytesMax: 200, indexIntervalBytes: 64 };

describe('SegmentLog.reset', () => {
  it('empties the log at nextIndex; appends continue there', async () => {
    const log = await openSim(simDisk(), small);
    log.append(records(1, 30));
    await log.sync();
    log.append(records(31, 33)); // unsynced: dropped too
    await log.reset(100);
    expect([log.firstIndex(), log.lastIndex()]).toEqual([100, 99]);
    expect(await readAll(log)).toEqual([]);
    expect(await rejection(() => log.entries(50, 51))).toBeInstanceOf(LogCompactedError);
    expect(() => log.append(records(101, 101))).toThrow(AssertionError);
    log.append(records(100, 110, () => 3));
    await log.sync();
    expect(show(await readAll(log))).toEqual(show(records(100, 110, () => 3)));
  });

  it('reopens empty at nextIndex after reset, and with the new records after appends', async () => {
    const disk = simDisk();
    const log = await openSim(disk, small);
    log.append(records(1, 30));
    await log.sync();
    await log.reset(31);
    expect(await segmentNames(disk)).toEqual([`${String(31).padStart(20, '0')}.seg`]);
    disk.crash();
    disk.reboot();
    const reopened = await openSim(disk, small);
    expect([reopened.firstIndex(), reopened.lastIndex()]).toEqual([31, 30]);
    reopened.append(records(31, 40, () => 2));
    await reopened.sync();
    await reopened.close();
    const again = await openSim(disk, small);
    expect(show(await readAll(again))).toEqual(show(records(31, 40, () => 2)));
  });

  it('asserts nextIndex past the last index; an empty log may be reset where it stands', async () => {
    const log = await openSim(simDisk(), small);
    log.append(records(1, 5));
    expect(await rejection(() => log.reset(5))).toBeInstanceOf(AssertionError);
  });

  it('resets an empty log (and one already empty at nextIndex)', async () => {
    const disk = simDisk();
    const log = await openSim(disk, small);
    await log.reset(1);
    await log.reset(7);
    await log.reset(7);
    disk.crash();
    disk.reboot();
    const reopened = await openSim(disk, small);
    expect([reopened.firstIndex(), reopened.lastIndex()]).toEqual([7, 6]);
  });

  for (const nextIndex of [31, 500]) {
    it(`a crash at every step of reset(${nextIndex}) reopens the old log or the empty new one`, async () => {
      const seen = new Set<string>();
      for (let step = 0; step < 40; step++) {
        const disk = simDisk();
        const log = await openSim(disk, small);
        log.append(records(1, 30, (i) => 1 + Math.floor(i / 10)));
        await log.sync();
        disk.scheduleCrash(step);
        const done = await log.reset(nextIndex).then(
          () => true,
          () => false,
        );
        if (done) disk.crash();
        disk.reboot();
        const reopened = await openSim(disk, small);
        const got = show(await readAll(reopened));
        const old = show(records(1, 30, (i) => 1 + Math.floor(i / 10)));
        if (got.length > 0) {
          expect(got).toEqual(old);
          seen.add('old');
        } else {
          expect([reopened.firstIndex(), reopened.lastIndex()]).toEqual([nextIndex, nextIndex - 1]);
          seen.add('new');
        }
        await reopened.close();
        if (done) break;
      }
      expect([...seen].sort()).toEqual(['new', 'old']);
    });
  }
});
