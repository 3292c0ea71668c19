/** Shared helpers of the segment log tests. */
import type { SegmentRecord } from '../../src/storage/segment-log/record-format.js';
import { SegmentLog, type SegmentLogOptions } from '../../src/storage/segment-log/segment-log.js';
import { SimDisk } from './sim-disk.js';

/** The directory every SimDisk test uses. */
export const simDir = '/data/log';

/** A record whose payload is `index` as text repeated to `bytes` bytes (0: index % 40 + 1 bytes). */
export function record(index: number, term: number, bytes = 0): SegmentRecord {
  const text = `<${index}:${term}>`;
  const n = bytes > 0 ? bytes : (index % 40) + 1;
  return { index, term, payload: new TextEncoder().encode(text.repeat(Math.ceil(n / text.length)).slice(0, n)) };
}

/** Records [lo, hi] with terms from `termOf`. */
export function records(lo: number, hi: number, termOf: (i: number) => number = () => 1, bytes = 0): SegmentRecord[] {
  const out: SegmentRecord[] = [];
  for (let i = lo; i <= hi; i++) out.push(record(i, termOf(i), bytes));
  return out;
}

/** A SimDisk with `simDir` made. */
export function simDisk(options: ConstructorParameters<typeof SimDisk>[0] = {}): SimDisk {
  const disk = new SimDisk(options);
  disk.mkdir(simDir);
  return disk;
}

/** Opens the log of `simDir` on `disk`. */
export function openSim(disk: SimDisk, options: SegmentLogOptions = {}): Promise<SegmentLog> {
  return SegmentLog.open(simDir, disk, options);
}

/** Opens the log of `simDir` on `disk`, appends `recs`, syncs and closes it. */
export async function writeLog(disk: SimDisk, recs: readonly SegmentRecord[], options: SegmentLogOptions = {}): Promise<void> {
  const log = await openSim(disk, options);
  log.append(recs);
  await log.sync();
  await log.close();
}

/** Every record of the log. */
export function readAll(log: SegmentLog): Promise<SegmentRecord[]> {
  return log.entries(log.firstIndex(), log.lastIndex() + 1);
}

/** Comparable form of records: "index/term/payload". */
export function show(recs: readonly SegmentRecord[]): string[] {
  return recs.map((r) => `${r.index}/${r.term}/${new TextDecoder().decode(r.payload)}`);
}

/** The segment file names on `disk`, sorted. */
export async function segmentNames(disk: SimDisk): Promise<string[]> {
  return (await disk.list(simDir)).filter((n) => n.endsWith('.seg')).sort();
}

/** What `fn` rejects with (fails the test if it resolves). */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
