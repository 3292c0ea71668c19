import { describe, expect, it } from 'vitest';
import { RaftError } from '../../raft/index.js';
import { TestCluster } from './harness.js';

/** Runs `fn` and returns the RaftError it throws. */
function raftError(fn: () => unknown): RaftError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RaftError) return e;
    throw e;
  }
  throw new Error('expected a RaftError');
}

describe('leader election (Raft §5.2)', () => {
  it('§5.2 a single node elects itself and commits alone', () => {
    const c = new TestCluster({ voters: 1 });
    expect(c.tickUntilLeader(30)).toBe('n1');
    expect(c.raft('n1').term).toBe(1);
    c.propose('n1', 'a');
    c.stabilize();
    expect(c.applied('n1')).toEqual(['a']);
  });

  for (const voters of [3, 5]) {
    it(`§5.2 ${voters} nodes elect exactly one leader that every node follows`, () => {
      const c = new TestCluster({ voters });
      const leader = c.tickUntilLeader();
      const term = c.raft(leader).term;
      for (const [id] of c.nodes) {
        expect(c.raft(id).term).toBe(term);
        expect(c.raft(id).lead).toBe(leader);
        expect(c.raft(id).role).toBe(id === leader ? 'leader' : 'follower');
      }
      c.propose(leader, 'x');
      c.stabilize();
      for (const [id] of c.nodes) expect(c.applied(id)).toEqual(['x']);
    });
  }

  it('§5.2 a split vote elects nobody; randomized timeouts then elect one leader in a later term', () => {
    const c = new TestCluster({ voters: 4, raft: { preVote: false } });
    // n1 can reach only n3, n2 only n4: both campaign in term 1 and each gets 2 of 4 votes.
    c.cut('n1', 'n2');
    c.cut('n1', 'n4');
    c.cut('n2', 'n3');
    c.campaign('n1', { stabilize: false });
    c.campaign('n2', { stabilize: false });
    c.stabilize();
    expect(c.raft('n1').role).toBe('candidate');
    expect(c.raft('n2').role).toBe('candidate');
    expect(c.raft('n1').term).toBe(1);
    expect(c.raft('n2').term).toBe(1);
    expect(c.raft('n3').vote).toBe('n1');
    expect(c.raft('n4').vote).toBe('n2');
    expect(c.leader()).toBeUndefined();

    c.heal();
    const leader = c.tickUntilLeader();
    expect(c.raft(leader).term).toBeGreaterThan(1);
    // Election Safety is checked after every step; at most one leader per term was observed.
    expect(c.checker.leaders.get(1)).toBeUndefined();
  });

  it('§5.4.1 a candidate whose log is behind loses; an up-to-date one wins and repairs it', () => {
    for (const preVote of [true, false]) {
      const c = new TestCluster({ raft: { preVote } });
      c.campaign('n1');
      c.cut('n1', 'n3');
      c.propose('n1', 'a');
      c.propose('n1', 'b');
      c.stabilize(); // committed on n1 and n2; n3 missed both
      expect(c.applied('n2')).toEqual(['a', 'b']);
      c.crash('n1');
      c.heal();
      // n2's lease on n1 runs out (a long timeout keeps n2 itself from campaigning first).
      c.setElectionTimeout('n2', 100);
      c.tick('n2', 10);
      c.campaign('n3');
      expect(c.raft('n3').role, `preVote=${preVote}`).not.toBe('leader');
      expect(c.sentWhere((m) => (m.type === 'voteResp' || m.type === 'preVoteResp') && m.from === 'n2' && m.to === 'n3' && !m.reject)).toEqual([]);
      c.campaign('n2');
      expect(c.leader()).toBe('n2');
      c.propose('n2', 'c');
      c.stabilize();
      expect(c.applied('n3')).toEqual(['a', 'b', 'c']);
    }
  });
});

