/** The corruption error of the segment log: names the segment file and the byte offset. */
import { StorageCorruptionError } from '../errors.js';

/**
 * Damage in a segment that is not a torn tail: a bad record with a valid one after it, an
 * index gap or reordering, a decreasing term. Code STORAGE_CORRUPT. Never repaired here.
 */
export class SegmentCorruptionError extends StorageCorruptionError {
  constructor(
    /** The segment file name, e.g. "00000000000000000001.seg". */
    readonly segment: string,
    /** The byte offset in that file where the damage starts. */
    readonly offsetBytes: number,
    index: number | null,
    detail: string,
  ) {
    super(`segment ${segment} at byte ${offsetBytes}`, index, detail);
  }
}
