import { describe, expect, it } from 'vitest';
import { AssertionError, MemoryStorage, RaftError, RawNode, seededRng, type Entry } from '../../raft/index.js';
import { TestCluster } from './harness.js';

/**
 * The pitfalls that bit mature Raft libraries (issue 3), one scenario each.
 */

const encoder = new TextEncoder();

describe('pitfall: pre-candidates and followers of a leader nobody hears (etcd #8334, hashicorp/raft #606, rabbitmq/ra #439)', () => {
  it('§9.6 a pre-candidate forgets the old leader; a follower still "following" a silent leader grants pre-votes once its lease ran out', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.crash('n1');
    c.setElectionTimeout('n2', 10);
    c.setElectionTimeout('n3', 100);
    // n2 times out first: n3 heard n1 within the last election timeout and ignores the pre-vote.
    for (let i = 0; i < 10; i++) {
      c.tick('n2');
      c.tick('n3');
    }
    expect(c.raft('n2').role).toBe('preCandidate');
    expect(c.raft('n2').lead).toBe(''); // it no longer believes in n1
    expect(c.raft('n2').term).toBe(1);
    expect(c.raft('n3').role).toBe('follower');
    expect(c.raft('n3').lead).toBe('n1'); // still "follows" a leader it cannot hear

    // n2's next pre-election reaches n3 after n3's lease has run out: n3 must grant it.
    c.sent = [];
    for (let i = 0; i < 10 && c.leader() === undefined; i++) {
      c.tick('n2');
      c.tick('n3');
    }
    const grant = c.sentWhere((m) => m.type === 'preVoteResp' && m.from === 'n3' && !m.reject);
    expect(grant.length).toBe(1);
    expect(c.leader()).toBe('n2');
    expect(c.raft('n2').term).toBe(2);
    expect(c.raft('n3').lead).toBe('n2');
  });

  it('§9.6 followers that time out together both pre-campaign, grant each other, and still elect a leader', () => {
    const c = new TestCluster({ voters: 5 });
    c.campaign('n1');
    c.crash('n1');
    c.crash('n2'); // three of five are up: a bare majority
    for (const id of ['n3', 'n4', 'n5']) c.setElectionTimeout(id, 10);
    for (let i = 0; i < 10; i++) for (const id of ['n3', 'n4', 'n5']) c.tick(id, 1, { stabilize: false });
    for (const id of ['n3', 'n4', 'n5']) expect(c.raft(id).role).toBe('preCandidate');
    c.sent = [];
    c.stabilize();
    // Each pre-candidate granted the others (none kept refusing on behalf of n1).
    for (const a of ['n3', 'n4', 'n5']) {
      for (const b of ['n3', 'n4', 'n5']) {
        if (a === b) continue;
        const grants = c.sentWhere((m) => m.type === 'preVoteResp' && m.from === b && m.to === a && !m.reject);
        expect(grants.length, `${b} grants ${a}`).toBeGreaterThan(0);
      }
    }
    const leader = c.tickUntilLeader(200);
    expect(['n3', 'n4', 'n5']).toContain(leader);
  });

  it('§9.6 a node that can still hear the leader keeps ignoring pre-votes of one that cannot (no needless election)', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.block('n1', 'n3'); // n3 no longer hears n1; n2 does
    c.sent = [];
    c.tickAll(60);
    expect(c.leader()).toBe('n1');
    expect(c.raft('n1').term).toBe(1);
    expect(c.raft('n2').term).toBe(1);
    expect(c.sentWhere((m) => m.type === 'preVoteResp' && m.from === 'n2').length).toBe(0);
  });
});

