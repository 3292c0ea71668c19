/**
 * Recovery at open: a torn tail of the last segment is cut, logged and reported; every other
 * kind of damage is STORAGE_CORRUPT naming the segment file and the byte offset.
 */
import { describe, expect, it } from 'vitest';
import { StorageCorruptionError } from '../../src/storage/errors.js';
import type { StorageLogger } from '../../src/storage/logger.js';
import { encodeRecord, recordBytesOf } from '../../src/storage/segment-log/record-format.js';
import { SegmentCorruptionError } from '../../src/storage/segment-log/segment-corruption.js';
import { openSim, readAll, record, records, rejection, segmentNames, show, simDir, simDisk, writeLog } from './segment-log-helpers.js';
import type { SimDisk } from './sim-disk.js';

const small = { segmentBytesMax: 200, indexIntervalBytes: 64 };
const seg1 = '00000000000000000001.seg';

/** A logger that keeps what it is given. */
function recordingLogger(): StorageLogger & { warnings: { obj: object; msg: string }[] } {
  const warnings: { obj: object; msg: string }[] = [];
  return { warnings, info: () => undefined, warn: (obj, msg) => warnings.push({ obj, msg }) };
}

/** Writes a file durably, as if left by an earlier run. */
async function putFile(disk: SimDisk, name: string, bytes: Uint8Array): Promise<void> {
  const f = await disk.open(simDir, name, 'create');
  await f.append(bytes);
  await f.datasync();
  await f.close();
  await disk.syncDir(simDir);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(parts.flatMap((p) => Array.from(p)));
}

/** Expects SegmentCorruptionError (STORAGE_CORRUPT) at `segment` byte `offsetBytes`. */
function expectCorruptAt(err: unknown, segment: string, offsetBytes: number): void {
  expect(err).toBeInstanceOf(SegmentCorruptionError);
  expect(err).toBeInstanceOf(StorageCorruptionError);
  const e = err as SegmentCorruptionError;
  expect([e.code, e.segment, e.offsetBytes]).toEqual(['STORAGE_CORRUPT', segment, offsetBytes]);
  expect(e.message).toContain(`segment ${segment} at byte ${offsetBytes}`);
}

/** Three encoded records 1..3 (term 1) and their start offsets. */
function threeRecords(): { bytes: Uint8Array[]; offsets: number[] } {
  const bytes = [1, 2, 3].map((i) => encodeRecord(record(i, 1)));
  return { bytes, offsets: [0, bytes[0]!.length, bytes[0]!.length + bytes[1]!.length] };
}

