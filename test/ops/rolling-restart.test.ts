/**
 * Rolling restart without losing availability (README "Operations"): every node in turn gets
 * SIGTERM (graceful: a leader hands leadership over first), exits 0, is started again on its
 * data directory and waits until it has caught up, while producers using the client library
 * keep enqueuing. Zero acknowledged messages lost, zero duplicates, zero client-visible errors.
 */
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { connect, type Client } from '../../src/client/index.js';
import { Cluster, drainQueue, sleep } from '../integration/cluster-harness.js';

describe('rolling restart', { timeout: 90_000 }, () => {
  let cluster: Cluster;
  const clients: Client[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start({ name: 'ops-rolling' });
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    await cluster?.stopAll();
  });

  test('every node restarted in turn while clients enqueue: nothing lost, no client errors', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const nodes = cluster.ids.map((id) => `127.0.0.1:${cluster.node(id).clientPort}`);
    const admin = await connect({ nodes, retryTimeoutMs: 20_000 });
    clients.push(admin);
    await admin.createQueue('roll');

    const acked: string[] = [];
    const failures: unknown[] = [];
    let stop = false;
    const producer = async (p: number): Promise<void> => {
      const c = await connect({ nodes, retryTimeoutMs: 30_000, name: `producer-${p}` });
      clients.push(c);
      for (let i = 0; !stop; i++) {
        const body = `p${p}-${i}`;
        try {
          await c.send('roll', body);
          acked.push(body);
        } catch (e) {
          failures.push(e);
          await sleep(50);
        }
      }
    };
    const producers = [0, 1, 2].map((p) => producer(p));

    await sleep(500);
    for (const id of cluster.ids) {
      const before = acked.length;
      const exit = await cluster.kill(id, 'SIGTERM');
      expect(exit?.code, `${id} exits 0 on SIGTERM`).toBe(0);
      cluster.spawn(id);
      // Caught up: the restarted node applied what the leader had committed when it came back.
      await cluster.waitForConvergence(cluster.ids, 30_000);
      // Producers made progress through the restart.
      await waitForMore(() => acked.length, before + 20);
    }
    await sleep(300);
    stop = true;
    await Promise.all(producers);

    expect(failures).toEqual([]);
    expect(acked.length).toBeGreaterThan(100);
    const drained = await drainQueue(cluster, cluster.ids[0]!, 'roll', 60_000);
    expect(drained.length).toBe(acked.length);
    expect(new Set(drained)).toEqual(new Set(acked));
  });
});

async function waitForMore(count: () => number, target: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (count() < target) {
    if (Date.now() > deadline) throw new Error(`producers stalled at ${count()} (wanted ${target})`);
    await sleep(50);
  }
}
