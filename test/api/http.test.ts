/**
 * The HTTP API v1 (DESIGN.md) against a real three-node cluster: every route, writes through a
 * follower, long-poll wake-up, leadership transfer (forwarded by a follower), and a table of bad
 * inputs, each with its error code and status. The last block takes the quorum away and checks
 * NO_LEADER on both protocols.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Client } from '../../src/client/index.js';
import { RaftqError } from '../../src/errors.js';
import { Cluster } from '../integration/cluster-harness.js';

/** This cluster's HTTP body limit, in bytes. */
const bodyBytesMax = 64 * 1024;

let cluster: Cluster;
let leader: string;
let followers: string[];

interface Res {
  readonly status: number;
  readonly body: Record<string, unknown> & { error?: { code: string; message: string; leader?: { id: string; http?: string } } };
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One HTTP request with a raw body (a string is sent as is, an object as JSON). */
function http(node: string, method: string, path: string, body?: string | object, headers: Record<string, string> = {}): Promise<Res> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: cluster.node(node).httpPort, method, path, agent: false, headers: { ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Res['body'] = {};
          try {
            parsed = JSON.parse(text) as Res['body'];
          } catch {
            // not JSON (metrics)
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function ok(node: string, method: string, path: string, body?: string | object, headers?: Record<string, string>): Promise<Res['body']> {
  const r = await http(node, method, path, body, headers);
  if (r.status !== 200) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.text}`);
  return r.body;
}

beforeAll(async () => {
  cluster = await Cluster.start({
    name: 'http-api',
    logLevel: 'warn',
    args: ['--http-body-bytes-max', String(bodyBytesMax), '--leader-wait-ms', '1000', '--request-timeout-ms', '3000'],
  });
  leader = (await cluster.waitForLeader()).id;
  followers = cluster.ids.filter((id) => id !== leader);
  await ok(leader, 'PUT', '/v1/queues/q', {});
  await ok(leader, 'PUT', '/v1/queues/tiny', { maxMessageBytes: 8 });
});

afterAll(async () => {
  await cluster?.stopAll();
});

describe('every route', () => {
  test('GET /health, /ready, /metrics, /v1/cluster', async () => {
    expect(await ok(followers[0]!, 'GET', '/health')).toEqual({ status: 'ok' });
    expect(await ok(followers[0]!, 'GET', '/ready')).toMatchObject({ status: 'ready', leader });
    const metrics = await http(leader, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('raftq_term');
    expect(metrics.text).toContain('raftq_client_connections');
    const st = await ok(followers[0]!, 'GET', '/v1/cluster');
    expect(st).toMatchObject({ id: followers[0], role: 'follower', leader });
    expect((st['nodes'] as unknown[]).length).toBe(3);
  });

  test('queue lifecycle through a follower: PUT, GET, list, messages, receive, ack, nack, visibility, purge, DELETE', async () => {
    const f = followers[0]!;
    const created = await http(f, 'PUT', '/v1/queues/life', { visibilityTimeoutMs: 60_000 });
    expect(created.status).toBe(200);
    expect(created.headers['raftq-leader']).toContain(leader);
    expect(created.body).toMatchObject({ queue: { name: 'life', attributes: { visibilityTimeoutMs: 60_000 } } });
    // Same attributes again: idempotent.
    expect((await http(f, 'PUT', '/v1/queues/life', { visibilityTimeoutMs: 60_000 })).status).toBe(200);
    expect(((await ok(f, 'GET', '/v1/queues'))['queues'] as Array<{ name: string }>).map((q) => q.name)).toContain('life');

    const one = await ok(f, 'POST', '/v1/queues/life/messages', { body: 'hello' });
    expect(one).toMatchObject({ id: expect.any(String), offset: 0 });
    const batch = await ok(f, 'POST', '/v1/queues/life/messages', { messages: [{ body: 'two', attributes: { k: 'v' } }, { bodyBase64: Buffer.from([0xff, 0x00]).toString('base64') }] });
    expect((batch['messages'] as unknown[]).length).toBe(2);
    const keyed1 = await ok(f, 'POST', '/v1/queues/life/messages', { body: 'once' }, { 'idempotency-key': 'k-1' });
    const keyed2 = await ok(f, 'POST', '/v1/queues/life/messages', { body: 'once' }, { 'idempotency-key': 'k-1' });
    expect(keyed2).toMatchObject({ id: keyed1['id'], duplicate: true });
    expect(await ok(leader, 'GET', '/v1/queues/life')).toMatchObject({ name: 'life', stats: { visible: 4, inFlight: 0, delayed: 0 } });

    const got = (await ok(f, 'POST', '/v1/queues/life/receive', { max: 10 }))['messages'] as Array<{ body?: string; bodyBase64?: string; receipt: string; attributes: Record<string, string>; receiveCount: number }>;
    expect(got.map((m) => m.body ?? `b64:${m.bodyBase64}`)).toEqual(['hello', 'two', `b64:${Buffer.from([0xff, 0x00]).toString('base64')}`, 'once']);
    expect(got[1]!.attributes).toEqual({ k: 'v' });
    expect(got.every((m) => m.receiveCount === 1)).toBe(true);
    expect(await ok(f, 'POST', '/v1/queues/life/ack', { receipt: got[0]!.receipt })).toEqual({});
    expect(await ok(f, 'POST', '/v1/queues/life/ack', { receipts: [got[1]!.receipt, got[0]!.receipt] })).toEqual({ outcomes: ['deleted', 'gone'] });
    expect(await ok(f, 'POST', '/v1/queues/life/nack', { receipt: got[2]!.receipt, delayMs: 0 })).toEqual({ outcome: 'changed' });
    expect(await ok(f, 'POST', '/v1/queues/life/visibility', { receipt: got[3]!.receipt, visibilityTimeoutMs: 120_000 })).toEqual({ outcome: 'changed' });
    expect(await ok(leader, 'GET', '/v1/queues/life')).toMatchObject({ stats: { visible: 1, inFlight: 1 } });
    expect(await ok(f, 'POST', '/v1/queues/life/purge')).toEqual({ purgedMessages: 2 });
    await ok(f, 'POST', '/v1/queues/life/messages', { body: 'left' });
    expect(await ok(f, 'DELETE', '/v1/queues/life')).toEqual({ deletedMessages: 1 });
    expect((await http(leader, 'GET', '/v1/queues/life')).status).toBe(404);
  });

  test('POST /v1/queues/{dlq}/redrive moves dead-lettered messages back', async () => {
    await ok(leader, 'PUT', '/v1/queues/dead', {});
    await ok(leader, 'PUT', '/v1/queues/src', { maxReceiveCount: 1, deadLetterQueue: 'dead' });
    await ok(leader, 'POST', '/v1/queues/src/messages', { body: 'poison' });
    const first = (await ok(leader, 'POST', '/v1/queues/src/receive', { visibilityTimeoutMs: 0 }))['messages'] as unknown[];
    expect(first.length).toBe(1);
    // The second receive finds it past maxReceiveCount: it moves to the dead-letter queue.
    expect((await ok(leader, 'POST', '/v1/queues/src/receive', {}))['messages']).toEqual([]);
    expect(await ok(leader, 'GET', '/v1/queues/dead')).toMatchObject({ stats: { visible: 1 } });
    const redriven = await ok(followers[1]!, 'POST', '/v1/queues/dead/redrive');
    expect(redriven).toEqual({ moved: 1, taskIndex: expect.any(Number) });
    expect(await ok(leader, 'GET', '/v1/queues/src')).toMatchObject({ stats: { visible: 1 } });
    expect(await ok(leader, 'GET', '/v1/queues/dead')).toMatchObject({ lastRedrive: { taskIndex: redriven['taskIndex'], moved: 1, destination: '' } });
  });

  test('queue attributes and tags, redrive to a destination, message metadata', async () => {
    const f = followers[0]!;
    const attrs = { contentBasedDeduplication: true, receiveWaitTimeMs: 20_000, redriveAllowPolicy: '{"redrivePermission":"allowAll"}' };
    const created = await ok(f, 'PUT', '/v1/queues/tagged.fifo', { ...attrs, tags: { team: 'core' } });
    expect(created).toMatchObject({ queue: { name: 'tagged.fifo', attributes: attrs, tags: { team: 'core' } } });
    expect((await http(f, 'PUT', '/v1/queues/plain', { contentBasedDeduplication: true })).status).toBe(400);
    expect((await http(f, 'PUT', '/v1/queues/plain', { receiveWaitTimeMs: 'x' })).status).toBe(400);
    expect(await ok(f, 'POST', '/v1/queues/tagged.fifo/tags', { tags: { env: 'dev', team: 'edge' } })).toEqual({});
    expect(await ok(f, 'POST', '/v1/queues/tagged.fifo/untag', { keys: ['env'] })).toEqual({});
    expect(await ok(leader, 'GET', '/v1/queues/tagged.fifo')).toMatchObject({ tags: { team: 'edge' } });
    expect((await ok(leader, 'GET', '/v1/queues/tagged.fifo'))['tags']).toEqual({ team: 'edge' });
    expect((await http(f, 'POST', '/v1/queues/nope/tags', { tags: {} })).status).toBe(404);

    await ok(leader, 'PUT', '/v1/queues/parked.fifo', {});
    await ok(f, 'POST', '/v1/queues/parked.fifo/messages', { body: 'p', groupId: 'g', dedupId: 'dd' });
    expect(await ok(f, 'POST', '/v1/queues/parked.fifo/redrive', { destination: 'tagged.fifo' })).toMatchObject({ moved: 1 });
    expect((await http(f, 'POST', '/v1/queues/parked.fifo/redrive', { destination: 'q' })).status).toBe(400);
    const [m] = (await ok(f, 'POST', '/v1/queues/tagged.fifo/receive', {}))['messages'] as Array<Record<string, unknown>>;
    expect(m).toMatchObject({ body: 'p', groupId: 'g', dedupId: 'dd', sentAt: expect.any(Number), firstReceivedAt: expect.any(Number) });
    expect(await ok(leader, 'GET', '/v1/queues/parked.fifo')).toMatchObject({ lastRedrive: { moved: 1, destination: 'tagged.fifo' } });
  });

  test('a long-poll receive wakes up when a message is enqueued', async () => {
    await ok(leader, 'PUT', '/v1/queues/poll', {});
    const waiting = ok(followers[0]!, 'POST', '/v1/queues/poll/receive', { waitMs: 15_000 });
    await new Promise((r) => setTimeout(r, 200));
    await ok(followers[1]!, 'POST', '/v1/queues/poll/messages', { body: 'wake up' });
    const got = (await waiting)['messages'] as Array<{ body: string }>;
    expect(got.map((m) => m.body)).toEqual(['wake up']);
  });
});

describe('bad input: code and status', () => {
  const big = JSON.stringify({ body: 'x'.repeat(bodyBytesMax + 10) });
  const table: Array<{ name: string; method: string; path: string; body?: string | object; headers?: Record<string, string>; status: number; code: string }> = [
    { name: 'invalid JSON', method: 'POST', path: '/v1/queues/q/messages', body: '{"body":', status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'JSON that is not an object', method: 'POST', path: '/v1/queues/q/messages', body: '42', status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'a JSON array', method: 'POST', path: '/v1/queues/q/receive', body: '[]', status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'body of the wrong type', method: 'POST', path: '/v1/queues/q/messages', body: { body: 5 }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'an unknown field (a typo)', method: 'POST', path: '/v1/queues/q/messages', body: { bdy: 'x' }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'body and bodyBase64 both', method: 'POST', path: '/v1/queues/q/messages', body: { body: 'a', bodyBase64: 'YQ==' }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'bad base64', method: 'POST', path: '/v1/queues/q/messages', body: { bodyBase64: '!!!!' }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'base64 with bad padding', method: 'POST', path: '/v1/queues/q/messages', body: { bodyBase64: 'abc' }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'messages that is not an array', method: 'POST', path: '/v1/queues/q/messages', body: { messages: 'x' }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'more than 100 messages', method: 'POST', path: '/v1/queues/q/messages', body: { messages: Array.from({ length: 101 }, () => ({ body: 'm' })) }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'receive max as a string', method: 'POST', path: '/v1/queues/q/receive', body: { max: '5' }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'receive max 0', method: 'POST', path: '/v1/queues/q/receive', body: { max: 0 }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'receive waitMs above 20 s', method: 'POST', path: '/v1/queues/q/receive', body: { waitMs: 30_000 }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'an attribute of the wrong type', method: 'PUT', path: '/v1/queues/attr1', body: { visibilityTimeoutMs: 'x' }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'an attribute out of range', method: 'PUT', path: '/v1/queues/attr2', body: { visibilityTimeoutMs: -5 }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'an unknown attribute', method: 'PUT', path: '/v1/queues/attr3', body: { colour: 'red' }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'a bad queue name', method: 'PUT', path: '/v1/queues/bad%20name', body: {}, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'an ack receipt of the wrong type', method: 'POST', path: '/v1/queues/q/ack', body: { receipt: 5 }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'a nack without a receipt', method: 'POST', path: '/v1/queues/q/nack', body: {}, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'a method a route does not have', method: 'PATCH', path: '/v1/queues/q', body: {}, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'transfer-leader without "to"', method: 'POST', path: '/v1/cluster/transfer-leader', body: {}, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'transfer-leader to an unknown node', method: 'POST', path: '/v1/cluster/transfer-leader', body: { to: 'n9' }, status: 400, code: 'INVALID_ARGUMENT' },
    { name: 'an oversized body', method: 'POST', path: '/v1/queues/q/messages', body: big, status: 413, code: 'TOO_LARGE' },
    { name: "a message above the queue's maxMessageBytes", method: 'POST', path: '/v1/queues/tiny/messages', body: { body: '123456789' }, status: 413, code: 'TOO_LARGE' },
    { name: 'an unknown route', method: 'GET', path: '/v1/nope', status: 404, code: 'NOT_FOUND' },
    { name: 'the root path', method: 'GET', path: '/', status: 404, code: 'NOT_FOUND' },
    { name: 'an unknown queue (GET)', method: 'GET', path: '/v1/queues/missing', status: 404, code: 'QUEUE_NOT_FOUND' },
    { name: 'an unknown queue (enqueue)', method: 'POST', path: '/v1/queues/missing/messages', body: { body: 'x' }, status: 404, code: 'QUEUE_NOT_FOUND' },
    { name: 'an unknown queue (receive)', method: 'POST', path: '/v1/queues/missing/receive', body: {}, status: 404, code: 'QUEUE_NOT_FOUND' },
    { name: 'an unknown queue (DELETE)', method: 'DELETE', path: '/v1/queues/missing', status: 404, code: 'QUEUE_NOT_FOUND' },
    { name: 'an existing queue with other attributes', method: 'PUT', path: '/v1/queues/tiny', body: { maxMessageBytes: 9 }, status: 409, code: 'QUEUE_EXISTS' },
  ];
  test.each(table)('$name -> $status $code', async ({ method, path, body, headers, status, code }) => {
    for (const node of [leader, followers[0]!]) {
      const r = await http(node, method, path, body, headers);
      expect([r.status, r.body.error?.code]).toEqual([status, code]);
      expect(typeof r.body.error?.message).toBe('string');
    }
  });

  test('a superseded receipt -> 409 STALE_RECEIPT, and the message stays', async () => {
    await ok(leader, 'PUT', '/v1/queues/stale', {});
    await ok(leader, 'POST', '/v1/queues/stale/messages', { body: 's' });
    const [first] = (await ok(leader, 'POST', '/v1/queues/stale/receive', { visibilityTimeoutMs: 0 }))['messages'] as Array<{ receipt: string }>;
    const [second] = (await ok(leader, 'POST', '/v1/queues/stale/receive', {}))['messages'] as Array<{ receipt: string; receiveCount: number }>;
    expect(second!.receiveCount).toBe(2);
    const r = await http(followers[0]!, 'POST', '/v1/queues/stale/ack', { receipt: first!.receipt });
    expect([r.status, r.body.error?.code]).toEqual([409, 'STALE_RECEIPT']);
    expect(await ok(leader, 'GET', '/v1/queues/stale')).toMatchObject({ stats: { inFlight: 1 } });
  });

  test('transfer-leader reaching a follower as a forwarded request -> 421 NOT_LEADER naming the leader', async () => {
    const cur = (await cluster.waitForLeader()).id;
    const f = cluster.ids.find((id) => id !== cur)!;
    const other = cluster.ids.find((id) => id !== cur && id !== f)!;
    const r = await http(f, 'POST', '/v1/cluster/transfer-leader', { to: other }, { 'raftq-forwarded': 'test' });
    expect([r.status, r.body.error?.code]).toEqual([421, 'NOT_LEADER']);
    expect(r.body.error?.leader).toMatchObject({ id: cur, http: `127.0.0.1:${cluster.node(cur).httpPort}` });
  });
});

describe('leadership transfer', () => {
  test('POST /v1/cluster/transfer-leader through a follower hands leadership over', async () => {
    const cur = (await cluster.waitForLeader()).id;
    const [a, b] = cluster.ids.filter((id) => id !== cur) as [string, string];
    // Sent to follower a, which forwards it to the leader; leadership goes to follower b.
    expect(await ok(a, 'POST', '/v1/cluster/transfer-leader', { to: b })).toEqual({ leader: b });
    expect((await cluster.waitForLeader()).id).toBe(b);
    // Transferring to the current leader is a no-op.
    expect(await ok(a, 'POST', '/v1/cluster/transfer-leader', { to: b })).toEqual({ leader: b });
    leader = b;
    followers = cluster.ids.filter((id) => id !== b);
  });
});

describe('without a quorum', () => {
  test('requests fail with NO_LEADER (HTTP 503 and the binary client), never hang', async () => {
    const cur = (await cluster.waitForLeader()).id;
    const survivor = cluster.ids.find((id) => id !== cur)!;
    for (const id of cluster.ids) if (id !== survivor) await cluster.kill(id, 'SIGKILL');
    // The survivor notices the leader's connection is gone and forgets it.
    await expect.poll(async () => (await cluster.status(survivor)).leader, { timeout: 10_000 }).toBeNull();
    const put = await http(survivor, 'PUT', '/v1/queues/none', {});
    expect([put.status, put.body.error?.code]).toEqual([503, 'NO_LEADER']);
    const ready = await http(survivor, 'GET', '/ready');
    expect([ready.status, ready.body.error?.code]).toEqual([503, 'UNAVAILABLE']);
    const client = new Client({ nodes: [`127.0.0.1:${cluster.node(survivor).clientPort}`], retryTimeoutMs: 1500 });
    try {
      const err = await client.createQueue('none').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RaftqError);
      expect((err as RaftqError).code).toBe('NO_LEADER');
    } finally {
      await client.close();
    }
  });
});
