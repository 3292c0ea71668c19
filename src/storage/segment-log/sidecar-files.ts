/** Reading, checking and writing offset index sidecars (the format is index-sidecar.ts). */
import { decodeRecord } from './record-format.js';
import { decodeIndexSidecar, encodeIndexSidecar } from './index-sidecar.js';
import type { SegmentDisk, SegmentFile } from './segment-disk.js';
import { indexFileName, indexTempFileName } from './segment-names.js';
import type { SegmentSummary } from './segment-summary.js';

/**
 * Loads the sidecar of `segmentName` and checks it against the segment file: it must record
 * the file's exact size, and its last record must decode at the recorded offset with the
 * recorded index and term, ending at the end of the file. Returns the summary, or why the
 * sidecar cannot be used (missing, damaged, stale).
 */
export async function loadIndexSidecar(disk: SegmentDisk, dir: string, segmentName: string, segment: SegmentFile, firstIndex: number, indexIntervalBytes: number): Promise<SegmentSummary | string> {
  let bytes: Uint8Array;
  try {
    const f = await disk.open(dir, indexFileName(segmentName), 'existing');
    try {
      bytes = await f.read(0, await f.size());
    } finally {
      await f.close();
    }
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return 'missing';
    throw err;
  }
  const summary = decodeIndexSidecar(bytes, firstIndex, indexIntervalBytes);
  if (typeof summary === 'string') return summary;
  const size = await segment.size();
  if (size !== summary.bytes) return `records ${summary.bytes} bytes, the segment has ${size}`;
  const tail = await segment.read(summary.lastRecordOffset, size - summary.lastRecordOffset);
  const d = decodeRecord(tail, 0);
  if (d.type !== 'valid' || d.recordBytes !== tail.length || d.record.index !== summary.lastIndex || d.record.term !== summary.lastTerm) return 'its last record does not match the segment';
  return summary;
}

/**
 * Writes the sidecar of a sealed segment: a temporary file, then a rename over the old one,
 * so a reader sees a whole sidecar or none. Not synced: it is a cache (a lost or torn one is
 * rebuilt by a scan).
 */
export async function writeIndexSidecar(disk: SegmentDisk, dir: string, segmentName: string, summary: SegmentSummary): Promise<void> {
  const temp = indexTempFileName(segmentName);
  await removeIfPresent(disk, dir, temp);
  const f = await disk.open(dir, temp, 'create');
  try {
    await f.append(encodeIndexSidecar(summary));
  } finally {
    await f.close();
  }
  await disk.rename(dir, temp, indexFileName(segmentName));
}

/** Unlinks `name` in `dir`; true if it was there. */
export async function removeIfPresent(disk: SegmentDisk, dir: string, name: string): Promise<boolean> {
  try {
    await disk.unlink(dir, name);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return false;
    throw err;
  }
}
