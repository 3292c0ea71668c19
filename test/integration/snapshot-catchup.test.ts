/**
 * A follower that is down (kill -9, then restarted) or frozen (SIGSTOP, then SIGCONT) while the
 * leader's log grows past the snapshot threshold and is compacted beyond what the follower has
 * can only catch up through a streamed snapshot: the leader streams one, the follower installs
 * it, and its applied state ends up equal to the other nodes' (queue stats through
 * linearizable reads on it, and the applied keyspaces byte for byte once every node is
 * stopped, less the payload records: each node's own copies of bodies its log dropped, which
 * must be of live messages only).
 */
import { afterEach, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster, queueState, waitFor } from './cluster-harness.js';
import { readAppliedState, type AppliedState } from './level-inspect.js';

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const snapshotArgs = ['--snapshot-entries', '200', '--compaction-trailing-entries', '20'];

/**
 * Stops every node at one applied index and compares their applied keyspaces byte for byte.
 * The leader's periodic housekeeping entry can slip in between the convergence check and the
 * stop; then the nodes are restarted and the comparison is tried again.
 */
async function expectIdenticalAppliedState(cluster: Cluster, minPairs: number): Promise<void> {
  let states: AppliedState[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const target = await cluster.waitForConvergence();
    // Stopped cleanly: a node checkpoints its applied state at close (a SIGKILL would leave
    // each node's last periodic checkpoint, at different indexes).
    await Promise.all(cluster.ids.map((id) => cluster.kill(id, 'SIGTERM')));
    states = await Promise.all(cluster.ids.map((id) => readAppliedState(cluster.node(id).dataDir)));
    if (states.every((s) => s.appliedIndex === states[0]!.appliedIndex && s.appliedIndex >= target)) break;
    for (const id of cluster.ids) cluster.spawn(id);
    await cluster.waitForLeader();
  }
  const [a, ...rest] = states as [AppliedState, ...AppliedState[]];
  expect(a.pairs.size).toBeGreaterThan(minPairs);
  for (const s of rest) {
    expect(s.appliedIndex).toBe(a.appliedIndex);
    expect(s.pairs).toEqual(a.pairs);
  }
  // Each node's copies of bodies (its own business) are of live messages only.
  for (const s of states) for (const seq of s.payloadSeqs) expect(s.messageSeqs.has(seq), `payload record ${seq} of a message gone`).toBe(true);
}

/** Asserts the leader streamed `follower` a snapshot past `pastIndex` and the follower installed it. */
async function expectSnapshotInstalled(cluster: Cluster, leader: string, follower: string, pastIndex: number): Promise<void> {
  const streamed = await cluster.waitForLog(leader, 'streaming snapshot', { to: follower });
  const installed = await cluster.waitForLog(follower, 'installed snapshot');
  expect(installed['index']).toBe(streamed['index']);
  expect(installed['index'] as number).toBeGreaterThan(pastIndex);
  await cluster.waitForConvergence();
  expect((await cluster.status(follower)).snapshotIndex).toBeGreaterThanOrEqual(installed['index'] as number);
}