describe('terms (Raft §5.1)', () => {
  it('§5.1 a deposed leader steps down when a stale-term heartbeat is answered with the new term', () => {
    const c = new TestCluster();
    c.campaign('n1');
    expect(c.leader()).toBe('n1');
    c.isolate('n1');
    c.propose('n1', 'lost'); // never reaches a quorum
    c.stabilize();
    // n2 and n3 lose n1 and elect one of themselves in term 2; n1 is not ticked, so it still leads term 1.
    for (let i = 0; i < 60 && (c.leader() === 'n1' || c.leader() === undefined); i++) {
      c.tick('n2');
      c.tick('n3');
    }
    const newLeader = c.leader();
    expect(newLeader === 'n2' || newLeader === 'n3').toBe(true);
    expect(c.raft('n1').role).toBe('leader');
    expect(c.raft('n1').term).toBe(1);
    const term = c.raft(newLeader!).term;

    c.heal();
    c.tick('n1'); // heartbeat at term 1: answered with the current term
    expect(c.raft('n1').role).toBe('follower');
    expect(c.raft('n1').term).toBe(term);
    c.propose(newLeader!, 'kept');
    c.tick(newLeader!, 2); // n1 is probed again after a heartbeat round
    for (const id of ['n1', 'n2', 'n3']) expect(c.applied(id)).toEqual(['kept']);
    // n1's uncommitted term-1 entry was overwritten (Raft §5.3).
    expect(c.logTerms('n1')).toEqual(c.logTerms(newLeader!));
  });

  it('§5.1 messages of a stale term change nothing', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.campaign('n2', { stabilize: false });
    c.crash('n1'); // n1 cannot out-vote anything; n2 must still pass pre-vote: expire leases
    c.restart('n1');
    c.tickAll(1);
    const before = { term: c.raft('n3').term, vote: c.raft('n3').vote, last: c.raft('n3').log.lastIndex() };
    const stale = before.term - 1;
    c.sent = [];
    c.raft('n3').step({ type: 'vote', from: 'n2', to: 'n3', term: stale, index: 100, logTerm: 100, transfer: false });
    const entries = [{ index: 1, term: stale, type: 'normal' as const, data: new Uint8Array(1) }];
    c.raft('n3').step({ type: 'app', from: 'n2', to: 'n3', term: stale, index: 0, logTerm: 0, entries, commit: 1 });
    c.raft('n3').step({ type: 'voteResp', from: 'n2', to: 'n3', term: stale, reject: false });
    c.raft('n3').step({ type: 'timeoutNow', from: 'n2', to: 'n3', term: stale });
    c.stabilize();
    expect({ term: c.raft('n3').term, vote: c.raft('n3').vote, last: c.raft('n3').log.lastIndex() }).toEqual(before);
    expect(c.raft('n3').role).not.toBe('candidate');
    // Only the stale append is answered, carrying the current term so its sender steps down.
    const replies = c.sentWhere((m) => m.from === 'n3' && m.to === 'n2' && m.type !== 'heartbeatResp');
    expect(replies.map((m) => [m.type, m.term])).toEqual([['appResp', before.term]]);
  });
});

describe('PreVote (Raft thesis §9.6)', () => {
  it('§9.6 a partitioned node does not bump its term; on rejoining the leader and term are unchanged', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.isolate('n3');
    c.tickAll(100); // n3 runs several pre-elections alone
    expect(c.sentWhere((m) => m.from === 'n3' && m.type === 'preVote').length).toBeGreaterThan(2);
    expect(c.raft('n3').term).toBe(1);
    c.propose('n1', 'meanwhile');
    c.stabilize();

    c.heal();
    c.tickAll(30);
    expect(c.leader()).toBe('n1');
    for (const id of ['n1', 'n2', 'n3']) {
      expect(c.raft(id).term).toBe(1);
      expect(c.applied(id)).toEqual(['meanwhile']);
    }
    expect(c.raft('n3').lead).toBe('n1');
    expect(c.checker.leaders.size).toBe(1);
  });

  it('§9.6 without PreVote the same partition raises the term and the rejoining node forces a re-election', () => {
    // The contrast that shows what PreVote buys: etcd's "disruptive follower".
    const c = new TestCluster({ raft: { preVote: false } });
    c.campaign('n1');
    c.isolate('n3');
    c.tickAll(100);
    expect(c.raft('n3').term).toBeGreaterThan(2);
    c.heal();
    c.tickAll(60);
    const leader = c.tickUntilLeader();
    expect(c.raft(leader).term).toBeGreaterThan(1);
    expect(c.checker.leaders.size).toBeGreaterThan(1);
  });

  it('§9.6 a pre-vote is granted only for an up-to-date log and never changes the voter term', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.cut('n1', 'n3');
    c.propose('n1', 'a');
    c.stabilize();
    c.crash('n1');
    for (const id of ['n2', 'n3']) c.setElectionTimeout(id, 100);
    c.tick('n2', 10);
    c.tick('n3', 10);
    c.sent = [];
    c.campaign('n3');
    const resp = c.sentWhere((m) => m.type === 'preVoteResp' && m.from === 'n2');
    expect(resp.length).toBe(1);
    expect(resp[0]!.type === 'preVoteResp' && resp[0]!.reject).toBe(true);
    expect(c.raft('n2').term).toBe(1);
    expect(c.raft('n3').term).toBe(1);
  });
});

