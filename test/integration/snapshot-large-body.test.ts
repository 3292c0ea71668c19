/**
 * A follower that must catch up through a snapshot holding a 1 MiB message body: the stored
 * payload record (body plus record fields) is larger than the 1 MiB snapshot chunk bound, so
 * it travels in an oversized chunk. The follower installs the snapshot and catches up.
 */
import { afterEach, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster, queueState, waitFor } from './cluster-harness.js';

const snapshotArgs = ['--snapshot-entries', '20', '--compaction-trailing-entries', '0'];
const maxMessageBytes = 1024 * 1024;

describe('snapshot catch-up with a body of maxMessageBytes', { timeout: 90_000 }, () => {
  let cluster: Cluster | undefined;

  afterEach(async () => {
    await cluster?.stopAll();
    cluster = undefined;
  });

  test('a restarted follower installs a snapshot holding a 1 MiB body and catches up', async () => {
    const c = (cluster = await Cluster.start({ name: 'snapshot-1mib', args: snapshotArgs }));
    onTestFailed(() => console.error(c.logTails(40)));
    const leader = await c.waitForLeader();
    const [follower, other] = c.ids.filter((id) => id !== leader.id) as [string, string];
    await c.ok(leader.id, 'PUT', '/v1/queues/big', { maxMessageBytes });
    await c.waitForConvergence();
    const before = await c.status(follower);

    await c.kill(follower, 'SIGKILL');
    await c.ok(leader.id, 'POST', '/v1/queues/big/messages', { body: 'x'.repeat(maxMessageBytes) });
    for (let i = 0; i < 60; i++) await c.ok(leader.id, 'POST', '/v1/queues/big/messages', { body: `small-${i}` });
    await waitFor('the leader to compact past the stopped follower', async () => (await c.status(leader.id)).snapshotIndex > before.lastIndex + 1);

    await c.restart(follower);
    const target = (await c.status(leader.id)).appliedIndex;
    await c.waitForApplied(follower, target, 30_000);
    const installed = await c.waitForLog(follower, 'installed snapshot');
    expect(installed['index'] as number).toBeGreaterThan(before.lastIndex);
    const expected = { visible: 61, inFlight: 0, delayed: 0, deadLettered: 0 };
    for (const id of [follower, leader.id, other]) expect((await queueState(c, id, 'big')).counts).toEqual(expected);
  });
});
