/**
 * The amnesia trap (raft/recovery.ts): a node whose storage was rebuilt from nothing must not
 * vote or count in a quorum until it has caught up, or it can undo a commit it once
 * acknowledged. The same schedule runs with the protection off (the trap springs: the
 * checker sees a committed entry replaced) and on (no leader without the entry; the node
 * recovers once the old leader is back, and the entry survives).
 */
import { describe, expect, it } from 'vitest';
import { SafetyViolation } from '../sim/checker.js';
import { TestCluster } from './harness.js';

/**
 * n1 leads and commits "x" with n2 while n3 is cut off, so n3 lacks it. Then n2's storage is
 * rebuilt from nothing and n1 goes down: n3 (without "x") and the amnesiac n2 remain.
 */
function springTrap(protect: boolean): TestCluster {
  const c = new TestCluster({ seed: 3 });
  c.campaign('n1');
  expect(c.leader()).toBe('n1');
  c.isolate('n3');
  const x = c.propose('n1', 'x');
  c.stabilize();
  expect(c.raft('n1').log.committed).toBeGreaterThanOrEqual(x.index);
  c.wipe('n2', protect);
  c.restart('n2');
  c.crash('n1');
  c.heal();
  return c;
}

describe('the amnesia trap', () => {
  it('without the protection, the amnesiac votes for a node that lacks a committed entry, which is then replaced', () => {
    const c = springTrap(false);
    const run = (): void => {
      c.campaign('n3');
      expect(c.leader()).toBe('n3');
      c.propose('n3', 'y');
      c.tickAll(3);
    };
    expect(run).toThrow(SafetyViolation);
    expect(run).toThrow(/LeaderCompleteness|CommitSafety/);
  });

  it('with it, no leader is elected without the entry; once n1 is back, n2 recovers and the entry survives', () => {
    const c = springTrap(true);
    c.campaign('n3');
    c.tickAll(60);
    expect(c.leader()).toBeUndefined();
    expect(c.raft('n2').recovering).toBe(true);
    expect(c.raft('n2').vote).toBe('');
    // Back comes the only node that holds "x": it wins (n3's vote), and n2 catches up.
    c.restart('n1');
    const leader = c.tickUntilLeader(200);
    expect(leader).toBe('n1');
    c.propose('n1', 'z');
    c.tickAll(30);
    expect(c.raft('n2').recovering).toBe(false);
    expect(c.sim('n2').recoveringMarker).toBe(false);
    for (const id of ['n1', 'n2', 'n3']) expect(c.applied(id)).toEqual(expect.arrayContaining(['x', 'z']));
  });

  it('a recovering node counts in no quorum: with the only other healthy voter down, the leader commits nothing', () => {
    const c = new TestCluster({ seed: 5 });
    c.campaign('n1');
    c.wipe('n2', true);
    c.restart('n2');
    c.crash('n3');
    const before = c.raft('n1').log.committed;
    c.propose('n1', 'w');
    c.tickAll(5);
    expect(c.raft('n1').log.committed).toBe(before);
    expect(c.raft('n2').recovering).toBe(true);
    // n3 returns: n1 and n3 commit, and n2 (probes answered by both) recovers.
    c.restart('n3');
    c.tickAll(30);
    expect(c.raft('n1').log.committed).toBeGreaterThan(before);
    expect(c.raft('n2').recovering).toBe(false);
    expect(c.applied('n2')).toContain('w');
  });

  it('a recovering node never votes twice in a term: it moves to the highest term the other voters report', () => {
    const c = new TestCluster({ seed: 7 });
    c.campaign('n1');
    c.propose('n1', 'a');
    c.stabilize();
    const term = c.raft('n1').term;
    c.wipe('n2', true);
    c.restart('n2');
    c.tickAll(20);
    expect(c.raft('n2').recovering).toBe(false);
    expect(c.raft('n2').term).toBe(term);
    // It holds a vote in that term (it may have voted in it before the damage).
    expect(c.raft('n2').vote).not.toBe('');
  });

  it('a log cut no checksum sees is found from the leader\'s heartbeat: the node recovers instead of failing an assertion', () => {
    const c = new TestCluster({ seed: 9 });
    c.campaign('n1');
    for (const v of ['a', 'b', 'c', 'd']) c.propose('n1', v);
    c.stabilize();
    const last = c.raft('n2').log.lastIndex();
    c.cutLog('n2', last - 3);
    c.restart('n2');
    c.sent = [];
    c.tickAll(20);
    // It said so on every response until it caught up, and probed the other voters' terms.
    expect(c.sentWhere((m) => m.from === 'n2' && m.type === 'heartbeatResp' && m.recovering === true).length).toBeGreaterThan(0);
    expect(c.sentWhere((m) => m.from === 'n2' && m.type === 'termProbe').map((m) => m.to).sort()).toEqual(['n1', 'n3']);
    c.propose('n1', 'e');
    c.tickAll(5);
    expect(c.raft('n2').recovering).toBe(false);
    expect(c.raft('n2').log.lastIndex()).toBe(c.raft('n1').log.lastIndex());
    expect(c.applied('n2')).toEqual(c.applied('n1'));
  });
});
