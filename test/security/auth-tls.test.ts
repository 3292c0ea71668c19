/**
 * `--auth required` with TLS on every listener (what `raftq cluster --secure` runs): tokens over
 * HTTPS and the binary protocol over TLS, through a follower. Runs the compiled CLI: build
 * first (`npm run build`).
 */
import { afterAll, beforeAll, expect, onTestFailed, test } from 'vitest';
import { connect } from '../../src/client/index.js';
import { RaftqError } from '../../src/errors.js';
import { Cluster } from '../integration/cluster-harness.js';

const adminToken = 'tls-admin-token-0123456789abcdef';
let cluster: Cluster;

beforeAll(async () => {
  cluster = await Cluster.start({ name: 'auth-tls', tls: true, adminToken });
}, 60_000);

afterAll(async () => {
  await cluster?.stopAll();
});

test('tokens over https and the binary protocol over TLS, through a follower', async () => {
  onTestFailed(() => console.log(cluster.logTails()));
  const leader = (await cluster.waitForLeader()).id;
  const follower = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
  expect((await cluster.httpAs(undefined, follower, 'GET', '/health')).status).toBe(200);
  expect((await cluster.httpAs(undefined, follower, 'PUT', '/v1/queues/jobs', {})).status).toBe(401);
  expect((await cluster.httpAs(adminToken, follower, 'PUT', '/v1/queues/jobs', {})).status).toBe(200);
  const nodes = [`127.0.0.1:${cluster.node(follower).clientPort}`];
  const anonymous = await connect({ nodes, tls: { ca: cluster.tls!.ca }, retryTimeoutMs: 2000 }).then(
    async (c) => {
      await c.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect((anonymous as RaftqError).code).toBe('UNAUTHENTICATED');
  const c = await connect({ nodes, tls: { ca: cluster.tls!.ca }, token: adminToken });
  try {
    await c.send('jobs', 'over tls with a token');
    const got = await c.receive('jobs', { max: 1, waitMs: 2000 });
    expect(got.map((m) => m.text())).toEqual(['over tls with a token']);
  } finally {
    await c.close();
  }
});