describe('pitfall: unbounded uncommitted log under re-proposals (etcd #10167)', () => {
  it('a leader that cannot commit drops proposals with PROPOSAL_DROPPED at uncommittedBytesMax, and accepts them again after commit', () => {
    const uncommittedBytesMax = 300;
    const c = new TestCluster({ raft: { uncommittedBytesMax } });
    c.campaign('n1');
    c.isolate('n1');
    let accepted = 0;
    let dropped: RaftError | undefined;
    // A client that keeps re-proposing while nothing commits.
    for (let i = 0; i < 1000 && dropped === undefined; i++) {
      try {
        c.propose('n1', `retry-${i}`);
        accepted++;
        c.stabilize();
      } catch (e) {
        if (!(e instanceof RaftError)) throw e;
        dropped = e;
      }
    }
    expect(dropped?.code).toBe('PROPOSAL_DROPPED');
    expect(accepted).toBeGreaterThan(1);
    expect(c.raft('n1').uncommittedBytes).toBeLessThanOrEqual(uncommittedBytesMax);
    expect(() => c.raft('n1').proposeBatch([encoder.encode('b1'), encoder.encode('b2')])).toThrow(RaftError);
    const last = c.raft('n1').log.lastIndex();
    for (let i = 0; i < 20; i++) expect(() => c.propose('n1', 'more')).toThrow(/uncommitted/);
    expect(c.raft('n1').log.lastIndex()).toBe(last);

    c.heal();
    c.tick('n1', 2);
    expect(c.applied('n2').length).toBe(accepted);
    expect(c.raft('n1').uncommittedBytes).toBe(0);
    c.propose('n1', 'after-commit');
    c.stabilize();
    expect(c.applied('n3').at(-1)).toBe('after-commit');
  });
});

describe('pitfall: snapshot loops (hashicorp/raft #212, consul #9609)', () => {
  it('§7 compactionLimit keeps the entries after a snapshot in flight, so the follower continues from it without a second snapshot', () => {
    const c = new TestCluster({ snapshotEveryEntries: 5, compactionTrailingEntries: 0, autoReportSnapshot: false });
    c.campaign('n1');
    c.crash('n3');
    for (let i = 0; i < 20; i++) {
      c.propose('n1', `a${i}`);
      c.stabilize();
    }
    expect(c.sim('n1').storage.firstIndex()).toBeGreaterThan(2);
    c.restart('n3');
    c.hold = (m) => m.type === 'snap';
    c.tick('n1', 2);
    const pending = c.raft('n1').prs.progress.get('n3')!;
    expect(pending.state).toBe('snapshot');
    const snapIndex = pending.pendingSnapshot;
    expect(snapIndex).toBeGreaterThan(0);

    // The log grows and the leader snapshots again while the snapshot is in flight...
    for (let i = 0; i < 20; i++) {
      c.propose('n1', `b${i}`);
      c.stabilize();
    }
    expect(c.raft('n1').compactionLimit(Number.MAX_SAFE_INTEGER)).toBe(snapIndex);
    expect(c.sim('n1').storage.snapshot().index).toBeGreaterThan(snapIndex);
    // ...but keeps every entry after the in-flight snapshot.
    expect(c.sim('n1').storage.firstIndex()).toBeLessThanOrEqual(snapIndex + 1);

    c.releaseHeld();
    c.stabilize();
    c.sim('n1').node.reportSnapshot('n3', true);
    c.tick('n1', 2);
    expect(c.sentWhere((m) => m.type === 'snap').length).toBe(1);
    expect(c.applied('n3')).toEqual(c.applied('n1'));
    expect(c.applied('n3').length).toBe(40);
  });

  it('§7 a stale snapshot (index <= commit) is discarded by the follower', () => {
    const c = new TestCluster({ snapshotEveryEntries: 5 });
    c.campaign('n1');
    c.crash('n3');
    for (let i = 0; i < 12; i++) {
      c.propose('n1', `a${i}`);
      c.stabilize();
    }
    c.restart('n3');
    c.tick('n1', 3);
    expect(c.sentSnapshots.length).toBe(1);
    for (let i = 0; i < 6; i++) {
      c.propose('n1', `b${i}`);
      c.stabilize();
    }
    const before = { committed: c.raft('n3').log.committed, applied: c.sim('n3').app, first: c.raft('n3').log.firstIndex(), terms: c.logTerms('n3') };
    expect(before.committed).toBeGreaterThan(c.sentSnapshots[0]!.msg.type === 'snap' ? c.sentSnapshots[0]!.msg.snapshot.index : 0);
    c.sent = [];
    c.inject(c.sentSnapshots[0]!); // the same snapshot again, long delayed
    c.stabilize();
    expect(c.raft('n3').log.hasPendingSnapshot()).toBe(false);
    expect({ committed: c.raft('n3').log.committed, applied: c.sim('n3').app, first: c.raft('n3').log.firstIndex(), terms: c.logTerms('n3') }).toEqual(before);
    const ack = c.sentWhere((m) => m.type === 'appResp' && m.from === 'n3');
    expect(ack.map((m) => m.type === 'appResp' && m.index)).toEqual([before.committed]);
  });
});