describe('snapshot catch-up of a lagging follower', { timeout: 60_000 }, () => {
  let cluster: Cluster | undefined;

  afterEach(async () => {
    await cluster?.stopAll();
    cluster = undefined;
  });

  test('a follower killed and restarted behind the compaction point installs a streamed snapshot', async () => {
    const c = (cluster = await Cluster.start({ name: 'snapshot-kill', args: snapshotArgs }));
    onTestFailed(() => console.error(c.logTails(40)));
    const leader = await c.waitForLeader();
    const [follower, other] = c.ids.filter((id) => id !== leader.id) as [string, string];
    await c.ok(leader.id, 'PUT', '/v1/queues/big', {});
    for (let i = 0; i < 10; i++) await c.ok(leader.id, 'POST', '/v1/queues/big/messages', { body: `early-${i}` });
    await c.waitForConvergence();
    const before = await c.status(follower);

    await c.kill(follower, 'SIGKILL');
    // ~1.4 MB of payloads: more than one 1 MiB snapshot chunk.
    const pad = 'x'.repeat(3000);
    const bodies = Array.from({ length: 450 }, (_, i) => `late-${i}-${pad}`);
    await pool(bodies, 8, async (body) => void (await c.ok(leader.id, 'POST', '/v1/queues/big/messages', { body })));
    await waitFor('the leader to compact past the stopped follower', async () => (await c.status(leader.id)).snapshotIndex > before.lastIndex);
    expect(c.findLogs(leader.id, 'compacted the log').length).toBeGreaterThan(0);

    await c.restart(follower);
    await expectSnapshotInstalled(c, leader.id, follower, before.lastIndex);
    const expected = { visible: 460, inFlight: 0, delayed: 0, deadLettered: 0 };
    for (const id of [follower, leader.id, other]) expect((await queueState(c, id, 'big')).counts).toEqual(expected);

    // The follower keeps replicating normally after the install.
    for (let i = 0; i < 5; i++) await c.ok(follower, 'POST', '/v1/queues/big/messages', { body: `after-${i}` });
    await c.waitForConvergence();
    expect((await queueState(c, follower, 'big')).counts.visible).toBe(465);

    // The bodies of messages enqueued before the snapshot came with it, whether the leader had
    // them in its log or in payload records: led by the follower now, every body is delivered.
    await c.ok(leader.id, 'POST', '/v1/cluster/transfer-leader', { to: follower });
    await waitFor('the follower to lead', async () => (await c.waitForLeader()).id === follower);
    const delivered: string[] = [];
    for (;;) {
      const got = await c.ok<{ messages: Array<{ body: string }> }>(follower, 'POST', '/v1/queues/big/receive', { max: 10, visibilityTimeoutMs: 600_000 });
      if (got.messages.length === 0) break;
      delivered.push(...got.messages.map((m) => m.body));
    }
    const sent = [...Array.from({ length: 10 }, (_, i) => `early-${i}`), ...bodies, ...Array.from({ length: 5 }, (_, i) => `after-${i}`)];
    expect(delivered.sort()).toEqual(sent.sort());
    await expectIdenticalAppliedState(c, 465);
  });

  test('a follower frozen with SIGSTOP while the log is compacted catches up after SIGCONT', async () => {
    const c = (cluster = await Cluster.start({ name: 'snapshot-stop', args: snapshotArgs }));
    onTestFailed(() => console.error(c.logTails(40)));
    const leader = await c.waitForLeader();
    const [follower, other] = c.ids.filter((id) => id !== leader.id) as [string, string];
    await c.ok(leader.id, 'PUT', '/v1/queues/small', {});
    await c.waitForConvergence();
    const before = await c.status(follower);

    await c.pause(follower);
    // One enqueue at a time: every entry travels in its own append message, so the leader stops
    // pipelining to the frozen follower once its in-flight window (256 messages) is full, and
    // the entries after that are compacted away before the follower thaws.
    const count = 700;
    for (let i = 0; i < count; i++) await c.ok(leader.id, 'POST', '/v1/queues/small/messages', { body: `m-${i}` });
    const leaderSnap = await waitFor('the leader to compact well past the frozen follower', async () => {
      const s = await c.status(leader.id);
      return s.snapshotIndex > before.lastIndex + 300 ? s.snapshotIndex : undefined;
    });
    expect(leaderSnap).toBeGreaterThan(before.lastIndex + 300);

    await c.resume(follower);
    await expectSnapshotInstalled(c, leader.id, follower, before.lastIndex);
    const expected = { visible: count, inFlight: 0, delayed: 0, deadLettered: 0 };
    for (const id of [follower, leader.id, other]) expect((await queueState(c, id, 'small')).counts).toEqual(expected);
    await expectIdenticalAppliedState(c, count);
  });
});
