import { describe, expect, it } from 'vitest';
import { RaftError } from '../../raft/index.js';
import { TestCluster } from './harness.js';

const ctx = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('ReadIndex linearizable reads (Raft thesis §6.4)', () => {
  it('§6.4 on the leader: answered only after a heartbeat round reaches a quorum, at the commit index', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.propose('n1', 'a');
    c.stabilize();
    const commit = c.raft('n1').log.committed;
    c.sim('n1').node.readIndex(ctx('r1'));
    c.processReadies(); // the heartbeats carrying the context go out
    expect(c.reads('n1')).toEqual([]);
    c.block('n2', 'n1');
    c.block('n3', 'n1');
    c.stabilize();
    expect(c.reads('n1')).toEqual([]); // no quorum acknowledged yet
    c.heal();
    c.tick('n1');
    expect(c.reads('n1')).toEqual([{ index: commit, context: ctx('r1') }]);
  });

  it('§6.4 a single-voter leader answers at once', () => {
    const c = new TestCluster({ voters: 1 });
    c.campaign('n1');
    c.sim('n1').node.readIndex(ctx('solo'));
    c.stabilize();
    expect(c.reads('n1')).toEqual([{ index: 1, context: ctx('solo') }]);
  });

  it('§6.4 a new leader defers reads until an entry of its term commits', () => {
    const c = new TestCluster();
    c.campaign('n1', { stabilize: false });
    while (c.leader() !== 'n1') {
      c.processReadies();
      c.deliverAll();
    }
    expect(c.raft('n1').log.committed).toBe(0);
    c.sim('n1').node.readIndex(ctx('early'));
    c.stabilize();
    c.tick('n1');
    expect(c.reads('n1')).toEqual([{ index: 1, context: ctx('early') }]);
  });

  it('§6.4 on a follower: forwarded to the leader and answered with the leader commit index', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.propose('n1', 'a');
    c.propose('n1', 'b');
    c.stabilize();
    c.sent = [];
    c.sim('n2').node.readIndex(ctx('f1'));
    c.stabilize();
    expect(c.sentWhere((m) => m.type === 'readIndex').map((m) => [m.from, m.to])).toEqual([['n2', 'n1']]);
    expect(c.reads('n2')).toEqual([{ index: 3, context: ctx('f1') }]);
    expect(c.reads('n1')).toEqual([]);
  });

  it('§6.4 a deposed leader never answers a read with its stale commit index; the request dies with its leadership', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.isolate('n1');
    // n2 and n3 elect a new leader and commit a write the old leader never sees.
    for (let i = 0; i < 60 && !['n2', 'n3'].includes(c.leader() ?? ''); i++) {
      c.tick('n2');
      c.tick('n3');
    }
    const newLeader = c.leader()!;
    expect(['n2', 'n3']).toContain(newLeader);
    c.propose(newLeader, 'new-write');
    c.stabilize();
    expect(c.raft('n1').role).toBe('leader'); // it does not know yet
    c.sim('n1').node.readIndex(ctx('stale'));
    c.stabilize();
    expect(c.reads('n1')).toEqual([]);
    c.heal();
    c.tick('n1', 3); // its heartbeat is answered with the new term: it steps down
    expect(c.raft('n1').role).toBe('follower');
    expect(c.raft('n1').readOnly.size()).toBe(0);
    c.tickAll(3);
    expect(c.reads('n1')).toEqual([]);
    // Read again through the new leader: it sees the new write.
    c.sim('n1').node.readIndex(ctx('fresh'));
    c.stabilize();
    const r = c.reads('n1');
    expect(r.length).toBe(1);
    expect(r[0]!.index).toBeGreaterThanOrEqual(c.raft(newLeader).log.committed);
  });

  it('§6.4 reads pending on a leader are dropped when it loses leadership, even if acks arrive later', () => {
    const c = new TestCluster();
    c.campaign('n1');
    c.hold = (m) => m.type === 'heartbeatResp';
    c.sim('n1').node.readIndex(ctx('pending'));
    c.stabilize();
    c.hold = undefined;
    c.sim('n1').node.transferLeadership('n2');
    c.stabilize();
    expect(c.leader()).toBe('n2');
    c.releaseHeld(); // stale acks for the old leader's round
    c.stabilize();
    expect(c.reads('n1')).toEqual([]);
    expect(c.reads('n2')).toEqual([]);
  });

  it('§6.4 a node that knows no leader refuses a read with NOT_LEADER', () => {
    const c = new TestCluster();
    expect(() => c.sim('n1').node.readIndex(ctx('x'))).toThrow(RaftError);
    c.isolate('n2');
    c.campaign('n2');
    let code = '';
    try {
      c.sim('n2').node.readIndex(ctx('y'));
    } catch (e) {
      code = e instanceof RaftError ? e.code : 'other';
    }
    expect(code).toBe('NOT_LEADER');
  });
});
