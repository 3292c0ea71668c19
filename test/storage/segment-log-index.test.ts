/**
 * The sparse offset index and its sidecar: written for sealed segments, used at open when it
 * checks out against the segment, rebuilt by a scan when missing, damaged or stale.
 */
import { describe, expect, it } from 'vitest';
import { decodeIndexSidecar, encodeIndexSidecar } from '../../src/storage/segment-log/index-sidecar.js';
import { SegmentSummary } from '../../src/storage/segment-log/segment-summary.js';
import { openSim, readAll, records, segmentNames, show, simDir, simDisk, writeLog } from './segment-log-helpers.js';
import type { SimDisk } from './sim-disk.js';

const small = { segmentBytesMax: 400, indexIntervalBytes: 64 };

/** A synced, closed log of records 1..40 in several segments on a fresh SimDisk. */
async function closedLog(): Promise<{ disk: SimDisk; segs: string[] }> {
  const disk = simDisk();
  await writeLog(disk, records(1, 40, (i) => 1 + Math.floor(i / 15)), small);
  return { disk, segs: await segmentNames(disk) };
}

const idx = (seg: string): string => seg.replace('.seg', '.idx');

describe('segment offset index', () => {
  it('keeps an entry per interval of bytes, the first record always at offset 0', () => {
    const s = new SegmentSummary(10, 100);
    for (let i = 10; i < 30; i++) s.add(i < 20 ? 1 : 2, i, 30);
    expect(s.offsets[0]).toEqual({ index: 10, offsetBytes: 0 });
    for (let k = 1; k < s.offsets.length; k++) expect(s.offsets[k]!.offsetBytes - s.offsets[k - 1]!.offsetBytes).toBeGreaterThanOrEqual(100);
    expect(s.offsets.length).toBe(5); // 0, 120, 240, 360, 480
    expect(s.seek(17)).toEqual({ index: 14, offsetBytes: 120 });
    expect(s.termRuns).toEqual([{ index: 10, term: 1 }, { index: 20, term: 2 }]);
    expect([s.termOf(19), s.termOf(20)]).toEqual([1, 2]);
  });

  it('sidecar round-trips a summary and refuses any damaged byte', () => {
    const s = new SegmentSummary(5, 64);
    for (let i = 5; i < 40; i++) s.add(1 + Math.floor(i / 10), i, 33);
    const bytes = encodeIndexSidecar(s);
    const back = decodeIndexSidecar(bytes, 5, 64);
    expect(back).toBeInstanceOf(SegmentSummary);
    expect(encodeIndexSidecar(back as SegmentSummary)).toEqual(bytes);
    for (let i = 0; i < bytes.length; i++) {
      const damaged = bytes.slice();
      damaged[i]! ^= 4;
      expect(typeof decodeIndexSidecar(damaged, 5, 64), `byte ${i}`).toBe('string');
    }
    expect(decodeIndexSidecar(bytes, 6, 64)).toBe('first index disagrees with the segment name');
    expect(decodeIndexSidecar(bytes, 5, 128)).toBe('written with another index interval');
  });

  it('every sealed segment gets a sidecar; the last does not; open uses them without rebuilding', async () => {
    const { disk, segs } = await closedLog();
    const names = await disk.list(simDir);
    for (const seg of segs.slice(0, -1)) expect(names).toContain(idx(seg));
    expect(names).not.toContain(idx(segs.at(-1)!));
    const log = await openSim(disk, small);
    expect(log.recovery.indexesRebuilt).toEqual([]);
    expect(show(await readAll(log))).toEqual(show(records(1, 40, (i) => 1 + Math.floor(i / 15))));
  });

  it('a missing sidecar is rebuilt by a scan, identical to the one written before', async () => {
    const { disk, segs } = await closedLog();
    const before = disk.bytesOf(simDir, idx(segs[1]!)).slice();
    await disk.unlink(simDir, idx(segs[1]!));
    const log = await openSim(disk, small);
    expect(log.recovery.indexesRebuilt).toEqual([segs[1]]);
    expect(disk.bytesOf(simDir, idx(segs[1]!))).toEqual(before);
    expect(log.lastIndex()).toBe(40);
    expect(show(await readAll(log))).toEqual(show(records(1, 40, (i) => 1 + Math.floor(i / 15))));
  });

  it('a damaged sidecar is rebuilt', async () => {
    const { disk, segs } = await closedLog();
    const bytes = disk.bytesOf(simDir, idx(segs[0]!)).slice();
    bytes[bytes.length - 9]! ^= 0xff;
    disk.overwrite(simDir, idx(segs[0]!), bytes);
    const log = await openSim(disk, small);
    expect(log.recovery.indexesRebuilt).toEqual([segs[0]]);
    expect(log.term(40)).toBe(3);
  });

  it('a stale sidecar (valid checksum, another content) is never trusted over the segment', async () => {
    const { disk, segs } = await closedLog();
    // A sidecar from a longer version of segment 0: the segment file now ends a record earlier.
    const segBytes = disk.bytesOf(simDir, segs[0]!);
    const other = await (async () => {
      const d = simDisk();
      const l = await openSim(d, { ...small, segmentBytesMax: 10_000 });
      l.append(records(1, 40, (i) => 1 + Math.floor(i / 15)));
      await l.sync();
      return l;
    })();
    const stale = new SegmentSummary(1, 64);
    for (const r of await other.entries(1, 41)) {
      if (stale.bytes > segBytes.length) break;
      stale.add(r.term, r.index, 28 + r.payload.length);
    }
    expect(stale.bytes).toBeGreaterThan(segBytes.length);
    disk.overwrite(simDir, idx(segs[0]!), encodeIndexSidecar(stale));
    const log = await openSim(disk, small);
    expect(log.recovery.indexesRebuilt).toEqual([segs[0]]);
    expect(show(await readAll(log))).toEqual(show(records(1, 40, (i) => 1 + Math.floor(i / 15))));
  });

  it('reads at every index agree between a dense and a sparse index', async () => {
    const disk = simDisk();
    const dense = await openSim(disk, { segmentBytesMax: 2000, indexIntervalBytes: 1 });
    const recs = records(1, 60);
    dense.append(recs);
    await dense.sync();
    await dense.close();
    const sparse = await openSim(disk, { segmentBytesMax: 2000, indexIntervalBytes: 100_000 });
    expect(sparse.recovery.indexesRebuilt.length).toBeGreaterThan(0); // another interval: rebuilt
    for (let i = 1; i <= 60; i++) expect(show(await sparse.entries(i, i + 1))).toEqual(show([recs[i - 1]!]));
  });
});
