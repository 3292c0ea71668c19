/**
 * Opening the segments of a log directory after a clean stop or a crash.
 *
 * Sealed segments (every one but the last) were fdatasynced in full before the next one was
 * created (segment-log.ts sync), so they are whole: their summary comes from the sidecar when
 * it checks out, else from a scan, and any damage in them is corruption. The last segment is
 * always scanned: a torn record at its very end (incomplete, or bad with no valid record after
 * it) was never synced, so never acknowledged; it is cut off, logged (warn, segment and byte
 * offset) and reported. Anything else is SegmentCorruptionError (STORAGE_CORRUPT): a bad
 * record with a valid one after it, an index gap or reordering within or between segments, a
 * decreasing term, an empty segment before the last. Nothing is repaired silently. A reset
 * a crash interrupted is finished first, and only when its durable marker proves it
 * (segment-reset.ts); without a marker, such a layout is STORAGE_CORRUPT like any gap.
 */
import type { StorageLogger } from '../logger.js';
import { SegmentCorruptionError } from './segment-corruption.js';
import type { SegmentDisk } from './segment-disk.js';
import { parseSegmentFileName } from './segment-names.js';
import { recoverInterruptedReset } from './segment-reset.js';
import { scanSegment } from './segment-scan.js';
import { Segment } from './segment.js';
import type { SegmentSummary } from './segment-summary.js';
import { loadIndexSidecar, removeIfPresent, writeIndexSidecar } from './sidecar-files.js';

/** What opening the log found and did. */
export interface RecoveryReport {
  /** Segment files found. */
  readonly segments: number;
  /** The torn tail cut off the last segment, if any. */
  readonly tornTail: { readonly segment: string; readonly offsetBytes: number; readonly droppedBytes: number; readonly reason: string } | null;
  /** Segments whose sidecar was missing or unusable and was rebuilt by a scan. */
  readonly indexesRebuilt: readonly string[];
}

/** Recovers every segment of `dir`, in index order. Closes what it opened if it throws. */
export async function recoverSegments(dir: string, disk: SegmentDisk, indexIntervalBytes: number, logger: StorageLogger, verify = true): Promise<{ segments: Segment[]; report: RecoveryReport }> {
  const names = await disk.list(dir);
  const sorted = names
    .map((name) => ({ name, firstIndex: parseSegmentFileName(name) }))
    .filter((s): s is { name: string; firstIndex: number } => s.firstIndex !== undefined)
    .sort((a, b) => a.firstIndex - b.firstIndex);
  const found = await recoverInterruptedReset(disk, dir, names, sorted, indexIntervalBytes, logger);
  // Sidecar leftovers: an interrupted write, or the sidecar of a segment deleted by a
  // compaction or truncation whose sidecar deletion was lost. Caches: removed, not synced.
  const segmentNames = new Set(found.map((s) => s.name));
  for (const name of names) {
    if (name.endsWith('.idx.tmp') || (name.endsWith('.idx') && !segmentNames.has(name.replace(/\.idx$/, '.seg')))) await removeIfPresent(disk, dir, name);
  }
  const segments: Segment[] = [];
  const rebuilt: string[] = [];
  let tornTail: RecoveryReport['tornTail'] = null;
  try {
    for (const [i, { name, firstIndex }] of found.entries()) {
      const file = await disk.open(dir, name, 'existing');
      const prev = segments.at(-1)?.summary;
      const isLast = i === found.length - 1;
      let summary: SegmentSummary;
      let indexWritten = false;
      const sidecar = isLast ? 'last segment' : await loadIndexSidecar(disk, dir, name, file, firstIndex, indexIntervalBytes);
      if (typeof sidecar !== 'string') {
        summary = sidecar;
        indexWritten = true;
      } else {
        const bytes = await file.read(0, await file.size());
        const scan = scanSegment(name, bytes, firstIndex, prev?.lastTerm ?? 0, indexIntervalBytes, verify);
        summary = scan.summary;
        if (scan.tornTail !== null) {
          const { offsetBytes, reason } = scan.tornTail;
          if (!isLast) throw new SegmentCorruptionError(name, offsetBytes, summary.lastIndex + 1, `${reason} in a sealed segment (it was synced whole before the next one was created)`);
          tornTail = { segment: name, offsetBytes, droppedBytes: bytes.length - offsetBytes, reason };
          logger.warn({ dir, ...tornTail }, 'segment log: truncating a torn record at the tail of the last segment (never synced, never acknowledged)');
          await file.truncate(offsetBytes);
          await file.datasync();
        }
        if (!isLast) {
          logger.info({ dir, segment: name, why: sidecar }, 'segment log: rebuilt the offset index of a segment');
          await writeIndexSidecar(disk, dir, name, summary);
          rebuilt.push(name);
          indexWritten = true;
        }
      }
      segments.push(new Segment(name, summary, file, indexWritten));
      checkJoin(name, prev, summary, isLast);
    }
  } catch (err) {
    await Promise.allSettled(segments.map((s) => s.file?.close()));
    throw err;
  }
  return { segments, report: { segments: found.length, tornTail, indexesRebuilt: rebuilt } };
}

/** Throws unless `summary` continues `prev` (contiguous index, term not lower), and is non-empty unless last. */
function checkJoin(name: string, prev: SegmentSummary | undefined, summary: SegmentSummary, isLast: boolean): void {
  if (summary.empty && !isLast) throw new SegmentCorruptionError(name, 0, summary.firstIndex, 'empty segment before the last one');
  if (prev === undefined) return;
  if (summary.firstIndex !== prev.lastIndex + 1) throw new SegmentCorruptionError(name, 0, summary.firstIndex, `segment starts at index ${summary.firstIndex}, the one before ends at ${prev.lastIndex}`);
  if (!summary.empty && summary.firstTerm < prev.lastTerm) throw new SegmentCorruptionError(name, 0, summary.firstIndex, `term ${summary.firstTerm} decreases below ${prev.lastTerm} of the segment before`);
}
