import { describe, expect, it } from 'vitest';
import { totalBytes } from '../../raft/util.js';
import { TestCluster } from './harness.js';

/** The leader's log of the Raft paper's Figure 7 (terms of indexes 1..10), led in term 8. */
const figure7Leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];

/** The follower logs (a)–(f) of Figure 7. */
const figure7Followers: Record<string, number[]> = {
  'a: missing entries': [1, 1, 1, 4, 4, 5, 5, 6, 6],
  'b: missing many entries': [1, 1, 1, 4],
  'c: an extra uncommitted entry of the leader term 6': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
  'd: extra entries of a later term 7': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
  'e: missing entries and extra entries of term 4': [1, 1, 1, 4, 4, 4, 4],
  'f: extra entries of terms 2 and 3 never seen by the leader': [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
};

describe('log replication (Raft §5.3)', () => {
  for (const [name, follower] of Object.entries(figure7Followers)) {
    it(`§5.3 Figure 7 (${name}): the leader makes the follower's log identical to its own`, () => {
      const c = new TestCluster({
        logs: {
          n1: { terms: figure7Leader, term: 7 },
          n2: { terms: follower, term: 7 },
          n3: { terms: figure7Leader, term: 7 },
        },
      });
      c.campaign('n1'); // wins with n3 (n2 may hold a "better" log, as in case d)
      expect(c.leader()).toBe('n1');
      expect(c.raft('n1').term).toBe(8);
      c.tick('n1', 2);
      const expected = [...figure7Leader, 8];
      expect(c.logTerms('n1')).toEqual(expected);
      expect(c.logTerms('n2')).toEqual(expected);
      expect(c.raft('n2').log.committed).toBe(11);
      // Same entries, not just the same terms.
      expect(c.raft('n2').log.slice(1, 12, Infinity)).toEqual(c.raft('n1').log.slice(1, 12, Infinity));
    });
  }

  it('§5.3 fast backtracking: a follower with many divergent terms is repaired in about one round trip per term, not one per entry', () => {
    const blocks = 10;
    const perBlock = 5;
    // Leader: 1, then blocks of terms 2, 4, 6, ...; follower: 1, then blocks of 3, 5, 7, ...
    const leaderTerms = [1];
    const followerTerms = [1];
    for (let k = 0; k < blocks; k++) {
      for (let i = 0; i < perBlock; i++) {
        leaderTerms.push(2 + 2 * k);
        followerTerms.push(3 + 2 * k);
      }
    }
    const hardTerm = 3 + 2 * blocks;
    const c = new TestCluster({
      logs: {
        n1: { terms: leaderTerms, term: hardTerm },
        n2: { terms: followerTerms, term: hardTerm },
        n3: { terms: leaderTerms, term: hardTerm },
      },
    });
    c.campaign('n1');
    expect(c.leader()).toBe('n1');
    for (let i = 0; i < 3 * blocks; i++) c.tick('n1');
    expect(c.logTerms('n2')).toEqual(c.logTerms('n1'));
    const rejects = c.sentWhere((m) => m.type === 'appResp' && m.from === 'n2' && m.reject).length;
    expect(rejects).toBeGreaterThanOrEqual(1);
    expect(rejects).toBeLessThanOrEqual(blocks + 1);
    expect(rejects).toBeLessThan((blocks * perBlock) / 2);
  });

  it('§5.3 a follower that is merely behind is caught up after a single rejected probe', () => {
    const ten = Array.from({ length: 10 }, () => 1);
    const c = new TestCluster({ logs: { n1: { terms: ten }, n2: { terms: [1] }, n3: { terms: ten } } });
    c.campaign('n1');
    c.tick('n1', 2);
    expect(c.logTerms('n2')).toEqual(c.logTerms('n1'));
    expect(c.sentWhere((m) => m.type === 'appResp' && m.from === 'n2' && m.reject).length).toBe(1);
  });

  it('§5.3 pipelining to a follower whose acks are lost stops at inflightMessagesMax, then resumes', () => {
    const inflightMessagesMax = 4;
    const c = new TestCluster({ raft: { inflightMessagesMax } });
    c.campaign('n1');
    expect(c.raft('n1').prs.progress.get('n2')!.state).toBe('replicate');
    c.block('n2', 'n1');
    c.sent = [];
    for (let i = 0; i < 20; i++) {
      c.propose('n1', `e${i}`);
      c.stabilize();
      expect(c.raft('n1').prs.progress.get('n2')!.inflights.count()).toBeLessThanOrEqual(inflightMessagesMax);
    }
    expect(c.sentWhere((m) => m.type === 'app' && m.to === 'n2' && m.entries.length > 0).length).toBe(inflightMessagesMax);
    expect(c.sentWhere((m) => m.type === 'app' && m.to === 'n3' && m.entries.length > 0).length).toBe(20);
    expect(c.applied('n3').length).toBe(20); // n1 and n3 are a quorum

    c.heal();
    c.tick('n1', 2);
    expect(c.applied('n2')).toEqual(c.applied('n1'));
  });

  it('§5.3 entries sent to a lagging follower are batched per message within appendBytesMax', () => {
    const appendBytesMax = 100;
    const c = new TestCluster({ raft: { appendBytesMax } });
    c.campaign('n1');
    c.crash('n3');
    for (let i = 0; i < 20; i++) c.propose('n1', `entry-${String(i).padStart(2, '0')}`); // 32 bytes charged each
    c.stabilize();
    c.restart('n3');
    c.sent = [];
    c.tick('n1', 3);
    expect(c.applied('n3')).toEqual(c.applied('n1'));
    const apps = c.sentWhere((m) => m.type === 'app' && m.to === 'n3' && m.entries.length > 0);
    for (const m of apps) {
      if (m.type !== 'app') continue;
      expect(m.entries.length === 1 || totalBytes(m.entries) <= appendBytesMax).toBe(true);
    }
    expect(Math.max(...apps.map((m) => (m.type === 'app' ? m.entries.length : 0)))).toBe(3);
    expect(apps.length).toBeGreaterThanOrEqual(7); // 21 entries, 3 per message
  });

  it('§5.3 a leader counts its own entry toward commit only once it is durable (advance), and a crash before that loses it uncommitted', () => {
    const c = new TestCluster({ voters: 1 });
    c.campaign('n1');
    c.propose('n1', 'a');
    expect(c.raft('n1').log.committed).toBe(1); // only the no-op: 'a' is not persisted yet
    expect(c.raft('n1').prs.progress.get('n1')!.match).toBe(1);
    c.stabilize();
    expect(c.raft('n1').log.committed).toBe(2);
    expect(c.applied('n1')).toEqual(['a']);

    c.propose('n1', 'lost');
    c.crash('n1'); // before its Ready was persisted
    c.restart('n1');
    expect(c.raft('n1').log.lastIndex()).toBe(2);
    c.campaign('n1');
    c.propose('n1', 'b');
    c.stabilize();
    expect(c.applied('n1')).toEqual(['a', 'b']);
  });

  it('§5.3 a huge entry still goes out alone even though it exceeds appendBytesMax', () => {
    const c = new TestCluster({ raft: { appendBytesMax: 16 } });
    c.campaign('n1');
    c.propose('n1', 'x'.repeat(1000));
    c.propose('n1', 'y');
    c.stabilize();
    expect(c.applied('n2')).toEqual(['x'.repeat(1000), 'y']);
  });
});
