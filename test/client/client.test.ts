/**
 * The client library (src/client) against a real three-node cluster: the whole API, leader
 * discovery from a follower, idempotent sends, long-poll wake-up, push consumers with flow
 * control (never more unsettled deliveries than prefetch), clean close, typed errors.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Client, connect, type Message } from '../../src/client/index.js';
import { RaftqError } from '../../src/errors.js';
import { Cluster, waitFor } from '../integration/cluster-harness.js';

let cluster: Cluster;
let client: Client;
let leader: string;
let addresses: string[];

const addressOf = (id: string): string => `127.0.0.1:${cluster.node(id).clientPort}`;

beforeAll(async () => {
  cluster = await Cluster.start({ name: 'client', logLevel: 'warn' });
  leader = (await cluster.waitForLeader()).id;
  addresses = cluster.ids.map(addressOf);
  client = await connect({ nodes: addresses });
});

afterAll(async () => {
  await client?.close();
  await cluster?.stopAll();
});

/** Resolves after `ms` milliseconds. */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('queue management and messages', () => {
  test('create, get, list, set attributes, purge, delete', async () => {
    const q = await client.createQueue('mgmt', { visibilityTimeoutMs: 5000 });
    expect(q).toMatchObject({ name: 'mgmt', created: true, attributes: { visibilityTimeoutMs: 5000, fifo: false }, stats: { visible: 0 } });
    expect((await client.createQueue('mgmt', { visibilityTimeoutMs: 5000 })).created).toBe(false);
    expect((await client.listQueues()).map((x) => x.name)).toContain('mgmt');
    expect((await client.setQueueAttributes('mgmt', { delayMs: 0, retentionMs: 3_600_000 })).attributes.retentionMs).toBe(3_600_000);
    await client.sendBatch('mgmt', ['a', 'b', 'c']);
    expect((await client.getQueue('mgmt')).stats.visible).toBe(3);
    expect(await client.purgeQueue('mgmt')).toEqual({ purgedMessages: 3 });
    await client.send('mgmt', 'd');
    expect(await client.deleteQueue('mgmt')).toEqual({ deletedMessages: 1 });
    const err = await client.getQueue('mgmt').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RaftqError);
    expect((err as RaftqError).code).toBe('QUEUE_NOT_FOUND');
  });

  test('send, sendBatch, receive, ack, nack, changeVisibility', async () => {
    await client.createQueue('msgs');
    const one = await client.send('msgs', 'hello', { attributes: { kind: 'greeting' } });
    expect(one).toMatchObject({ offset: 0, duplicate: false });
    const batch = await client.sendBatch('msgs', [new Uint8Array([0, 1, 2]), { body: 'third' }]);
    expect(batch.messages.map((m) => m.offset)).toEqual([1, 2]);
    const got = await client.receive('msgs', { max: 10, visibilityTimeoutMs: 60_000 });
    expect(got.map((m) => m.offset)).toEqual([0, 1, 2]);
    expect(got[0]!.text()).toBe('hello');
    expect(got[0]!.attributes).toEqual({ kind: 'greeting' });
    expect(got[0]!.id).toBe(one.id);
    expect([...got[1]!.body]).toEqual([0, 1, 2]);
    await got[0]!.ack();
    await got[1]!.nack();
    await got[2]!.changeVisibility(120_000);
    await expect(got[0]!.ack()).rejects.toThrow(TypeError);
    const again = await client.receive('msgs', { max: 10 });
    expect(again.map((m) => [m.offset, m.receiveCount])).toEqual([[1, 2]]);
    await again[0]!.ack();
    expect((await client.getQueue('msgs')).stats).toMatchObject({ visible: 0, inFlight: 1 });
  });

  test('a superseded receipt is refused with STALE_RECEIPT', async () => {
    await client.createQueue('stale');
    await client.send('stale', 'x');
    const [first] = await client.receive('stale', { visibilityTimeoutMs: 0 });
    const [second] = await client.receive('stale');
    expect(second!.receiveCount).toBe(2);
    const err = await first!.ack().catch((e: unknown) => e);
    expect((err as RaftqError).code).toBe('STALE_RECEIPT');
    await second!.ack();
  });

  test('redrive moves dead-lettered messages back to their source', async () => {
    await client.createQueue('dlq');
    await client.createQueue('work', { maxReceiveCount: 1, deadLetterQueue: 'dlq' });
    await client.send('work', 'poison');
    await client.receive('work', { visibilityTimeoutMs: 0 });
    expect(await client.receive('work')).toEqual([]);
    expect((await client.getQueue('dlq')).stats.visible).toBe(1);
    const task = await client.redrive('dlq');
    expect(task).toEqual({ moved: 1, taskIndex: expect.any(Number) });
    expect((await client.getQueue('work')).stats.visible).toBe(1);
    expect((await client.getQueue('dlq')).lastRedrive).toMatchObject({ taskIndex: task.taskIndex, moved: 1, destination: '' });
  });

  test('new queue attributes, tags in queue info, redrive to a destination, message metadata', async () => {
    const attrs = { contentBasedDeduplication: true, receiveWaitTimeMs: 15_000, redriveAllowPolicy: '{"redrivePermission":"denyAll"}' };
    const q = await client.createQueue('meta.fifo', attrs);
    expect(q.attributes).toMatchObject(attrs);
    expect(q.tags).toEqual({});
    expect(q.lastRedrive).toBeUndefined();
    expect((await client.setQueueAttributes('meta.fifo', { receiveWaitTimeMs: 0 })).attributes).toMatchObject({ ...attrs, receiveWaitTimeMs: 0 });
    await client.createQueue('parked.fifo');
    await client.send('parked.fifo', 'x', { groupId: 'g', dedupId: 'd-7' });
    expect(await client.redrive('parked.fifo', 'meta.fifo')).toMatchObject({ moved: 1 });
    const [m] = await client.receive('meta.fifo');
    expect(m).toMatchObject({ groupId: 'g', dedupId: 'd-7', receiveCount: 1 });
    expect(m!.sentAtMs).toBeLessThanOrEqual(m!.enqueuedAtMs);
    expect(m!.firstReceivedAtMs).toBeGreaterThanOrEqual(m!.enqueuedAtMs);
    expect((await client.getQueue('parked.fifo')).lastRedrive).toMatchObject({ moved: 1, destination: 'meta.fifo' });
  });

  test('queue tags: on create, tagQueue, untagQueue, limits', async () => {
    expect((await client.createQueue('tagged', {}, { team: 'core' })).tags).toEqual({ team: 'core' });
    await client.tagQueue('tagged', { env: 'dev', team: 'edge' });
    await client.untagQueue('tagged', ['env', 'absent']);
    expect((await client.getQueue('tagged')).tags).toEqual({ team: 'edge' });
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    const err = await client.tagQueue('tagged', many).catch((e: unknown) => e);
    expect((err as RaftqError).code).toBe('INVALID_ARGUMENT');
    expect(((await client.tagQueue('absent-queue', {}).catch((e: unknown) => e)) as RaftqError).code).toBe('QUEUE_NOT_FOUND');
  });

  test('sends are idempotent: an idempotency key, and the producer sequence on retries', async () => {
    await client.createQueue('idem');
    const a = await client.send('idem', 'once', { idempotencyKey: 'order-42' });
    const b = await client.send('idem', 'once', { idempotencyKey: 'order-42' });
    expect(b).toEqual({ id: a.id, offset: a.offset, duplicate: true });
    // Two clients with the same producer id replaying sequence 1: the second is a duplicate.
    const p1 = await connect({ nodes: addresses, producerId: 'fixed-producer' });
    const p2 = await connect({ nodes: addresses, producerId: 'fixed-producer' });
    try {
      const x = await p1.send('idem', 'seq-1');
      const y = await p2.send('idem', 'seq-1 again');
      expect(y).toEqual({ ...x, duplicate: true });
    } finally {
      await Promise.all([p1.close(), p2.close()]);
    }
    expect((await client.getQueue('idem')).stats.visible).toBe(2);
  });

  test('a request above the frame limit fails alone with TOO_LARGE; the connection goes on', async () => {
    await client.createQueue('big');
    const huge = Array.from({ length: 100 }, () => new Uint8Array(100 * 1024));
    const [tooLarge, fine] = await Promise.allSettled([client.sendBatch('big', huge), client.send('big', 'small')]);
    expect(tooLarge.status === 'rejected' ? (tooLarge.reason as RaftqError).code : 'sent').toBe('TOO_LARGE');
    expect(fine.status).toBe('fulfilled');
    expect((await client.getQueue('big')).stats.visible).toBe(1);
  });

  test('a long-poll receive wakes up when a message arrives', async () => {
    await client.createQueue('poll');
    const waiting = client.receive('poll', { waitMs: 15_000 });
    await sleep(200);
    await client.send('poll', 'ping');
    const got = await waiting;
    expect(got.map((m) => m.text())).toEqual(['ping']);
  });

  test('typed errors carry a stable code', async () => {
    const bad = await client.createQueue('no spaces allowed').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(RaftqError);
    expect((bad as RaftqError).code).toBe('INVALID_ARGUMENT');
    const missing = await client.send('missing', 'x').catch((e: unknown) => e);
    expect((missing as RaftqError).code).toBe('QUEUE_NOT_FOUND');
    const unreachable = await connect({ nodes: ['127.0.0.1:1'], retryTimeoutMs: 300 }).catch((e: unknown) => e);
    expect((unreachable as RaftqError).code).toBe('UNAVAILABLE');
    expect((unreachable as RaftqError).cause).toBeInstanceOf(RaftqError);
    expect(() => new Client({ nodes: ['not an address'] })).toThrow(TypeError);
  });
});

