/**
 * Every node killed with kill -9 in the middle of a concurrent enqueue load, then restarted:
 * every enqueue that got a 200 is still there after recovery. Enqueues whose outcome the client
 * never learned (the connection died) may or may not be there; anything else is a bug.
 */
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster, drainQueue, HttpError, sleep, waitFor } from './cluster-harness.js';

/** What the writers know about each body they sent. */
interface Outcome {
  readonly acked: Set<string>;
  /** Sent, but the reply was an error or never came: the outcome is unknown. */
  readonly unknown: Set<string>;
  /**
   * Refused with an error that promises the enqueue was not applied (anything but TIMEOUT and
   * INTERNAL, e.g. NO_LEADER, UNAVAILABLE), or never delivered (connection refused): finding
   * one of these after recovery is a bug.
   */
  readonly refused: Set<string>;
}

describe('crash recovery: kill -9 of every node under load', { timeout: 60_000 }, () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ name: 'crash' });
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  test('every acknowledged enqueue survives', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const leader = await cluster.waitForLeader();
    await cluster.ok(leader.id, 'PUT', '/v1/queues/durable', {});

    const outcome: Outcome = { acked: new Set(), unknown: new Set(), refused: new Set() };
    let stop = false;
    const writer = async (w: number, via: string): Promise<void> => {
      for (let seq = 0; !stop; seq++) {
        const body = `w${w}-${seq}`;
        try {
          const res = await cluster.http<{ error?: { code?: string } }>(via, 'POST', '/v1/queues/durable/messages', { body }, 5_000);
          const code = res.body?.error?.code;
          if (res.status === 200) outcome.acked.add(body);
          else if (code === undefined || code === 'TIMEOUT' || code === 'INTERNAL') outcome.unknown.add(body);
          else outcome.refused.add(body);
        } catch (e) {
          // Connection refused: the request never reached a node. Anything else (reset,
          // timeout) may have been applied.
          (e instanceof HttpError && e.code === 'ECONNREFUSED' ? outcome.refused : outcome.unknown).add(body);
          // The node is gone: don't spin on connection refused.
          await sleep(20);
        }
      }
    };
    // Three writers per node; writes through followers are forwarded to the leader.
    const writers = cluster.ids.flatMap((id, i) => [0, 1, 2].map((k) => writer(3 * i + k, id)));

    // Two rounds: let the load run until enough enqueues were acknowledged, kill every node as
    // close together as possible while requests are in flight, restart them all (the writers
    // keep going, so the second round also writes to a cluster that just recovered).
    let term = leader.term;
    let after = leader;
    for (const round of [1, 2]) {
      const target = 250 * round;
      await waitFor(`${target} acknowledged enqueues`, () => outcome.acked.size >= target, 30_000, 5);
      await Promise.all(cluster.ids.map((id) => cluster.kill(id, 'SIGKILL')));
      for (const id of cluster.ids) await cluster.restart(id);
      after = await cluster.waitForLeader({ timeoutMs: 30_000 });
      expect(after.term).toBeGreaterThan(term);
      term = after.term;
    }
    stop = true;
    await Promise.all(writers);

    const drained = await drainQueue(cluster, after.id, 'durable');
    const seen = new Set<string>();
    const duplicates: string[] = [];
    const unexpected: string[] = [];
    let recovered = 0;
    for (const body of drained) {
      if (seen.has(body)) duplicates.push(body);
      seen.add(body);
      if (outcome.acked.has(body)) continue;
      if (outcome.unknown.has(body)) recovered++;
      // A refused enqueue (or a body never sent) in the queue is a lie told to a client.
      else unexpected.push(body);
    }
    const lost = [...outcome.acked].filter((b) => !seen.has(b));
    console.info(
      `crash recovery: ${outcome.acked.size} acked, ${outcome.unknown.size} unknown (${recovered} of them recovered), ` +
        `${outcome.refused.size} refused, ${drained.length} drained`,
    );
    expect(lost).toEqual([]);
    expect(duplicates).toEqual([]);
    expect(unexpected).toEqual([]);

    // The cluster is fully usable again, and every node agrees on the (empty) queue.
    await cluster.ok(after.id, 'POST', '/v1/queues/durable/messages', { body: 'after-recovery' });
    await cluster.waitForConvergence();
    for (const id of cluster.ids) {
      const q = await cluster.ok<{ stats: { visible: number } }>(id, 'GET', '/v1/queues/durable');
      expect(q.stats.visible).toBe(1);
    }
  });
});
