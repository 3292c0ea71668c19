import { describe, expect, it } from 'vitest';
import { RaftError } from '../../raft/index.js';
import { TestCluster } from './harness.js';

describe('leadership transfer (Raft thesis §3.10)', () => {
  it('§3.10 transfer to an up-to-date follower: TimeoutNow, and it wins at once despite the leader lease', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.propose('n1', 'a');
    c.stabilize();
    c.sent = [];
    c.sim('n1').node.transferLeadership('n2');
    c.stabilize();
    expect(c.leader()).toBe('n2');
    expect(c.raft('n2').term).toBe(2);
    expect(c.raft('n1').role).toBe('follower');
    expect(c.raft('n1').lead).toBe('n2');
    expect(c.sentWhere((m) => m.type === 'timeoutNow').map((m) => m.to)).toEqual(['n2']);
    expect(c.sentWhere((m) => m.type === 'vote').every((m) => m.type === 'vote' && m.transfer)).toBe(true);
    c.propose('n2', 'b');
    c.stabilize();
    for (const id of ['n1', 'n2', 'n3']) expect(c.applied(id)).toEqual(['a', 'b']);
  });

  it('§3.10 transfer to a lagging follower catches it up first, then sends TimeoutNow', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.crash('n3');
    for (let i = 0; i < 5; i++) c.propose('n1', `a${i}`);
    c.stabilize();
    c.restart('n3');
    c.sent = [];
    c.sim('n1').node.transferLeadership('n3');
    expect(c.raft('n1').leadTransferee).toBe('n3');
    c.tick('n1', 2);
    expect(c.leader()).toBe('n3');
    const sent = c.sent;
    const timeoutNow = sent.findIndex((m) => m.type === 'timeoutNow');
    // TimeoutNow left only after n3 acknowledged the leader's whole log (noop + 5 entries).
    const acksBefore = sent.slice(0, timeoutNow).filter((m) => m.type === 'appResp' && m.from === 'n3' && !m.reject);
    expect(Math.max(...acksBefore.map((m) => (m.type === 'appResp' ? m.index : 0)))).toBe(6);
    expect(c.applied('n3')).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
  });

  it('§3.10 proposals are dropped while a transfer is in progress', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.crash('n3');
    c.sim('n1').node.transferLeadership('n3');
    let err: unknown;
    try {
      c.propose('n1', 'x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RaftError);
    expect((err as RaftError).code).toBe('PROPOSAL_DROPPED');
    expect(() => c.raft('n1').proposeConfChange({ type: 'removeNode', nodeId: 'n3' })).toThrow(RaftError);
  });

  it('§3.10 a transfer to an unreachable target is aborted after an election timeout and the leader carries on', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.crash('n3');
    c.sim('n1').node.transferLeadership('n3');
    let ticks = 0;
    while (c.raft('n1').leadTransferee !== '' && ticks < 100) {
      c.tickAll();
      ticks++;
    }
    expect(c.raft('n1').leadTransferee).toBe('');
    expect(ticks).toBeLessThanOrEqual(c.raft('n1').electionTicks);
    expect(c.leader()).toBe('n1');
    expect(c.raft('n1').term).toBe(1);
    c.propose('n1', 'ok');
    c.stabilize();
    expect(c.applied('n2')).toEqual(['ok']);
  });

  it('§3.10 transferLeadership refuses non-leaders and non-voters, and to self is a no-op', () => {
    const c = new TestCluster({ learners: 1 });
    c.campaign('n1');
    expect(() => c.sim('n2').node.transferLeadership('n3')).toThrow(/only the leader/);
    expect(() => c.sim('n1').node.transferLeadership('n4')).toThrow(/not a voter/);
    expect(() => c.sim('n1').node.transferLeadership('n9')).toThrow(/not a voter/);
    c.sim('n1').node.transferLeadership('n1');
    expect(c.raft('n1').leadTransferee).toBe('');
    expect(c.leader()).toBe('n1');
  });
});