describe('SegmentLog recovery', () => {
  it('cuts an incomplete record at the tail of the last segment, logs it (segment, offset) and reports it', async () => {
    const { bytes, offsets } = threeRecords();
    const disk = simDisk();
    await putFile(disk, seg1, concat(bytes[0]!, bytes[1]!, bytes[2]!.subarray(0, 17)));
    const logger = recordingLogger();
    const log = await openSim(disk, { logger });
    expect(log.recovery.tornTail).toEqual({ segment: seg1, offsetBytes: offsets[2], droppedBytes: 17, reason: 'incomplete record' });
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]!.obj).toMatchObject({ segment: seg1, offsetBytes: offsets[2] });
    expect(disk.bytesOf(simDir, seg1).length).toBe(offsets[2]);
    expect(show(await readAll(log))).toEqual(show(records(1, 2)));
    log.append([record(3, 1)]);
    await log.sync();
    expect(show(await readAll(log))).toEqual(show(records(1, 3)));
  });

  it('cuts a bad record at the very tail (zeros of an unwritten extent), with nothing valid after it', async () => {
    const { bytes, offsets } = threeRecords();
    const disk = simDisk();
    await putFile(disk, seg1, concat(bytes[0]!, bytes[1]!, new Uint8Array(100)));
    const log = await openSim(disk);
    expect(log.recovery.tornTail).toMatchObject({ segment: seg1, offsetBytes: offsets[2], droppedBytes: 100 });
    expect(log.lastIndex()).toBe(2);
  });

  it('a bad record followed by a valid one is corruption, not a torn tail', async () => {
    const { bytes, offsets } = threeRecords();
    const damaged = bytes[1]!.slice();
    damaged[30]! ^= 1; // a payload byte: checksum mismatch
    const disk = simDisk();
    await putFile(disk, seg1, concat(bytes[0]!, damaged, bytes[2]!));
    expectCorruptAt(await rejection(() => openSim(disk)), seg1, offsets[1]!);
    expect(disk.bytesOf(simDir, seg1).length).toBe(offsets[2]! + bytes[2]!.length); // nothing repaired
  });

  it('a damaged length field that makes a record look incomplete is corruption when a valid record follows', async () => {
    const { bytes, offsets } = threeRecords();
    const damaged = bytes[1]!.slice();
    new DataView(damaged.buffer).setUint32(0, 10_000, true);
    const disk = simDisk();
    await putFile(disk, seg1, concat(bytes[0]!, damaged, bytes[2]!));
    expectCorruptAt(await rejection(() => openSim(disk)), seg1, offsets[1]!);
  });

  it('an index out of sequence inside a segment is corruption at that record', async () => {
    const parts = [record(1, 1), record(2, 1), record(4, 1)].map(encodeRecord);
    const disk = simDisk();
    await putFile(disk, seg1, concat(...parts));
    expectCorruptAt(await rejection(() => openSim(disk)), seg1, parts[0]!.length + parts[1]!.length);
  });

  it('a decreasing term is corruption at that record', async () => {
    const parts = [record(1, 2), record(2, 1)].map(encodeRecord);
    const disk = simDisk();
    await putFile(disk, seg1, concat(...parts));
    expectCorruptAt(await rejection(() => openSim(disk)), seg1, parts[0]!.length);
  });

  it('a segment missing between two others is a gap: corruption at the start of the later one', async () => {
    const disk = simDisk();
    await writeLog(disk, records(1, 30), small);
    const names = await segmentNames(disk);
    await disk.unlink(simDir, names[2]!);
    await disk.syncDir(simDir);
    expectCorruptAt(await rejection(() => openSim(disk, small)), names[3]!, 0);
  });

  it('a segment whose first record is not its name is corruption at byte 0', async () => {
    const disk = simDisk();
    await putFile(disk, seg1, encodeRecord(record(1, 1)));
    await putFile(disk, '00000000000000000002.seg', encodeRecord(record(3, 1)));
    expectCorruptAt(await rejection(() => openSim(disk)), '00000000000000000002.seg', 0);
  });

  it('damage in a sealed segment without its sidecar is corruption at open, even at its tail', async () => {
    const disk = simDisk();
    await writeLog(disk, records(1, 30), small);
    const [first] = await segmentNames(disk);
    await disk.unlink(simDir, first!.replace('.seg', '.idx'));
    const bytes = disk.bytesOf(simDir, first!);
    disk.overwrite(simDir, first!, bytes.subarray(0, bytes.length - 5)); // cut: a torn record, but not in the last segment
    const lastOffset = recordBytesOf(record(1, 1).payload.length) + recordBytesOf(record(2, 1).payload.length);
    const err = await rejection(() => openSim(disk, small));
    expect((err as SegmentCorruptionError).segment).toBe(first);
    expect((err as SegmentCorruptionError).offsetBytes).toBeGreaterThanOrEqual(lastOffset);
  });

  it('damage in a sealed segment with a good sidecar is found by the read, which never returns it', async () => {
    const disk = simDisk();
    await writeLog(disk, records(1, 30), small);
    const [first] = await segmentNames(disk);
    const bytes = disk.bytesOf(simDir, first!).slice();
    const secondOffset = recordBytesOf(record(1, 1).payload.length);
    bytes[secondOffset + 30]! ^= 0x40; // inside record 2's payload; the last record is intact
    disk.overwrite(simDir, first!, bytes);
    const reopened = await openSim(disk, small);
    expect(reopened.recovery.indexesRebuilt).toEqual([]);
    expect(show(await reopened.entries(1, 2))).toEqual(show([record(1, 1)]));
    expectCorruptAt(await rejection(() => reopened.entries(1, 10)), first!, secondOffset);
  });
});

describe('SegmentLog recovery, exhaustively over cut points', () => {
  it('a last segment cut at any byte opens to the whole records before the cut, reporting a torn tail unless the cut is on a boundary', async () => {
    const { bytes, offsets } = threeRecords();
    const whole = concat(...bytes);
    for (let cut = 0; cut <= whole.length; cut++) {
      const disk = simDisk();
      await putFile(disk, seg1, whole.subarray(0, cut));
      const log = await openSim(disk);
      const complete = [...offsets, whole.length].filter((end, k) => k > 0 && end <= cut).length;
      expect(log.lastIndex(), `cut ${cut}`).toBe(complete);
      const boundary = [0, ...offsets.slice(1), whole.length].includes(cut);
      expect(log.recovery.tornTail === null, `cut ${cut}`).toBe(boundary);
      expect(show(await readAll(log))).toEqual(show(records(1, complete)));
    }
  });

  it('a term that decreases across segments is corruption at the start of the later one', async () => {
    const disk = simDisk();
    await putFile(disk, seg1, encodeRecord(record(1, 2)));
    await putFile(disk, '00000000000000000002.seg', encodeRecord(record(2, 1)));
    expectCorruptAt(await rejection(() => openSim(disk)), '00000000000000000002.seg', 0);
  });
});
