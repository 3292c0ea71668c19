import { describe, expect, it } from 'vitest';
import { TestCluster } from './harness.js';

describe('snapshots and log compaction (Raft §7)', () => {
  it('§7 a follower that was down while the log was compacted past it installs a snapshot and catches up', () => {
    const c = new TestCluster({ snapshotEveryEntries: 5 });
    c.campaign('n1');
    c.crash('n3');
    for (let i = 0; i < 30; i++) {
      c.propose('n1', `a${i}`);
      c.stabilize();
    }
    const leaderFirst = c.sim('n1').storage.firstIndex();
    expect(leaderFirst).toBeGreaterThan(c.raft('n3').log.lastIndex() + 1);
    c.restart('n3');
    c.tick('n1', 3);
    expect(c.sentWhere((m) => m.type === 'snap' && m.to === 'n3').length).toBe(1);
    expect(c.sim('n3').storage.snapshot().index).toBeGreaterThanOrEqual(leaderFirst - 1);
    expect(c.applied('n3')).toEqual(c.applied('n1'));
    expect(c.raft('n1').prs.progress.get('n3')!.state).toBe('replicate');
    // It keeps replicating by appends afterwards.
    c.propose('n1', 'after');
    c.stabilize();
    expect(c.applied('n3').at(-1)).toBe('after');
    expect(c.sentWhere((m) => m.type === 'snap').length).toBe(1);
  });

  it('§7 reportSnapshot(false) returns the follower to probe, and the snapshot is sent again', () => {
    const c = new TestCluster({ snapshotEveryEntries: 5, autoReportSnapshot: false });
    c.campaign('n1');
    c.crash('n3');
    for (let i = 0; i < 12; i++) {
      c.propose('n1', `a${i}`);
      c.stabilize();
    }
    c.restart('n3');
    c.deliverIf = (m) => m.type !== 'snap'; // the stream fails
    c.tick('n1', 2);
    const pr = () => c.raft('n1').prs.progress.get('n3')!;
    expect(pr().state).toBe('snapshot');
    // Paused: no further appends or snapshots while one is in flight.
    c.tick('n1', 3);
    expect(c.sentWhere((m) => m.type === 'snap').length).toBe(1);

    c.sim('n1').node.reportSnapshot('n3', false);
    expect(pr().state).toBe('probe');
    expect(pr().pendingSnapshot).toBe(0);
    expect(pr().next).toBe(pr().match + 1);
    c.heal();
    c.tick('n1', 2);
    expect(c.sentWhere((m) => m.type === 'snap').length).toBe(2);
    c.sim('n1').node.reportSnapshot('n3', true);
    c.tick('n1', 2);
    expect(c.applied('n3')).toEqual(c.applied('n1'));
    expect(pr().state).toBe('replicate');
  });

  it('§7 a node restarted from its own snapshot resumes with the snapshot state and the entries after it', () => {
    const c = new TestCluster({ snapshotEveryEntries: 4 });
    c.campaign('n1');
    for (let i = 0; i < 10; i++) {
      c.propose('n1', `a${i}`);
      c.stabilize();
    }
    expect(c.sim('n2').storage.snapshot().index).toBeGreaterThan(0);
    c.crash('n2');
    c.restart('n2');
    expect(c.raft('n2').log.applied).toBe(c.sim('n2').storage.snapshot().index);
    c.tick('n1', 2);
    expect(c.applied('n2')).toEqual(c.applied('n1'));
  });
});
