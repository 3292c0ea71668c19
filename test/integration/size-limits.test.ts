/**
 * Everything a node accepts can be replicated and answered (issue 15, item 5):
 * - a request too large to fit one peer frame as a log entry is refused TOO_LARGE before it
 *   is proposed, even with --http-body-bytes-max raised past the peer frame limit (before, it
 *   became an entry no follower could receive and nothing after it committed);
 * - a receive through a follower whose reply would not fit a peer frame returns fewer
 *   messages and releases the rest at once (before, the reply was dropped and its messages
 *   stayed leased, never delivered).
 */
import { afterEach, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster, queueState, waitFor } from './cluster-harness.js';

const mib = 1024 * 1024;

describe('size limits derived from the peer frame', { timeout: 120_000 }, () => {
  let cluster: Cluster | undefined;

  afterEach(async () => {
    await cluster?.stopAll();
    cluster = undefined;
  });

  test('an enqueue larger than one replicable entry is TOO_LARGE and the cluster goes on', async () => {
    // Parsing an 18 MiB request can stall a loaded machine past the default election timeout;
    // the test is about the refusal, so elections wait 5 to 10 s (see the test below).
    const c = (cluster = await Cluster.start({ name: 'size-too-large', args: ['--http-body-bytes-max', String(64 * mib), '--request-timeout-ms', '4000', '--election-ticks', '200'] }));
    onTestFailed(() => console.error(c.logTails(30)));
    const leader = await c.waitForLeader();
    await c.ok(leader.id, 'PUT', '/v1/queues/big', { maxMessageBytes: mib });
    const body = 'x'.repeat(mib);
    const messages = Array.from({ length: 18 }, () => ({ body }));
    const refused = await c.http(leader.id, 'POST', '/v1/queues/big/messages', { messages }, 30_000);
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ error: { code: 'TOO_LARGE' } });
    // Through a follower too, and the cluster still commits.
    const follower = c.ids.find((id) => id !== leader.id)!;
    expect((await c.http(follower, 'POST', '/v1/queues/big/messages', { messages }, 30_000)).status).toBe(413);
    await c.ok(leader.id, 'POST', '/v1/queues/big/messages', { body: 'small' });
    await c.waitForConvergence();
    expect((await queueState(c, follower, 'big')).counts.visible).toBe(1);
  });

  test('a receive through a follower whose reply would exceed a peer frame is cut to fit, the rest released', async () => {
    // A 16 MiB reply can starve a loaded machine's event loops for longer than the default 0.5 to
    // 1 s election timeout; an election would then fail the forwarded receive with TIMEOUT (its
    // outcome unknown, as it should). This test is about the cut, so elections wait 5 to 10 s.
    const c = (cluster = await Cluster.start({ name: 'size-reply-cut', args: ['--election-ticks', '200'] }));
    onTestFailed(() => console.error(c.logTails(30)));
    const leader = await c.waitForLeader();
    await c.ok(leader.id, 'PUT', '/v1/queues/q', {});
    // 100 bodies of 200 KB: 20 MB raw, more than a 16 MiB peer frame in the binary reply
    // encoding as in the JSON one (base64: 27 MB), so the reply is cut either way.
    const body = 'y'.repeat(200_000);
    for (let b = 0; b < 4; b++) await c.ok(leader.id, 'POST', '/v1/queues/q/messages', { messages: Array.from({ length: 25 }, () => ({ body })) }, 30_000);
    const follower = c.ids.find((id) => id !== leader.id)!;
    const res = await c.http<{ messages: unknown[] }>(follower, 'POST', '/v1/queues/q/receive', { max: 100, visibilityTimeoutMs: 600_000 }, 60_000);
    expect(res.status).toBe(200);
    const got = res.body.messages.length;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(100);
    // What was not delivered is visible again, not leased to nobody.
    await waitFor('the undelivered messages to be released', async () => {
      const { counts } = await queueState(c, leader.id, 'q');
      return counts.inFlight === got && counts.visible === 100 - got;
    });
  });
});
