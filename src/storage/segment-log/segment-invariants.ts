/** The invariants of a segment log's segment list, asserted around every mutation. */
import { assert } from '../../../raft/assert.js';
import type { SegmentSummary } from './segment-summary.js';
import type { Segment } from './segment.js';

/**
 * Asserts that `segments` are in index order and contiguous, that only the last may be empty,
 * that terms never decrease between them, and that each one's bytes add up.
 */
export function checkSegmentInvariants(segments: readonly Segment[]): void {
  let prev: SegmentSummary | undefined;
  for (const [i, seg] of segments.entries()) {
    const s = seg.summary;
    assert(!s.empty || i === segments.length - 1, () => `empty segment ${seg.name} before the last`);
    assert(seg.writtenBytes + seg.pending.reduce((n, c) => n + c.length, 0) === s.bytes, () => `segment ${seg.name} byte accounting`);
    if (prev !== undefined) {
      const before = prev;
      assert(s.firstIndex === before.lastIndex + 1, () => `segment ${seg.name} does not continue ${before.lastIndex}`);
      assert(s.empty || s.firstTerm >= before.lastTerm, () => `segment ${seg.name} term decreases`);
    }
    prev = s;
  }
}
