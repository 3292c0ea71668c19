/**
 * File names of the segment log: a segment is named by the index of its first record, zero
 * padded to 20 digits (every safe integer fits) so that names sort as indexes do; its offset
 * index sidecar has the same stem.
 */

const digits = 20;
const segmentPattern = /^(\d{20})\.seg$/;

/** The file name of the segment whose first record has `firstIndex`. */
export function segmentFileName(firstIndex: number): string {
  return `${String(firstIndex).padStart(digits, '0')}.seg`;
}

/** The file name of the offset index sidecar of segment `segmentName`. */
export function indexFileName(segmentName: string): string {
  return segmentName.replace(/\.seg$/, '.idx');
}

/** The temporary name a sidecar is written under before its rename. */
export function indexTempFileName(segmentName: string): string {
  return `${indexFileName(segmentName)}.tmp`;
}

/** The first index a segment file name encodes, or undefined for any other name. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = segmentPattern.exec(name);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

const markerPattern = /^reset-(\d{20})\.marker$/;

/** The file name of the marker of a reset to `nextIndex` (segment-reset.ts). */
export function resetMarkerFileName(nextIndex: number): string {
  return `reset-${String(nextIndex).padStart(digits, '0')}.marker`;
}

/** The next index a reset marker file name encodes, or undefined for any other name. */
export function parseResetMarkerFileName(name: string): number | undefined {
  const m = markerPattern.exec(name);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
