/**
 * The client library through a leader crash: producers stream sends while the leader is killed
 * with SIGKILL; the client retries on the surviving nodes by itself. Every acknowledged send
 * must be consumed (none lost) and every body must map to exactly one message id (no send
 * enqueued twice: retries after a lost reply are deduplicated by the producer key). A push
 * consumer on another client runs through the crash too.
 */
import { createServer, connect as netConnect, type Server } from 'node:net';
import { afterAll, beforeAll, expect, onTestFailed, test } from 'vitest';
import { connect, type Client, type SendResult } from '../../src/client/index.js';
import { Cluster, waitFor } from '../integration/cluster-harness.js';

let cluster: Cluster;
const clients: Client[] = [];

beforeAll(async () => {
  // A short server request timeout bounds how long a request forwarded to the dead leader waits.
  cluster = await Cluster.start({ name: 'client-failover', logLevel: 'info', args: ['--request-timeout-ms', '3000'] });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cluster?.stopAll();
});

/**
 * A TCP proxy to `port`. Once armed, it cuts the connection when the server's next bytes come,
 * without passing them on: the request was served, but the client never learns its outcome.
 */
async function replyDroppingProxy(port: number): Promise<{ port: number; arm: () => void; dropped: () => number; server: Server }> {
  let armed = false;
  let dropped = 0;
  const server = createServer((client) => {
    const upstream = netConnect({ host: '127.0.0.1', port });
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (armed) {
        armed = false;
        dropped++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return { port: typeof addr === 'object' && addr !== null ? addr.port : 0, arm: () => (armed = true), dropped: () => dropped, server };
}

test('a send whose reply is lost is retried and deduplicated, not enqueued twice', async () => {
  const leader = (await cluster.waitForLeader()).id;
  const proxy = await replyDroppingProxy(cluster.node(leader).clientPort);
  try {
    const c = await connect({ nodes: [`127.0.0.1:${proxy.port}`] });
    clients.push(c);
    await c.createQueue('lost-reply');
    proxy.arm();
    const res = await c.send('lost-reply', 'exactly once');
    // The first attempt was applied but its reply was dropped; the retry found its producer key.
    expect(proxy.dropped()).toBe(1);
    expect(res.duplicate).toBe(true);
    const got = await c.receive('lost-reply', { max: 10 });
    expect(got.map((m) => [m.id, m.text()])).toEqual([[res.id, 'exactly once']]);
  } finally {
    proxy.server.close();
  }
});

test('kill -9 of the leader mid-stream: no acknowledged send lost, none enqueued twice', { timeout: 120_000 }, async () => {
  onTestFailed(() => console.error(cluster.logTails(40)));
  const nodes = cluster.ids.map((id) => `127.0.0.1:${cluster.node(id).clientPort}`);
  const producer = await connect({ nodes, requestTimeoutMs: 4000, retryTimeoutMs: 60_000 });
  const consumerClient = await connect({ nodes, requestTimeoutMs: 4000, retryTimeoutMs: 60_000 });
  clients.push(producer, consumerClient);
  await producer.createQueue('orders');
  const leader = (await cluster.waitForLeader()).id;

  // body -> message ids it was consumed under (a body enqueued twice would show two ids).
  const consumed = new Map<string, Set<string>>();
  const consumer = consumerClient.consume(
    'orders',
    (m) => {
      const ids = consumed.get(m.text()) ?? new Set<string>();
      ids.add(m.id);
      consumed.set(m.text(), ids);
    },
    // A short lease: deliveries whose receive committed but whose reply died with the leader
    // come back quickly.
    { concurrency: 8, prefetch: 32, visibilityTimeoutMs: 3000 },
  );

  const producers = 8;
  const perProducer = 60;
  const killAfter = 150;
  const acked = new Map<string, SendResult>();
  let killed: Promise<unknown> | undefined;
  await Promise.all(
    Array.from({ length: producers }, async (_, p) => {
      for (let i = 0; i < perProducer; i++) {
        const body = `p${p}-${i}`;
        acked.set(body, await producer.send('orders', body));
        if (acked.size === killAfter) killed = cluster.kill(leader, 'SIGKILL');
      }
    }),
  );
  await killed;
  expect(cluster.isRunning(leader)).toBe(false);
  expect(acked.size).toBe(producers * perProducer);
  const retriedAsDuplicate = [...acked.values()].filter((r) => r.duplicate).length;
  console.log(`failover: ${acked.size} sends acknowledged, ${retriedAsDuplicate} answered as deduplicated retries`);

  // No loss: every acknowledged body is consumed (at least once; redeliveries are allowed).
  await waitFor('every acknowledged send to be consumed', () => [...acked.keys()].every((b) => consumed.has(b)), 60_000, 100);
  await consumer.close();
  expect(consumer.error).toBeUndefined();
  // Drain whatever is left (redeliveries the consumer returned at close, or a duplicate).
  await waitFor('the queue to be empty', async () => {
    for (const m of await producer.receive('orders', { max: 100 })) {
      consumed.set(m.text(), (consumed.get(m.text()) ?? new Set<string>()).add(m.id));
      await m.ack();
    }
    const s = (await producer.getQueue('orders')).stats;
    return s.visible === 0 && s.inFlight === 0 && s.delayed === 0;
  }, 30_000, 200);
  // No duplicates: each body has exactly one message id, the one its send returned.
  for (const [body, res] of acked) expect([body, [...consumed.get(body)!]]).toEqual([body, [res.id]]);
  // Nothing else was enqueued.
  expect(consumed.size).toBe(acked.size);
  expect(new Set([...acked.values()].map((r) => r.id)).size).toBe(acked.size);
});

test('a leader frozen with SIGSTOP: requests time out on it and the client moves on', { timeout: 120_000 }, async () => {
  onTestFailed(() => console.error(cluster.logTails(40)));
  for (const id of cluster.ids) if (!cluster.isRunning(id)) cluster.spawn(id);
  await cluster.waitForConvergence();
  const leader = (await cluster.waitForLeader()).id;
  const nodes = cluster.ids.map((id) => `127.0.0.1:${cluster.node(id).clientPort}`);
  const c = await connect({ nodes, requestTimeoutMs: 2000, retryTimeoutMs: 60_000 });
  clients.push(c);
  await c.createQueue('frozen');
  await waitFor('the client to talk to the leader', async () => (await c.cluster()).id === leader);
  await cluster.pause(leader);
  try {
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => c.send('frozen', `f${i}`)));
    expect(new Set(sent.map((r) => r.id)).size).toBe(20);
    const now = await c.cluster();
    expect(now.id).not.toBe(leader);
  } finally {
    await cluster.resume(leader);
  }
  await waitFor('every message to be there once', async () => (await c.getQueue('frozen')).stats.visible === 20);
});
