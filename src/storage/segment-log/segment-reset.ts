/**
 * The file steps of SegmentLog.reset(nextIndex), and how recovery finishes a reset that a crash
 * interrupted. A segment's name is its first index, so an empty segment file named nextIndex
 * is the whole of an empty log whose next index is nextIndex.
 *
 * Order, and why every crash reopens the old log or the new empty one, never a mix:
 * 1. Write the marker "reset-<nextIndex>.marker" (the index and its CRC-32C), fdatasync it,
 *    fsync the directory. Its name is durable only with its content. Until this fsync nothing
 *    else has changed: a crash reopens the old log (a marker left is removed, see below).
 * 2. Create the empty segment "nextIndex", fsync the directory.
 * 3. Delete the old segments from the last to the first, an fsync of the directory after each.
 * 4. Delete the marker, fsync the directory.
 * Why a marker: "an empty last segment after a gap" is also what real damage looks like (lost
 * middle segments plus an empty last file). Recovery must report that as STORAGE_CORRUPT, not
 * repair it silently, so it finishes a reset only when a durable, valid marker proves one was
 * in flight: the marker names exactly the empty last segment. Then it deletes every segment
 * before it (last first, an fsync after each; a crash there leaves the same proof), then the
 * marker. A valid marker naming no segment, past the last index on disk, is a reset stopped
 * before step 2: the old log stands, the marker is removed. Any other marker (bad CRC, wrong
 * length, several, naming an index the log already holds) is STORAGE_CORRUPT. Without a
 * marker, a gap or an empty segment before the last stays STORAGE_CORRUPT (recovery.ts). The
 * old records were all durable before the reset (a sync writes and fdatasyncs together), so
 * the old segments have no torn tail.
 */
import { crc32c } from '../crc32.js';
import type { StorageLogger } from '../logger.js';
import { SegmentCorruptionError } from './segment-corruption.js';
import type { SegmentDisk } from './segment-disk.js';
import { indexFileName, parseResetMarkerFileName, resetMarkerFileName, segmentFileName } from './segment-names.js';
import { scanSegment } from './segment-scan.js';
import { Segment } from './segment.js';
import { SegmentSummary } from './segment-summary.js';
import { removeIfPresent } from './sidecar-files.js';

/** Marker content: u64 LE next index, u32 LE CRC-32C of those 8 bytes. */
const markerBytes = 12;

/** The content of the marker of a reset to `nextIndex`. */

export function encodeResetMarker(nextIndex: number): Uint8Array {
  const out = new Uint8Array(markerBytes);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(nextIndex), true);
  view.setUint32(8, crc32c(out.subarray(0, 8)), true);
  return out;
}

/** The index a marker's bytes hold, or a reason they are not a valid marker. */
function decodeMarker(bytes: Uint8Array): number | string {
  if (bytes.length !== markerBytes) return `reset marker of ${bytes.length} bytes, expected ${markerBytes}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8, true) !== crc32c(bytes.subarray(0, 8))) return 'reset marker with a bad CRC-32C';
  const n = Number(view.getBigUint64(0, true));
  return Number.isSafeInteger(n) && n >= 1 ? n : `reset marker holds an impossible index ${n}`;
}

/**
 * Steps 1 to 4 above: replaces `old` (the log's segments, in index order) by one empty
 * segment starting at `nextIndex`, which it returns. `syncDir` fsyncs the directory.
 */
export async function resetSegmentFiles(disk: SegmentDisk, dir: string, old: readonly Segment[], nextIndex: number, indexIntervalBytes: number, syncDir: () => Promise<void>): Promise<Segment> {
  const name = segmentFileName(nextIndex);
  // The log already empty at nextIndex: its one segment is the result (its file made durable).
  const same = old.length === 1 && old[0]!.name === name && old[0]!.summary.empty ? old[0]! : undefined;
  if (same !== undefined) {
    if (same.file === undefined) same.file = await disk.open(dir, name, 'create');
    await syncDir();
    return same;
  }
  const markerName = resetMarkerFileName(nextIndex);
  const marker = await disk.open(dir, markerName, 'create');
  try {
    await marker.append(encodeResetMarker(nextIndex));
    await marker.datasync();
  } finally {
    await marker.close();
  }
  await syncDir();
  // An empty last segment already named nextIndex (rolled, nothing appended) is reused.
  const tail = old.at(-1);
  const fresh = tail !== undefined && tail.name === name && tail.summary.empty ? tail : new Segment(name, new SegmentSummary(nextIndex, indexIntervalBytes), undefined, false);
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
  await disk.unlink(dir, markerName);
  await syncDir();
  return fresh;
}

/**
 * Finishes or clears the reset a marker among `names` (the directory) proves, given the
 * segment files `found` (sorted by first index), as the doc comment above says; returns the
 * segments left. Without a marker returns `found` unchanged (recovery.ts then reports any gap).
 * Throws SegmentCorruptionError for a marker that proves nothing.
 */
export async function recoverInterruptedReset<T extends { readonly name: string; readonly firstIndex: number }>(disk: SegmentDisk, dir: string, names: readonly string[], found: readonly T[], indexIntervalBytes: number, logger: StorageLogger): Promise<readonly T[]> {
  const markers = names.filter((n) => parseResetMarkerFileName(n) !== undefined);
  if (markers.length === 0) return found;
  const markerName = markers[0]!;
  if (markers.length > 1) throw new SegmentCorruptionError(markerName, 0, null, `${markers.length} reset markers (${markers.join(', ')}); a reset leaves at most one`);
  const decoded = decodeMarker(await fileBytes(disk, dir, markerName));
  if (typeof decoded === 'string') throw new SegmentCorruptionError(markerName, 0, null, decoded);
  if (decoded !== parseResetMarkerFileName(markerName)) throw new SegmentCorruptionError(markerName, 0, null, `reset marker holds index ${decoded}, its name another`);
  const last = found.at(-1);
  const lastBytes = last === undefined ? undefined : await fileBytes(disk, dir, last.name);
  let kept = found;
  if (last !== undefined && last.firstIndex === decoded && lastBytes!.length === 0) {
    // Step 2 done: finish step 3.
    logger.warn({ dir, segment: last.name, marker: markerName, discarded: found.length - 1 }, 'segment log: finishing a reset a crash interrupted (deleting the segments before the empty last one)');
    for (const seg of found.slice(0, -1).reverse()) {
      await disk.unlink(dir, seg.name);
      await disk.syncDir(dir);
      await removeIfPresent(disk, dir, indexFileName(seg.name));
    }
    kept = [last];
  } else {
    // Step 2 not done: the old log stands, and lies wholly below the marker's index.
    const lastIndex = last === undefined ? 0 : scanSegment(last.name, lastBytes!, last.firstIndex, 0, indexIntervalBytes).summary.lastIndex;
    if (found.some((s) => s.firstIndex === decoded) || decoded <= lastIndex) {
      throw new SegmentCorruptionError(markerName, 0, decoded, `reset marker names index ${decoded}, which is not an empty last segment and not past the last index ${lastIndex}`);
    }
    logger.warn({ dir, marker: markerName }, 'segment log: removing the marker of a reset a crash stopped before it changed any segment');
  }
  await disk.unlink(dir, markerName);
  await disk.syncDir(dir);
  return kept;
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
