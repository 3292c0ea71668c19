import { describe, expect, it } from 'vitest';
import { AssertionError, RaftError, type ConfChange } from '../../raft/index.js';
import { TestCluster } from './harness.js';

function change(c: TestCluster, id: string, cc: ConfChange): { index: number; term: number } {
  return c.sim(id).node.proposeConfChange(cc);
}

function raftErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof RaftError) return e.code;
    throw e;
  }
  return 'none';
}

describe('membership changes (Raft thesis §4.1, §4.2.1)', () => {
  it('§4.2.1 an added learner catches up but never counts toward commit, votes or campaigns', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.propose('n1', 'before');
    c.stabilize();
    c.addNode('n4', c.raft('n1').prs.confState());
    change(c, 'n1', { type: 'addLearner', nodeId: 'n4' });
    c.stabilize();
    c.tick('n1', 2);
    expect(c.raft('n1').prs.confState()).toEqual({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    expect(c.raft('n4').prs.confState()).toEqual({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    expect(c.applied('n4')).toEqual(['before']);

    // Without n2 and n3 the leader cannot commit, though the learner stores everything.
    c.crash('n2');
    c.crash('n3');
    c.propose('n1', 'needs-a-voter');
    c.stabilize();
    expect(c.raft('n4').log.lastIndex()).toBe(c.raft('n1').log.lastIndex());
    expect(c.raft('n1').log.committed).toBe(c.raft('n1').log.lastIndex() - 1);
    // Elections go to voters only, and the learner does not campaign when the leader is gone.
    c.crash('n1');
    c.sent = [];
    c.tick('n4', 100);
    expect(c.raft('n4').role).toBe('follower');
    expect(c.sentWhere((m) => m.from === 'n4')).toEqual([]);
  });

  it('§4.1 a new member started with no membership fails loudly instead of electing itself alone once promoted', () => {
    // Regression: it used to replay the log's conf entries onto an empty configuration, ended up
    // with voters [n4] after its promotion, elected itself alone in term 2 and committed on its
    // own (the checker then reported CommitSafety).
    const c = new TestCluster();
    c.campaign('n1');
    c.addNode('n4', { voters: [], learners: [] });
    change(c, 'n1', { type: 'addLearner', nodeId: 'n4' });
    expect(() => c.stabilize()).toThrow(AssertionError);
  });

  it('§4.1 a new member started with no membership learns it from a snapshot', () => {
    const c = new TestCluster({ snapshotEveryEntries: 4 });
    c.campaign('n1');
    c.addNode('n4', { voters: [], learners: [] });
    change(c, 'n1', { type: 'addLearner', nodeId: 'n4' });
    c.deliverIf = (m) => m.to !== 'n4' && m.from !== 'n4'; // it joins once the log was compacted past the change
    for (let i = 0; i < 8; i++) {
      c.propose('n1', `a${i}`);
      c.stabilize();
    }
    expect(c.sim('n1').storage.snapshot().confState.learners).toEqual(['n4']);
    c.heal();
    c.tick('n1', 3);
    expect(c.sentWhere((m) => m.type === 'snap' && m.to === 'n4').length).toBe(1);
    expect(c.raft('n4').prs.confState()).toEqual({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    change(c, 'n1', { type: 'addVoter', nodeId: 'n4' });
    c.stabilize();
    c.tick('n1', 2);
    expect(c.raft('n4').prs.confState()).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    expect(c.applied('n4')).toEqual(c.applied('n1'));
  });

  it('§4.1 a learner promoted to voter counts toward the quorum and can lead', () => {
    const c = new TestCluster({ learners: 1 });
    c.campaign('n1');
    change(c, 'n1', { type: 'addVoter', nodeId: 'n4' });
    c.stabilize();
    expect(c.raft('n4').prs.confState()).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    // 4 voters: n1, n3, n4 are a quorum without n2.
    c.crash('n2');
    c.propose('n1', 'x');
    c.stabilize();
    expect(c.applied('n4')).toEqual(['x']);
    c.sim('n1').node.transferLeadership('n4');
    c.stabilize();
    expect(c.leader()).toBe('n4');
  });

  it('§4.1 removing a follower: the rest commit without it and it never disturbs them', () => {
    const c = new TestCluster();
    c.campaign('n1');
    change(c, 'n1', { type: 'removeNode', nodeId: 'n3' });
    c.stabilize();
    expect(c.raft('n1').prs.confState().voters).toEqual(['n1', 'n2']);
    c.isolate('n3');
    c.propose('n1', 'x');
    c.stabilize();
    expect(c.applied('n2')).toEqual(['x']);
    c.tickAll(60);
    c.heal();
    c.tickAll(20);
    expect(c.leader()).toBe('n1');
    expect(c.raft('n1').term).toBe(1);
    expect(c.raft('n3').role).toBe('follower');
  });

  it('§4.2.2 removing the leader: it steps down once the change applies and the others elect a leader', () => {
    const c = new TestCluster();
    c.campaign('n1');
    change(c, 'n1', { type: 'removeNode', nodeId: 'n1' });
    c.stabilize();
    expect(c.raft('n1').role).toBe('follower');
    expect(() => c.propose('n1', 'x')).toThrow(RaftError);
    const leader = c.tickUntilLeader();
    expect(['n2', 'n3']).toContain(leader);
    expect(c.raft(leader).prs.confState().voters).toEqual(['n2', 'n3']);
    c.propose(leader, 'without-n1');
    c.stabilize();
    for (const id of ['n2', 'n3']) expect(c.applied(id)).toEqual(['without-n1']);
    c.sent = [];
    c.tick('n1', 100);
    expect(c.sentWhere((m) => m.from === 'n1' && (m.type === 'vote' || m.type === 'preVote'))).toEqual([]);
  });

  it('§4.1 only one conf change may be pending: a second one gets CONF_CHANGE_PENDING until the first applies', () => {
    const c = new TestCluster({ learners: 2 });
    c.campaign('n1');
    change(c, 'n1', { type: 'addVoter', nodeId: 'n4' });
    expect(raftErrorCode(() => change(c, 'n1', { type: 'addVoter', nodeId: 'n5' }))).toBe('CONF_CHANGE_PENDING');
    c.stabilize();
    change(c, 'n1', { type: 'addVoter', nodeId: 'n5' });
    c.stabilize();
    expect(c.raft('n2').prs.confState()).toEqual({ voters: ['n1', 'n2', 'n3', 'n4', 'n5'], learners: [] });
    expect(raftErrorCode(() => change(c, 'n1', { type: 'addVoter', nodeId: 'n5' }))).toBe('INVALID_CONF_CHANGE');
    expect(raftErrorCode(() => change(c, 'n1', { type: 'removeNode', nodeId: 'n9' }))).toBe('INVALID_CONF_CHANGE');
  });

  it('§4.1 a new leader cannot propose a conf change before its first entry (the term no-op) applies', () => {
    for (const round of ['first election', 're-election after applied entries']) {
      const c = new TestCluster({ learners: 1 });
      let candidate = 'n1';
      if (round !== 'first election') {
        c.campaign('n1');
        c.propose('n1', 'a');
        c.stabilize();
        c.crash('n1');
        c.tick('n2', 10); // lease on n1 runs out
        c.tick('n3', 10);
        candidate = 'n2';
      }
      c.campaign(candidate, { stabilize: false });
      while (c.leader() !== candidate) {
        c.processReadies();
        c.deliverAll();
      }
      const leader = c.raft(candidate);
      expect(leader.log.applied, round).toBeLessThan(leader.log.lastIndex());
      expect(raftErrorCode(() => change(c, candidate, { type: 'addVoter', nodeId: 'n4' })), round).toBe('CONF_CHANGE_PENDING');
      c.stabilize();
      expect(leader.log.applied).toBe(leader.log.lastIndex());
      change(c, candidate, { type: 'addVoter', nodeId: 'n4' });
      c.stabilize();
      expect(c.raft('n4').prs.isVoter('n4')).toBe(true);
    }
  });
});