describe('pitfall: a non-voter must never become leader', () => {
  it('§4.2.1 TimeoutNow to a learner does nothing; transferLeadership to a learner throws', () => {
    const c = new TestCluster({ learners: 1 });
    c.campaign('n1');
    c.propose('n1', 'x');
    c.stabilize();
    expect(c.applied('n4')).toEqual(['x']);
    expect(() => c.sim('n1').node.transferLeadership('n4')).toThrow(RaftError);
    expect(c.raft('n1').leadTransferee).toBe('');
    c.sent = [];
    c.raft('n4').step({ type: 'timeoutNow', from: 'n1', to: 'n4', term: 1 });
    c.stabilize();
    expect(c.raft('n4').role).toBe('follower');
    expect(c.raft('n4').term).toBe(1);
    expect(c.sentWhere((m) => m.from === 'n4' && (m.type === 'vote' || m.type === 'preVote'))).toEqual([]);
    expect(c.leader()).toBe('n1');
  });

  it('§4.2.1 a learner never campaigns, even when no leader is left', () => {
    const c = new TestCluster({ learners: 1 });
    c.campaign('n1');
    c.crash('n1');
    c.crash('n2');
    c.tickAll(100);
    expect(c.raft('n4').role).toBe('follower');
    expect(c.raft('n4').term).toBe(1);
    expect(c.sentWhere((m) => m.from === 'n4' && (m.type === 'vote' || m.type === 'preVote'))).toEqual([]);
  });

  it('§4.2.1 a node outside the configuration ignores TimeoutNow', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.addNode('n9', c.raft('n1').prs.confState());
    c.raft('n9').step({ type: 'timeoutNow', from: 'n1', to: 'n9', term: 1 });
    c.stabilize();
    expect(c.raft('n9').role).toBe('follower');
    expect(c.sentWhere((m) => m.from === 'n9')).toEqual([]);
  });
});

describe('pitfall: a follower must never lose an entry it acknowledged (log regression is loud)', () => {
  function entries(terms: number[]): Entry[] {
    return terms.map((term, i) => ({ index: i + 1, term, type: 'normal', data: encoder.encode(`e${i + 1}`) }));
  }

  it('a restarted node whose durable commit is beyond its durable log fails on construction', () => {
    const storage = new MemoryStorage({ voters: ['n1', 'n2', 'n3'], learners: [] });
    storage.append(entries([1, 1]));
    storage.setHardState({ term: 1, vote: 'n1', commit: 3 }); // entry 3 was acknowledged, then lost
    expect(() => new RawNode({ id: 'n2', storage, electionTicks: 10, heartbeatTicks: 1, rng: seededRng(1) })).toThrow(AssertionError);
    // The harness boots nodes the same way.
    expect(() => new TestCluster({ logs: { n2: { terms: [1, 1], commit: 3 } } })).toThrow(AssertionError);
  });

  it('an append that would overwrite a committed entry asserts; a stale one below commit changes nothing', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.propose('n1', 'a');
    c.propose('n1', 'b');
    c.stabilize();
    const log = c.raft('n2').log;
    expect(log.committed).toBe(3);
    const conflicting: Entry = { index: 3, term: 7, type: 'normal', data: encoder.encode('evil') };
    expect(() => log.maybeAppend(2, 1, 3, [conflicting])).toThrow(AssertionError);
    expect(() => log.append([conflicting])).toThrow(AssertionError);
    expect(c.logTerms('n2')).toEqual([1, 1, 1]);

    // Through the protocol, an append below the commit index (a duplicate) is acknowledged with
    // the commit index and does not touch the log.
    c.sent = [];
    const duplicate: Entry = { index: 2, term: 1, type: 'normal', data: encoder.encode('a') };
    c.raft('n2').step({ type: 'app', from: 'n1', to: 'n2', term: 1, index: 1, logTerm: 1, entries: [duplicate], commit: 3 });
    c.stabilize();
    expect(c.logTerms('n2')).toEqual([1, 1, 1]);
    expect(c.sentWhere((m) => m.type === 'appResp' && m.from === 'n2').map((m) => m.type === 'appResp' && m.index)).toEqual([3]);
  });
});
