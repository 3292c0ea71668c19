import { describe, expect, it } from 'vitest';
import { SafetyViolation } from '../sim/checker.js';
import { TestCluster } from './harness.js';

/**
 * The Raft paper's Figure 8 (§5.4.2), constructed step by step on five nodes. Every new leader
 * appends a no-op in its term, so the figure's "index 2" is index 1 here and the terms are
 * shifted; the shape is the same:
 *
 * (a) n1 leads term 1 and holds 1@1 alone.
 * (b) n1 crashes; n5 is elected in term 2 by n2, n3, n4 and writes 1@2 alone; n5 crashes.
 * (c) n1 restarts, is elected in term 3 and replicates 1@1 to n2 and n3: a majority holds it,
 *     but its own no-op 2@3 is not replicated.
 * (d) n1 crashes; n5 is elected in term 4 (its last term 2 beats their 1) and overwrites 1@1.
 *
 * In (c) the correct leader must not count replicas of 1@1 (an entry of an earlier term) to
 * commit it; with the `commitPriorTermByCount` knob it does, and (d) then destroys a committed
 * entry, which the SafetyChecker reports.
 */
function figure8UpToC(commitPriorTermByCount: boolean): TestCluster {
  const c = new TestCluster({
    voters: 5,
    // No PreVote or CheckQuorum: the figure predates them, and they would only add ticks.
    raft: { preVote: false, checkQuorum: false, appendBytesMax: 1, testingKnobs: { commitPriorTermByCount } },
  });
  // (a)
  c.deliverIf = (m) => !(m.type === 'app' && m.from === 'n1');
  c.campaign('n1');
  expect(c.leader()).toBe('n1');
  expect(c.logTerms('n1')).toEqual([1]);
  expect(c.raft('n1').log.committed).toBe(0);
  // (b)
  c.crash('n1');
  c.deliverIf = (m) => !(m.type === 'app' && m.from === 'n5');
  c.campaign('n5');
  expect(c.leader()).toBe('n5');
  expect(c.raft('n5').term).toBe(2);
  expect(c.logTerms('n5')).toEqual([2]);
  c.crash('n5');
  // (c) n1 appends reach n2 and n3 only while they carry nothing but term-1 entries (or a
  // probe they will reject), so its term-3 no-op stays on n1.
  c.restart('n1');
  c.deliverIf = (m) => {
    if (m.type !== 'app' || m.from !== 'n1') return true;
    if (m.to === 'n4') return false;
    const rejects = m.index > c.raft(m.to).log.lastIndex();
    return rejects || m.entries.every((e) => e.term === 1);
  };
  c.campaign('n1'); // term 2: n2..n4 already voted for n5 in term 2
  expect(c.leader()).toBeUndefined();
  c.campaign('n1');
  expect(c.leader()).toBe('n1');
  expect(c.raft('n1').term).toBe(3);
  for (const id of ['n1', 'n2', 'n3']) expect(c.logTerms(id).slice(0, 1)).toEqual([1]);
  expect(c.logTerms('n1')).toEqual([1, 3]);
  expect(c.logTerms('n4')).toEqual([]);
  return c;
}

/** (d): n1 crashes, n5 restarts and campaigns until elected. */
function figure8D(c: TestCluster): void {
  c.crash('n1');
  c.heal();
  c.restart('n5');
  c.campaign('n5'); // term 3: everyone voted for n1 already
  c.campaign('n5'); // term 4
}

describe('Figure 8: commitment of entries from earlier terms (Raft §5.4.2)', () => {
  it('§5.4.2 a leader does not commit an entry of an earlier term by counting replicas, so (d) overwrites nothing committed', () => {
    const c = figure8UpToC(false);
    expect(c.raft('n1').prs.committed()).toBe(1); // a majority holds 1@1...
    expect(c.raft('n1').log.committed).toBe(0); // ...yet it is not committed
    expect(c.applied('n1')).toEqual([]);
    figure8D(c);
    expect(c.leader()).toBe('n5');
    expect(c.raft('n5').term).toBe(4);
    c.restart('n1');
    c.tick('n5', 3);
    for (const id of ['n1', 'n2', 'n3', 'n4', 'n5']) expect(c.logTerms(id), id).toEqual([2, 4]);
    expect(c.raft('n1').log.committed).toBe(2);
  });

  it('§5.4.2 with commitPriorTermByCount the leader commits 1@1 in (c) and the checker catches (d) losing it', () => {
    const c = figure8UpToC(true);
    expect(c.raft('n1').log.committed).toBe(1);
    expect(c.checker.applied.get(1)?.term).toBe(1);
    let violation: unknown;
    try {
      figure8D(c);
    } catch (e) {
      violation = e;
    }
    expect(violation).toBeInstanceOf(SafetyViolation);
    expect((violation as SafetyViolation).property).toBe('LeaderCompleteness');
    expect((violation as SafetyViolation).message).toContain('n5 leads term 4 without committed entry 1@1');
  });

  it('§5.4.2 Figure 8 (e): once the term-3 leader replicates its own entry to a majority, both commit and n5 cannot win', () => {
    const c = figure8UpToC(false);
    c.deliverIf = (m) => m.to !== 'n4'; // n4 stays behind, as in the figure
    c.tick('n1', 2);
    expect(c.logTerms('n2')).toEqual([1, 3]);
    expect(c.raft('n1').log.committed).toBe(2);
    expect(c.applied('n1')).toEqual([]); // both are no-ops, but both are applied:
    expect(c.raft('n1').log.applied).toBe(2);
    figure8D(c);
    c.campaign('n5');
    c.campaign('n5');
    expect(c.leader()).toBeUndefined();
    for (const id of ['n2', 'n3']) expect(c.logTerms(id)).toEqual([1, 3]);
  });
});