describe('leader discovery', () => {
  test('a client given only a follower works at once and then talks to the leader directly', async () => {
    const follower = cluster.ids.find((id) => id !== leader)!;
    const c = await connect({ nodes: [addressOf(follower)] });
    try {
      await c.createQueue('via-follower');
      await c.send('via-follower', 'x');
      // The follower named the leader; the client moved its requests there.
      const st = await waitFor('the client to reach the leader', async () => {
        const s = await c.cluster();
        return s.id === s.leader ? s : undefined;
      });
      expect(st.id).toBe(leader);
      expect(st.nodes.map((n) => n.id).sort()).toEqual(cluster.ids.slice().sort());
    } finally {
      await c.close();
    }
  });

  test('transferLeader moves leadership; the client follows', async () => {
    const to = cluster.ids.find((id) => id !== leader)!;
    expect(await client.transferLeader(to)).toBe(to);
    expect((await cluster.waitForLeader()).id).toBe(to);
    leader = to;
    await client.send('msgs', 'after transfer');
    await waitFor('the client to reach the new leader', async () => {
      const s = await client.cluster();
      return s.id === to ? s : undefined;
    });
  });
});

describe('push consumers', () => {
  test('never more unsettled deliveries than prefetch: blocked handlers hold exactly prefetch messages', async () => {
    await client.createQueue('flow');
    await client.sendBatch('flow', Array.from({ length: 30 }, (_, i) => `m${i}`));
    const release: Array<() => void> = [];
    let started = 0;
    const consumer = client.consume(
      'flow',
      () =>
        new Promise<void>((resolve) => {
          started++;
          release.push(resolve);
        }),
      { concurrency: 2, prefetch: 5, visibilityTimeoutMs: 60_000 },
    );
    await waitFor('five deliveries', () => consumer.unsettled === 5);
    // The server holds no more credit: nothing else arrives while the handlers are blocked.
    await sleep(800);
    expect(consumer.unsettled).toBe(5);
    expect(started).toBe(2);
    expect((await client.getQueue('flow')).stats).toMatchObject({ inFlight: 5, visible: 25 });
    // One settled message returns one credit: exactly one more delivery.
    release.shift()!();
    await waitFor('a handler to start on the buffered message', () => started === 3);
    await waitFor('the returned credit to be used', () => consumer.unsettled === 5);
    await sleep(500);
    expect((await client.getQueue('flow')).stats).toMatchObject({ inFlight: 5, visible: 24 });
    const closing = consumer.close();
    for (const r of release.splice(0)) r();
    await closing;
    // Two handlers finished (acked) at close, the three buffered messages were nacked.
    expect((await client.getQueue('flow')).stats).toMatchObject({ inFlight: 0, visible: 27 });
  });

  test('consume processes every message once with bounded concurrency, acks on success and nacks on error', async () => {
    await client.createQueue('work-consume');
    const total = 120;
    for (let i = 0; i < total; i += 40) await client.sendBatch('work-consume', Array.from({ length: 40 }, (_, j) => `job-${i + j}`));
    const done = new Map<string, number>();
    let running = 0;
    let runningMax = 0;
    let failedOnce = false;
    const errors: unknown[] = [];
    const consumer = client.consume(
      'work-consume',
      async (m: Message) => {
        running++;
        runningMax = Math.max(runningMax, running);
        try {
          await sleep(2);
          if (m.text() === 'job-7' && !failedOnce) {
            failedOnce = true;
            throw new Error('transient failure');
          }
          done.set(m.text(), (done.get(m.text()) ?? 0) + 1);
        } finally {
          running--;
        }
      },
      { concurrency: 4, prefetch: 8, onError: (e) => errors.push(e) },
    );
    await waitFor('every job to be handled', () => done.size === total, 30_000);
    await consumer.close();
    expect(runningMax).toBeLessThanOrEqual(4);
    expect([...done.values()].every((n) => n === 1)).toBe(true);
    expect(errors.map((e) => (e as Error).message)).toEqual(['transient failure']);
    expect((await client.getQueue('work-consume')).stats).toMatchObject({ visible: 0, inFlight: 0 });
  });

  test('close() waits for running handlers to finish and acks their messages', async () => {
    await client.createQueue('closing');
    await client.send('closing', 'slow');
    let finished = false;
    let startedResolve!: () => void;
    const started = new Promise<void>((r) => (startedResolve = r));
    const consumer = client.consume('closing', async () => {
      startedResolve();
      await sleep(300);
      finished = true;
    });
    await started;
    await consumer.close();
    expect(finished).toBe(true);
    expect((await client.getQueue('closing')).stats).toMatchObject({ visible: 0, inFlight: 0 });
  });

  test('the async iterator form delivers pushed messages; break unsubscribes and returns the rest', async () => {
    await client.createQueue('iter');
    await client.sendBatch('iter', ['i0', 'i1', 'i2', 'i3', 'i4', 'i5']);
    const seen: string[] = [];
    for await (const m of client.messages('iter', { prefetch: 4, visibilityTimeoutMs: 60_000 })) {
      seen.push(m.text());
      await m.ack();
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['i0', 'i1', 'i2']);
    // Delivered but not yielded messages were nacked: visible again at once.
    await waitFor('the unyielded messages to be visible again', async () => {
      const s = (await client.getQueue('iter')).stats;
      return s.visible === 3 && s.inFlight === 0;
    });
  });

  test('a consumer of a queue that does not exist stops with QUEUE_NOT_FOUND', async () => {
    const errors: unknown[] = [];
    const consumer = client.consume('nowhere', () => {}, { onError: (e) => errors.push(e) });
    await consumer.closed;
    expect(consumer.error?.code).toBe('QUEUE_NOT_FOUND');
    expect((errors[0] as RaftqError).code).toBe('QUEUE_NOT_FOUND');
  });
});

describe('close', () => {
  test('close() leaves no sockets or timers behind: a script using the client exits by itself', async () => {
    const script = `
      import { connect } from ${JSON.stringify(pathToFileURL(join(process.cwd(), 'dist', 'src', 'index.js')).href)};
      const c = await connect({ nodes: ${JSON.stringify(addresses)} });
      await c.createQueue('handles');
      await c.send('handles', 'h');
      const consumer = c.consume('handles', () => {});
      const stream = c.messages('handles');
      await c.receive('handles', { waitMs: 100 });
      await c.close();
      const late = await c.send('handles', 'late').catch((e) => e.code);
      console.log(JSON.stringify({ late, resources: process.getActiveResourcesInfo() }));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(killer);
    // Killed by the timer = something kept the event loop alive after close().
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as { late: string; resources: string[] };
    expect(report.late).toBe('UNAVAILABLE');
    expect(report.resources.filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap')).toEqual([]);
  });
});
