/**
 * Three real nodes elect a leader; kill -9 of the leader elects another node in a higher term,
 * the cluster keeps accepting enqueues, and the old leader, restarted on its data directory,
 * rejoins and catches up to the same state. SIGTERM on a leader is a graceful shutdown: it
 * hands leadership over, exits 0, and loses nothing.
 */
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster, drainQueue, queueState } from './cluster-harness.js';

describe('failover: kill -9 of the leader', { timeout: 60_000 }, () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ name: 'failover' });
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  test('a new leader takes over and the restarted old leader catches up', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const first = await cluster.waitForLeader();
    await cluster.ok(first.id, 'PUT', '/v1/queues/jobs', {});
    const sent: string[] = [];
    // Enqueue through every node: followers forward to the leader.
    for (let i = 0; i < 30; i++) {
      const body = `before-${i}`;
      await cluster.ok(cluster.ids[i % 3]!, 'POST', '/v1/queues/jobs/messages', { body });
      sent.push(body);
    }

    await cluster.kill(first.id, 'SIGKILL');
    const survivors = cluster.ids.filter((id) => id !== first.id);
    const second = await cluster.waitForLeader({ among: survivors, not: first.id });
    expect(second.id).not.toBe(first.id);
    expect(second.term).toBeGreaterThan(first.term);

    for (let i = 0; i < 30; i++) {
      const body = `after-${i}`;
      await cluster.ok(survivors[i % 2]!, 'POST', '/v1/queues/jobs/messages', { body });
      sent.push(body);
    }
    const leaderQueue = await queueState(cluster, second.id, 'jobs');
    expect(leaderQueue.counts).toEqual({ visible: 60, inFlight: 0, delayed: 0, deadLettered: 0 });
    const commit = (await cluster.status(second.id)).commitIndex;

    await cluster.restart(first.id);
    const caughtUp = await cluster.waitForApplied(first.id, commit);
    expect(caughtUp.appliedIndex).toBeGreaterThanOrEqual(commit);
    const rejoined = await cluster.waitForLeader();
    // The old leader rejoins a cluster whose term moved on while it was down.
    expect(rejoined.term).toBeGreaterThanOrEqual(second.term);
    // A linearizable read served by the restarted node shows the same queue.
    const onOld = await queueState(cluster, first.id, 'jobs');
    expect(onOld).toEqual(leaderQueue);
    const statusOld = await cluster.status(first.id);
    expect(statusOld.leader).toBe(rejoined.id);
    // Draining through it (receives and acks are forwarded) returns every message, in order.

    const drained = await drainQueue(cluster, first.id, 'jobs');
    expect(drained).toEqual(sent);
    await cluster.waitForConvergence();
    for (const id of cluster.ids) {
      expect((await queueState(cluster, id, 'jobs')).counts).toEqual({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
    }
    expect(cluster.findLogs(second.id, 'became leader').length).toBeGreaterThan(0);
  });

  test('SIGTERM on the leader hands leadership over and exits cleanly; nothing is lost', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    for (const id of cluster.ids) if (!cluster.isRunning(id)) cluster.spawn(id);
    const before = await cluster.waitForLeader();
    await cluster.ok(before.id, 'PUT', '/v1/queues/graceful', {});
    for (let i = 0; i < 10; i++) await cluster.ok(before.id, 'POST', '/v1/queues/graceful/messages', { body: `g-${i}` });

    const exit = await cluster.kill(before.id, 'SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(cluster.findLogs(before.id, 'shutting down: transferring leadership').length).toBeGreaterThan(0);
    expect(cluster.findLogs(before.id, 'node stopped').length).toBeGreaterThan(0);
    const survivors = cluster.ids.filter((id) => id !== before.id);
    const after = await cluster.waitForLeader({ among: survivors, not: before.id });
    expect(after.term).toBeGreaterThan(before.term);
    await cluster.ok(after.id, 'POST', '/v1/queues/graceful/messages', { body: 'g-after' });

    await cluster.restart(before.id);
    await cluster.waitForConvergence();
    expect((await queueState(cluster, before.id, 'graceful')).counts.visible).toBe(11);
  });
});
