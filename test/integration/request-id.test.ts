/**
 * A request id given by the client (x-request-id) is echoed back and carried with a write that
 * a follower forwards, so the follower's and the leader's logs name the same request.
 */
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster } from './cluster-harness.js';

describe('request ids across forwarding', { timeout: 60_000 }, () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ name: 'reqid', logLevel: 'debug' });
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  test('the leader logs the id a client gave the follower', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    await cluster.ok(leader.id, 'PUT', '/v1/queues/traced', {});
    const port = cluster.node(follower).httpPort;
    const res = await fetch(`http://127.0.0.1:${port}/v1/queues/traced/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-abc-123' },
      body: JSON.stringify({ body: 'hello' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    await cluster.waitForLog(follower, 'forwarding request to the leader', { reqId: 'trace-abc-123' });
    await cluster.waitForLog(leader.id, 'serving a forwarded request', { reqId: 'trace-abc-123', from: follower });
    // Without a header the node makes an id and still echoes it.
    const anon = await fetch(`http://127.0.0.1:${port}/health`);
    expect(anon.headers.get('x-request-id')).toMatch(new RegExp(`^${follower}-h\\d+$`));
  });
});
