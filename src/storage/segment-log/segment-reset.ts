/**
 * The file steps of SegmentLog.reset(nextIndex), and how recovery recognises a reset that a
 * crash interrupted. A segment's name is its first index, so an empty segment file named
 * nextIndex is the whole of an empty log whose next index is nextIndex.
 *
 * Order, and why every crash reopens the old log or the new empty one, never a mix or a gap:
 * 1. Create the empty segment "nextIndex" and fsync the directory. Before the fsync a crash
 *    may or may not keep it; with or without it the old segments are all there.
 * 2. Delete the old segments from the last to the first, fsyncing the directory after each
 *    deletion, so the old segments left on disk are always a contiguous prefix of the old log.
 * The log asserts nextIndex > lastIndex() (the old records all lie below it). So after step 1
 * the disk holds: an old prefix, then the empty last segment "nextIndex". If that prefix is the
 * whole old log and nextIndex === old lastIndex + 1, the empty segment simply continues it:
 * recovery opens the old log (step 2 had not started). In every other case the prefix ends
 * before nextIndex - 1, or is an empty segment: a gap no ordinary operation leaves (a rolled
 * segment is created only after the one before is durable and non-empty; a truncation never
 * leaves an empty segment before the last). recoverInterruptedReset finishes the reset: the
 * new empty log. The old records were all durable before the reset (a sync writes and
 * fdatasyncs together; unsynced appends are dropped), so the old prefix has no torn tail.
 */
import type { StorageLogger } from '../logger.js';
import type { SegmentDisk } from './segment-disk.js';
import { indexFileName, segmentFileName } from './segment-names.js';
import { scanSegment } from './segment-scan.js';
import { Segment } from './segment.js';
import { SegmentSummary } from './segment-summary.js';
import { removeIfPresent } from './sidecar-files.js';

/**
 * Steps 1 and 2 above: replaces `old` (the log's segments, in index order) by one empty
 * segment starting at `nextIndex`, which it returns. `syncDir` fsyncs the directory.
 */
export async function resetSegmentFiles(disk: SegmentDisk, dir: string, old: readonly Segment[], nextIndex: number, indexIntervalBytes: number, syncDir: () => Promise<void>): Promise<Segment> {
  const name = segmentFileName(nextIndex);
  // The log already empty at nextIndex: its one segment is the result (its file made durable).
  const same = old.length === 1 && old[0]!.name === name && old[0]!.summary.empty ? old[0]! : undefined;
  const fresh = same ?? new Segment(name, new SegmentSummary(nextIndex, indexIntervalBytes), undefined, false);
  if (fresh.file === undefined) fresh.file = await disk.open(dir, name, 'create');
  await syncDir();
  for (const seg of [...old].reverse()) {
    if (seg === fresh) continue;
    if (seg.file === undefined) continue; // never created on disk
    await seg.file.close();
    await disk.unlink(dir, seg.name);
    await syncDir();
    await removeIfPresent(disk, dir, indexFileName(seg.name)); // a cache: an orphan is removed at open
  }
  return fresh;
}

/**
 * Recognises the remnant of an interrupted reset among the segment files `found` (sorted by
 * first index): the last file is empty, and the one before it is empty or ends before the last
 * one's first index - 1. Then deletes every file but the last (the last first, a directory
 * fsync after each: a crash here leaves a remnant of the same shape), logs it, and returns the
 * last alone. Otherwise returns `found` unchanged.
 */
export async function recoverInterruptedReset<T extends { readonly name: string; readonly firstIndex: number }>(disk: SegmentDisk, dir: string, found: readonly T[], indexIntervalBytes: number, logger: StorageLogger): Promise<readonly T[]> {
  const last = found.at(-1);
  const prev = found.at(-2);
  if (last === undefined || prev === undefined) return found;
  if ((await fileBytes(disk, dir, last.name)).length > 0) return found;
  const prevScan = scanSegment(prev.name, await fileBytes(disk, dir, prev.name), prev.firstIndex, 0, indexIntervalBytes);
  if (!prevScan.summary.empty && prevScan.summary.lastIndex + 1 === last.firstIndex) return found;
  logger.warn({ dir, segment: last.name, discarded: found.length - 1 }, 'segment log: finishing a reset a crash interrupted (deleting the segments before the empty last one)');
  for (const seg of found.slice(0, -1).reverse()) {
    await disk.unlink(dir, seg.name);
    await disk.syncDir(dir);
    await removeIfPresent(disk, dir, indexFileName(seg.name));
  }
  return [last];
}

/** The whole content of file `name`. */
async function fileBytes(disk: SegmentDisk, dir: string, name: string): Promise<Uint8Array> {
  const f = await disk.open(dir, name, 'existing');
  try {
    return await f.read(0, await f.size());
  } finally {
    await f.close();
  }
}
