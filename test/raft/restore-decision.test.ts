/**
 * RawNode.wouldRestore answers with the core's own snapshot rules (Raft.restoreDecision), which
 * the runtime asks before streaming a snapshot in: it used to keep a copy of them.
 */
import { describe, expect, it } from 'vitest';
import { RawNode } from '../../raft/raw-node.js';
import { seededRng } from '../../raft/rng.js';
import { MemoryStorage } from '../../raft/storage.js';
import type { Entry, SnapshotMeta } from '../../raft/types.js';

const voters = { voters: ['n1', 'n2', 'n3'], learners: [] };

/** n2, a follower of n1 in term 2 holding entries 1..3 (term 2), committed to 2. */
function follower(): RawNode {
  const storage = new MemoryStorage(voters);
  const n2 = new RawNode({ id: 'n2', storage, electionTicks: 10, heartbeatTicks: 1, rng: seededRng(3) });
  const entries: Entry[] = [1, 2, 3].map((index) => ({ index, term: 2, type: 'normal', data: new Uint8Array([index]) }));
  n2.step({ type: 'app', from: 'n1', to: 'n2', term: 2, index: 0, logTerm: 0, entries, commit: 2 });
  const rd = n2.ready();
  if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
  storage.append(rd.entries);
  n2.advance(rd);
  expect(n2.status().commit).toBe(2);
  return n2;
}

const snap = (index: number, term: number, members = voters): SnapshotMeta => ({ index, term, confState: members });

describe('RawNode.wouldRestore', () => {
  it('restores a snapshot past what it holds, of its term or a newer one', () => {
    const n2 = follower();
    expect(n2.wouldRestore(2, snap(5, 2))).toBe(true);
    expect(n2.wouldRestore(3, snap(5, 3))).toBe(true);
  });

  it('refuses a stale one: an older term, or at or below its commit index', () => {
    const n2 = follower();
    expect(n2.wouldRestore(1, snap(5, 1))).toBe(false);
    expect(n2.wouldRestore(2, snap(2, 2))).toBe(false);
  });

  it('refuses one whose configuration leaves it out, and one whose last entry it holds (it only commits)', () => {
    const n2 = follower();
    expect(n2.wouldRestore(2, snap(5, 2, { voters: ['n1', 'n3', 'n4'], learners: [] }))).toBe(false);
    expect(n2.wouldRestore(2, snap(3, 2))).toBe(false);
    expect(n2.wouldRestore(2, snap(3, 1))).toBe(true); // same index, another term: a conflicting log
  });

  it('agrees with what stepping the snapshot does', () => {
    for (const [term, s] of [[2, snap(5, 2)], [2, snap(3, 2)], [2, snap(2, 2)], [2, snap(5, 2, { voters: ['n1', 'n3'], learners: [] })]] as const) {
      const n2 = follower();
      const predicted = n2.wouldRestore(term, s);
      n2.step({ type: 'snap', from: 'n1', to: 'n2', term, snapshot: s });
      expect(n2.pendingSnapshotIndex() === s.index, JSON.stringify(s)).toBe(predicted);
    }
  });
});
