/** SegmentLog.reset(nextIndex): round trip, reopen, and a crash at every step of it. */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../raft/assert.js';
import { LogCompactedError, StorageCorruptionError } from '../../src/storage/errors.js';
import { resetMarkerFileName, segmentFileName } from '../../src/storage/segment-log/segment-names.js';
import { encodeResetMarker } from '../../src/storage/segment-log/segment-reset.js';
import { openSim, readAll, records, rejection, segmentNames, show, simDir, simDisk, writeLog } from './segment-log-helpers.js';
import type { SimDisk } from './sim-disk.js';

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

  /** A closed log of records 1..30 in several segments, plus an empty segment 500 after a lost middle one. */
  async function gapLayout(): Promise<{ disk: SimDisk; names: string[] }> {
    const disk = simDisk();
    await writeLog(disk, records(1, 30), small);
    const before = await segmentNames(disk);
    expect(before.length).toBeGreaterThan(3);
    await disk.unlink(simDir, before[2]!);
    await (await disk.open(simDir, segmentFileName(500), 'create')).close();
    await disk.syncDir(simDir);
    return { disk, names: await segmentNames(disk) };
  }

  async function putMarker(disk: SimDisk, name: string, bytes: Uint8Array): Promise<void> {
    const f = await disk.open(simDir, name, 'create');
    await f.append(bytes);
    await f.datasync();
    await f.close();
    await disk.syncDir(simDir);
  }

  it('an empty last segment after a gap, without a reset marker, is STORAGE_CORRUPT and nothing is deleted', async () => {
    const { disk, names } = await gapLayout();
    const err = await rejection(() => openSim(disk, small));
    expect(err).toBeInstanceOf(StorageCorruptionError);
    expect(String((err as Error).message)).toContain('.seg');
    expect(await segmentNames(disk)).toEqual(names);
  });

  it('a reset marker with a bad CRC is STORAGE_CORRUPT and nothing is deleted', async () => {
    const { disk, names } = await gapLayout();
    const bytes = new Uint8Array(12);
    new DataView(bytes.buffer).setBigUint64(0, 500n, true);
    await putMarker(disk, resetMarkerFileName(500), bytes);
    expect(await rejection(() => openSim(disk, small))).toBeInstanceOf(StorageCorruptionError);
    expect(await segmentNames(disk)).toEqual(names);
    expect(await disk.list(simDir)).toContain(resetMarkerFileName(500));
  });

  it('a valid marker naming the empty last segment finishes the reset; one naming a held index is STORAGE_CORRUPT', async () => {
    const { disk } = await gapLayout();
    await putMarker(disk, resetMarkerFileName(10), encodeResetMarker(10));
    expect(await rejection(() => openSim(disk, small))).toBeInstanceOf(StorageCorruptionError);
    await disk.unlink(simDir, resetMarkerFileName(10));
    await putMarker(disk, resetMarkerFileName(500), encodeResetMarker(500));
    const reopened = await openSim(disk, small);
    expect([reopened.firstIndex(), reopened.lastIndex()]).toEqual([500, 499]);
    expect(await disk.list(simDir)).toEqual([segmentFileName(500)]);
    await reopened.close();
  });

  for (const nextIndex of [31, 500]) {
    it(`a crash at every step of reset(${nextIndex}) reopens the old log or the empty new one`, async () => {
      const seen = new Set<string>();
      let finished = false;
      for (let step = 0; step < 80; step++) {
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
        finished = done;
        if (done) break;
      }
      expect(finished).toBe(true);
      expect([...seen].sort()).toEqual(['new', 'old']);
    });
  }
});