describe('CheckQuorum and the leader lease (Raft thesis §6.2, §4.2.3)', () => {
  it('§6.2 an isolated leader steps down within an election timeout or two', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.isolate('n1');
    c.tick('n1', 1);
    expect(c.raft('n1').role).toBe('leader');
    let ticks = 1;
    while (c.raft('n1').role === 'leader' && ticks < 100) {
      c.tick('n1');
      ticks++;
    }
    expect(c.raft('n1').role).toBe('follower');
    expect(ticks).toBeLessThanOrEqual(2 * c.raft('n1').electionTicks);
    expect(c.raft('n1').term).toBe(1);
    // Its pending proposals can no longer be accepted there.
    expect(() => c.propose('n1', 'x')).toThrow(RaftError);
  });

  it('§6.2 a leader with a quorum stays leader although one follower is gone', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.isolate('n3');
    c.tickAll(60);
    expect(c.leader()).toBe('n1');
    expect(c.raft('n1').term).toBe(1);
  });

  it('§4.2.3 followers that hear from a leader ignore vote and pre-vote requests', () => {
    for (const preVote of [true, false]) {
      const c = new TestCluster({ raft: { preVote } });
      c.campaign('n1');
      c.tickAll(3);
      c.sent = [];
      c.campaign('n3', { stabilize: false });
      c.processReadies();
      c.deliverAll(); // only the (pre-)vote requests
      expect(c.sentWhere((m) => m.type === 'vote' || m.type === 'preVote').length).toBe(2);
      c.processReadies();
      expect(c.sentWhere((m) => m.type === 'voteResp' || m.type === 'preVoteResp')).toEqual([]);
      expect(c.raft('n2').term).toBe(1);
      expect(c.raft('n2').vote).toBe('n1');
      expect(c.raft('n1').role).toBe('leader');
      if (preVote) {
        c.stabilize();
        c.tickAll(5);
        expect(c.leader()).toBe('n1');
        expect(c.raft('n3').term).toBe(1);
        expect(c.raft('n3').lead).toBe('n1');
      }
    }
  });
});

describe('proposals without a leader', () => {
  it('a follower refuses a proposal with NOT_LEADER and names the leader', () => {
    const c = new TestCluster();
    c.campaign('n1');
    const e = raftError(() => c.propose('n2', 'x'));
    expect(e.code).toBe('NOT_LEADER');
    expect(e.leader).toBe('n1');
  });

  it('a node that knows no leader (fresh, candidate or pre-candidate) refuses with NOT_LEADER and no hint', () => {
    const c = new TestCluster();
    let e = raftError(() => c.propose('n1', 'x'));
    expect(e.code).toBe('NOT_LEADER');
    expect(e.leader).toBe('');
    c.isolate('n2');
    c.campaign('n2');
    expect(c.raft('n2').role).toBe('preCandidate');
    e = raftError(() => c.propose('n2', 'x'));
    expect(e.code).toBe('NOT_LEADER');
    expect(e.leader).toBe('');

    const d = new TestCluster({ raft: { preVote: false } });
    d.isolate('n2');
    d.campaign('n2');
    expect(d.raft('n2').role).toBe('candidate');
    e = raftError(() => d.propose('n2', 'x'));
    expect(e.code).toBe('NOT_LEADER');
    expect(e.leader).toBe('');
    expect(d.raft('n2').stats.proposalsDropped).toBe(1);
  });
});
