/**
 * Authentication and authorization on a real three-node cluster with `--auth required` and a
 * bootstrap admin token (`--admin-token-file`). Every refusal path goes through a follower as
 * well as the leader: the follower authenticates and authorizes before it forwards. Checks
 * no token / unknown / revoked / expired token -> 401 UNAUTHENTICATED, a token without the
 * permission -> 403 FORBIDDEN naming principal, action and resource, allowed -> 200, listing
 * shows only the queues the principal may see, audit lines, /health open, /metrics closed
 * unless --metrics-open. Runs the compiled CLI: build first (`npm run build`).
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { connect } from '../../src/client/index.js';
import { RaftqError } from '../../src/errors.js';
import { RawConnection } from '../api/raw-client.js';
import { Cluster, cliMain, waitFor, type HttpResult } from '../integration/cluster-harness.js';

/** Runs the compiled CLI with `env` (no other RAFTQ_* variables); resolves with its exit code and output. */
function raftq(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RAFTQ_')) base[k] = v;
  return new Promise((resolve) => {
    execFile(process.execPath, [cliMain, ...args], { env: { ...base, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const adminToken = 'test-admin-token-0123456789abcdef';

/** The secret part of `rq_<id>_<secret>` (the secret may hold '_' itself). */
function secretOf(token: string): string {
  return token.slice(token.indexOf('_', 3) + 1);
}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

let cluster: Cluster;
let leader: string;
let follower: string;

beforeAll(async () => {
  cluster = await Cluster.start({ name: 'auth', adminToken });
  leader = (await cluster.waitForLeader()).id;
  follower = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
}, 60_000);

afterAll(async () => {
  await cluster?.stopAll();
});

function code(r: HttpResult): string | undefined {
  return (r.body as ErrorBody).error?.code;
}

/** Creates a token for `user` through node `via`; waits until every node authenticates it. */
async function tokenFor(user: string, via: string, expiresInMs?: number): Promise<{ token: string; id: string }> {
  const t = await cluster.ok<{ token: string; id: string }>(via, 'POST', `/v1/users/${user}/tokens`, expiresInMs === undefined ? {} : { expiresInMs });
  if (expiresInMs === undefined) {
    for (const id of ['n1', 'n2', 'n3']) await waitFor(`${id} to know token ${t.id}`, async () => (await cluster.httpAs(t.token, id, 'GET', '/v1/queues')).status === 200);
  }
  return t;
}

describe('auth required', () => {
  test('/health and /ready stay open; everything else needs a token', async () => {
    onTestFailed(() => console.log(cluster.logTails()));
    for (const id of [leader, follower]) {
      expect((await cluster.httpAs(undefined, id, 'GET', '/health')).status).toBe(200);
      expect((await cluster.httpAs(undefined, id, 'GET', '/ready')).status).not.toBe(401);
      const none = await cluster.httpAs(undefined, id, 'GET', '/v1/queues');
      expect([none.status, code(none)]).toEqual([401, 'UNAUTHENTICATED']);
      const unknown = await cluster.httpAs('rq_abcd1234_AAAAAAAAAAAAAAAAAAAAAAAA', id, 'GET', '/v1/queues');
      expect([unknown.status, code(unknown)]).toEqual([401, 'UNAUTHENTICATED']);
      const garbage = await cluster.httpAs('not-a-token', id, 'PUT', '/v1/queues/q1');
      expect([garbage.status, code(garbage)]).toEqual([401, 'UNAUTHENTICATED']);
      const plain = await fetch(`http://127.0.0.1:${cluster.node(id).httpPort}/v1/queues`);
      expect([plain.status, plain.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="raftq"']);
      expect((await cluster.httpAs(undefined, id, 'GET', '/metrics')).status).toBe(401);
      expect((await cluster.httpAs(adminToken, id, 'GET', '/metrics')).status).toBe(200);
      expect((await cluster.httpAs(undefined, id, 'GET', '/v1/users')).status).toBe(401);
      expect((await cluster.httpAs(undefined, id, 'POST', '/v1/cluster/members', { action: 'remove', id: 'n9' })).status).toBe(401);
    }
  });

  test('a user with permissions: allowed 200, without the permission 403, listing filtered, audit lines', async () => {
    onTestFailed(() => console.log(cluster.logTails()));
    for (const q of ['orders-1', 'payroll']) await cluster.ok(follower, 'PUT', `/v1/queues/${q}`, {});
    const put = await cluster.ok<{ created: boolean }>(follower, 'PUT', '/v1/users/alice', { permissions: [{ resource: 'queue:orders-*', actions: ['send', 'receive'] }] });
    expect(put.created).toBe(true);
    const { token } = await tokenFor('alice', follower);
    for (const id of [follower, leader]) {
      expect((await cluster.httpAs(token, id, 'POST', '/v1/queues/orders-1/messages', { body: 'hi' })).status).toBe(200);
      const denied = await cluster.httpAs(token, id, 'POST', '/v1/queues/payroll/messages', { body: 'hi' });
      expect([denied.status, code(denied)]).toEqual([403, 'FORBIDDEN']);
      expect((denied.body as ErrorBody).error?.message).toBe('principal alice may not send on queue:payroll');
      const recv = await cluster.httpAs<{ messages: unknown[] }>(token, id, 'POST', '/v1/queues/orders-1/receive', { max: 1 });
      expect(recv.status).toBe(200);
      expect(code(await cluster.httpAs(token, id, 'POST', '/v1/queues/payroll/receive', { max: 1 }))).toBe('FORBIDDEN');
      expect(code(await cluster.httpAs(token, id, 'DELETE', '/v1/queues/orders-1'))).toBe('FORBIDDEN');
      expect(code(await cluster.httpAs(token, id, 'PUT', '/v1/queues/orders-2', {}))).toBe('FORBIDDEN');
      expect(code(await cluster.httpAs(token, id, 'GET', '/v1/queues/payroll'))).toBe('FORBIDDEN');
      expect(code(await cluster.httpAs(token, id, 'GET', '/v1/users'))).toBe('FORBIDDEN');
      expect(code(await cluster.httpAs(token, id, 'POST', '/v1/users/alice/tokens', {}))).toBe('FORBIDDEN');
      expect(code(await cluster.httpAs(token, id, 'POST', '/v1/cluster/members', { action: 'remove', id: 'n9' }))).toBe('FORBIDDEN');
      expect(code(await cluster.httpAs(token, id, 'POST', '/v1/cluster/transfer-leader', { to: 'n1' }))).toBe('FORBIDDEN');
      expect(code(await cluster.httpAs(token, id, 'GET', '/v1/backup'))).toBe('FORBIDDEN');
      const list = await cluster.httpAs<{ queues: Array<{ name: string }> }>(token, id, 'GET', '/v1/queues');
      expect(list.body.queues.map((q) => q.name)).toEqual(['orders-1']);
    }
    // The admin token sees everything.
    const all = await cluster.ok<{ queues: Array<{ name: string }> }>(follower, 'GET', '/v1/queues');
    expect(all.queues.map((q) => q.name)).toEqual(['orders-1', 'payroll']);
    // Users list: no secrets, no hashes.
    const users = await cluster.ok<{ users: Array<Record<string, unknown>> }>(leader, 'GET', '/v1/users');
    expect(JSON.stringify(users)).not.toContain(secretOf(token));
    expect(JSON.stringify(users)).not.toContain('hash');
    expect(users.users.map((u) => u.name)).toEqual(['alice']);
    // Audit lines where the request was served.
    expect(cluster.findLogs(follower, 'audit', { audit: true, principal: 'admin-token', action: 'putUser', outcome: 'ok' }).length).toBe(1);
    expect(cluster.findLogs(follower, 'audit', { audit: true, principal: 'admin-token', action: 'createToken', outcome: 'ok' }).length).toBe(1);
    expect(cluster.findLogs(follower, 'audit', { audit: true, principal: 'alice', action: 'deleteQueue', resource: 'queue:orders-1', outcome: 'FORBIDDEN' }).length).toBe(1);
    expect(cluster.findLogs(follower, 'audit', { audit: true, principal: 'alice', action: 'changeMembers', outcome: 'FORBIDDEN' }).length).toBe(1);
    expect(cluster.findLogs(follower, 'audit', { audit: true, principal: 'admin-token', action: 'createQueue', resource: 'queue:payroll', outcome: 'ok' }).length).toBe(1);
  });

  test('a revoked token and an expired token are 401; a deleted user is 401', async () => {
    onTestFailed(() => console.log(cluster.logTails()));
    await cluster.ok(leader, 'PUT', '/v1/users/bob', { permissions: [{ resource: 'queue:*', actions: ['send'] }] });
    const { token, id } = await tokenFor('bob', leader);
    expect((await cluster.httpAs(token, follower, 'POST', '/v1/queues/payroll/messages', { body: 'x' })).status).toBe(200);
    await cluster.ok(follower, 'DELETE', `/v1/users/bob/tokens/${id}`);
    for (const node of [leader, follower]) {
      const r = await waitFor(`${node} to refuse the revoked token`, async () => {
        const res = await cluster.httpAs(token, node, 'POST', '/v1/queues/payroll/messages', { body: 'x' });
        return res.status === 401 ? res : undefined;
      });
      expect(code(r)).toBe('UNAUTHENTICATED');
      expect((r.body as ErrorBody).error?.message).toContain('revoked');
    }
    const short = await tokenFor('bob', follower, 1500);
    const expired = await waitFor('the short token to expire', async () => {
      const res = await cluster.httpAs(short.token, follower, 'POST', '/v1/queues/payroll/messages', { body: 'x' });
      return res.status === 401 ? res : undefined;
    });
    expect((expired.body as ErrorBody).error?.message).toContain('expired');
    const kept = await tokenFor('bob', leader);
    await cluster.ok(follower, 'DELETE', '/v1/users/bob');
    const gone = await waitFor('the deleted user to be refused', async () => {
      const res = await cluster.httpAs(kept.token, follower, 'GET', '/v1/queues');
      return res.status === 401 ? res : undefined;
    });
    expect(code(gone)).toBe('UNAUTHENTICATED');
    expect(code(await cluster.http(leader, 'DELETE', '/v1/users/bob'))).toBe('NOT_FOUND');
  });

  test('binary protocol: a request before an authenticated Hello, or a Hello with a bad token, is UNAUTHENTICATED; a token acts as its user', async () => {
    onTestFailed(() => console.log(cluster.logTails()));
    const port = cluster.node(follower).clientPort;
    const raw = await RawConnection.open(port);
    try {
      raw.request(1, { listQueues: {} });
      const before = await raw.next();
      expect(before.type === 'error' ? before.value.code : before.type).toBe('UNAUTHENTICATED');
      raw.request(2, { hello: { client: 'raw', token: 'rq_abcd1234_AAAAAAAAAAAAAAAAAAAAAAAA' } });
      const bad = await raw.next();
      expect(bad.type === 'error' ? bad.value.code : bad.type).toBe('UNAUTHENTICATED');
      raw.request(3, { listQueues: {} });
      const still = await raw.next();
      expect(still.type === 'error' ? still.value.code : still.type).toBe('UNAUTHENTICATED');
      raw.request(4, { hello: { client: 'raw', token: adminToken } });
      expect((await raw.next()).type).toBe('hello');
      raw.request(5, { listQueues: {} });
      expect((await raw.next()).type).toBe('listQueues');
    } finally {
      raw.close();
    }
    // The client library without a token, and with an unknown one: UNAUTHENTICATED, not retried forever.
    for (const token of [undefined, 'rq_abcd1234_AAAAAAAAAAAAAAAAAAAAAAAA']) {
      const err = await connect({ nodes: [`127.0.0.1:${port}`], retryTimeoutMs: 2000, ...(token !== undefined ? { token } : {}) }).then(
        async (c) => {
          await c.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RaftqError);
      expect((err as RaftqError).code).toBe('UNAUTHENTICATED');
    }
    // A user token: allowed 200-equivalent, refused FORBIDDEN, through a follower.
    await cluster.ok(leader, 'PUT', '/v1/users/carol', { permissions: [{ resource: 'queue:orders-*', actions: ['send', 'consume'] }] });
    const { token, id: carolTokenId } = await tokenFor('carol', leader);
    const c = await connect({ nodes: [`127.0.0.1:${port}`], token });
    try {
      await c.send('orders-1', 'from carol');
      const denied = await c.send('payroll', 'x').then(() => undefined, (e: unknown) => e);
      expect((denied as RaftqError).code).toBe('FORBIDDEN');
      expect((denied as RaftqError).message).toBe('principal carol may not send on queue:payroll');
      const recv = await c.receive('orders-1', { max: 1 }).then(() => undefined, (e: unknown) => e);
      expect((recv as RaftqError).code).toBe('FORBIDDEN');
      // consume: a subscription delivers.
      // consume: a subscription delivers, and its acks (consume without receive) delete.
      await cluster.ok(leader, 'PUT', '/v1/queues/orders-sub', {});
      await c.send('orders-sub', 'to consume');
      let consumer: ReturnType<typeof c.consume> | undefined;
      const got = await new Promise<string>((resolve, reject) => {
        consumer = c.consume('orders-sub', async (m) => {
          resolve(m.text());
        });
        setTimeout(() => reject(new Error('no delivery within 10 s')), 10_000).unref();
      });
      expect(got).toBe('to consume');
      await waitFor('the consumer\'s ack to delete the message', async () => {
        const q = await cluster.ok<{ stats: { visible: number; inFlight: number } }>(leader, 'GET', '/v1/queues/orders-sub');
        return q.stats.visible === 0 && q.stats.inFlight === 0;
      });
      await consumer?.close();
      // A subscription where the user may not consume: FORBIDDEN.
      const rawSub = await RawConnection.open(port);
      try {
        rawSub.request(1, { hello: { client: 'raw', token } });
        expect((await rawSub.next()).type).toBe('hello');
        rawSub.request(2, { subscribe: { queue: 'payroll', credit: 10 } });
        const refused = await rawSub.next();
        expect(refused.type === 'error' ? refused.value.code : refused.type).toBe('FORBIDDEN');
      } finally {
        rawSub.close();
      }
      expect(await c.listQueues().then((qs) => qs.map((q) => q.name))).toEqual(['orders-1', 'orders-sub']);
      // Permission changes apply to the open connection; a revoked token stops it.
      await cluster.ok(leader, 'PUT', '/v1/users/carol', { permissions: [{ resource: 'queue:*', actions: ['send'] }] });
      await waitFor('the connection to see the new permissions', () => c.send('payroll', 'now allowed').then(() => true, () => false));
      await cluster.ok(leader, 'DELETE', `/v1/users/carol/tokens/${carolTokenId}`);
      const revoked = await waitFor('the connection to be refused', () => c.send('orders-1', 'x').then(() => undefined, (e: unknown) => e as RaftqError));
      expect(revoked.code).toBe('UNAUTHENTICATED');
    } finally {
      await c.close();
    }
  });

  test('CLI: raftq user put/list/delete, raftq token create/revoke, client commands with --token / RAFTQ_TOKEN', async () => {
    onTestFailed(() => console.log(cluster.logTails()));
    const http = ['--node', `127.0.0.1:${cluster.node(follower).httpPort}`];
    const nodes = ['--nodes', `127.0.0.1:${cluster.node(follower).clientPort}`, '--timeout', '2000'];
    const put = await raftq(['user', 'put', 'dave', '--allow', 'queue:orders-*=send,receive', '--allow', 'topic:x.*=consume', ...http, '--token', adminToken]);
    expect([put.code, put.stdout.trim()]).toEqual([0, 'created user dave (2 permissions)']);
    const created = await raftq(['token', 'create', 'dave', ...http], { RAFTQ_TOKEN: adminToken });
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^rq_[a-z0-9]+_[A-Za-z0-9_-]+$/);
    const list = await raftq(['user', 'list', '--json', ...http, '--token', adminToken]);
    const dave = (JSON.parse(list.stdout) as Array<{ name: string; permissions: unknown; tokens: Array<{ id: string }> }>).find((u) => u.name === 'dave')!;
    expect(dave.permissions).toEqual([{ resource: 'queue:orders-*', actions: ['send', 'receive'] }, { resource: 'topic:x.*', actions: ['consume'] }]);
    expect(list.stdout).not.toContain(secretOf(token));
    await waitFor('dave\'s token on the follower', async () => (await cluster.httpAs(token, follower, 'GET', '/v1/queues')).status === 200);
    expect((await raftq(['send', 'orders-1', 'from the cli', ...nodes, '--token', token])).code).toBe(0);
    const denied = await raftq(['send', 'payroll', 'x', ...nodes], { RAFTQ_TOKEN: token });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('FORBIDDEN');
    const anonymous = await raftq(['queues', ...nodes]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('UNAUTHENTICATED');
    const noAdmin = await raftq(['user', 'list', ...http, '--token', token]);
    expect(noAdmin.code).toBe(1);
    expect(noAdmin.stderr).toContain('FORBIDDEN');
    expect((await raftq(['token', 'revoke', 'dave', dave.tokens[0]!.id, ...http, '--token', adminToken])).code).toBe(0);
    await waitFor('the revoked token to be refused', async () => (await raftq(['queues', ...nodes, '--token', token])).stderr.includes('UNAUTHENTICATED'));
    expect((await raftq(['user', 'delete', 'dave', ...http, '--token', adminToken])).code).toBe(0);
  });

  test('invalid user requests are 400', async () => {
    expect(code(await cluster.http(follower, 'PUT', '/v1/users/bad%20name', { permissions: [] }))).toBe('INVALID_ARGUMENT');
    expect(code(await cluster.http(follower, 'PUT', '/v1/users/x', { permissions: [{ resource: 'queues:*', actions: ['send'] }] }))).toBe('INVALID_ARGUMENT');
    expect(code(await cluster.http(follower, 'PUT', '/v1/users/x', { permissions: [{ resource: 'queue:*', actions: ['fly'] }] }))).toBe('INVALID_ARGUMENT');
  });

  test('--metrics-open serves /metrics without a token', async () => {
    await cluster.kill(follower, 'SIGTERM');
    await cluster.restart(follower, ['--metrics-open']);
    await waitFor(`${follower} to serve`, async () => (await cluster.httpAs(undefined, follower, 'GET', '/health').catch(() => ({ status: 0 }))).status === 200);
    expect((await cluster.httpAs(undefined, follower, 'GET', '/metrics')).status).toBe(200);
    expect((await cluster.httpAs(undefined, follower, 'GET', '/v1/queues')).status).toBe(401);
    // Users survive the restart (replicated state, reloaded).
    const users = await cluster.ok<{ users: Array<{ name: string }> }>(follower, 'GET', '/v1/users');
    expect(users.users.map((u) => u.name)).toEqual(['alice', 'carol']);
  });
});
