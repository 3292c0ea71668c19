/**
 * Forwarded requests and ReadIndex reads of a follower, against fake peers (fake-peers.ts):
 * replies are matched to the request that was asked, from the node it was asked of, in this
 * process only; reads and requests end by their deadline; NOT_LEADER answers follow the hint.
 * (Issue 15, items 1 and 7.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/queue/index.js';
import { waitFor } from '../transport/helpers.js';
import { FakePeers, fakeTerm } from './fake-peers.js';

const createQueue = (queue: string): Uint8Array => encodeCommand({ type: 'createQueue', queue });

let peers: FakePeers | undefined;
afterEach(async () => {
  await peers?.close();
  peers = undefined;
});

describe('forwarded requests', () => {
  it('a restarted follower never takes a reply meant for its previous incarnation', async () => {
    peers = await FakePeers.start();
    const p = peers;
    // Incarnation 1 forwards a request; the leader has no quorum and does not answer yet.
    let rt = await p.startRuntime();
    const first = rt.submit(createQueue('old'), { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await waitFor('first forward', () => p.n2.forwards.length === 1);
    const staleId = p.n2.forwards[0]!.requestId;
    await p.stopRuntime();
    await first;
    // Incarnation 2 forwards its own first request.
    rt = await p.startRuntime();
    const second = rt.submit(createQueue('new'), { timeoutMs: 60_000 });
    await waitFor('second forward', () => p.n2.forwards.length === 2);
    const freshId = p.n2.forwards[1]!.requestId;
    // The old entry commits now and the leader answers the old request, then the new one.
    p.reply(p.n2, staleId, { ok: true, type: 'createQueue', created: false });
    p.reply(p.n2, freshId, { ok: true, type: 'createQueue', created: true });
    await expect(second).resolves.toEqual({ ok: true, type: 'createQueue', created: true });
  });

  it('a reply from a node the request was not sent to is ignored', async () => {
    peers = await FakePeers.start();
    const p = peers;
    const rt = await p.startRuntime();
    const res = rt.submit(createQueue('q'), { timeoutMs: 60_000 });
    await waitFor('forward', () => p.n2.forwards.length === 1);
    const id = p.n2.forwards[0]!.requestId;
    // startRuntime waits for n2's link only: a reply sent before n3's link is up would be
    // dropped unseen (seen once under load: the wait below timed out).
    await waitFor('n3 and n1 connected', () => p.n3.node.t.isConnected('n1'));
    const before = rt.transportStats().appFramesReceived;
    p.reply(p.n3, id, { ok: true, type: 'createQueue', created: false });
    await p.appFramesReceived(before + 1);
    p.reply(p.n2, id, { ok: true, type: 'createQueue', created: true });
    await expect(res).resolves.toEqual({ ok: true, type: 'createQueue', created: true });
  });

  it('stop() answers an in-flight forwarded request TIMEOUT (outcome unknown), not UNAVAILABLE', async () => {
    peers = await FakePeers.start();
    const p = peers;
    const rt = await p.startRuntime();
    const res = rt.submit(createQueue('q'), { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await waitFor('forward', () => p.n2.forwards.length === 1);
    await p.stopRuntime();
    expect(await res).toMatchObject({ code: 'TIMEOUT' });
  });

  it('a NOT_LEADER answer is not re-forwarded to the same node at once; the leader hint is used', async () => {
    peers = await FakePeers.start();
    const p = peers;
    const rt = await p.startRuntime();
    const res = rt.submit(createQueue('q'), { timeoutMs: 60_000 });
    await waitFor('forward to n2', () => p.n2.forwards.length === 1);
    p.reply(p.n2, p.n2.forwards[0]!.requestId, { error: { code: 'NOT_LEADER', message: 'n2 is not the leader', leader: { id: 'n3' } } });
    await waitFor('forward to n3 (the hint)', () => p.n3.forwards.length === 1 || p.n2.forwards.length > 1);
    expect(p.n2.forwards.length).toBe(1);
    p.reply(p.n3, p.n3.forwards[0]!.requestId, { ok: true, type: 'createQueue', created: true });
    await expect(res).resolves.toEqual({ ok: true, type: 'createQueue', created: true });
  });
});

describe('linearizable reads', () => {
  it('a read whose index never applies ends with TIMEOUT at its deadline', async () => {
    peers = await FakePeers.start();
    const p = peers;
    const rt = await p.startRuntime();
    const read = rt.linearizableRead(500).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await waitFor('readIndex request', () => p.readIndexRequests(p.n2).length === 1);
    const req = p.readIndexRequests(p.n2)[0]!;
    // The leader answers with an index this follower will never reach (it is cut off next).
    p.send(p.n2, { type: 'readIndexResp', from: 'n2', to: 'n1', term: fakeTerm, context: req.context, index: 1000, reject: false });
    expect(await read).toMatchObject({ code: 'TIMEOUT' });
  });

  it('a restarted follower never takes a read index meant for its previous incarnation', async () => {
    peers = await FakePeers.start();
    const p = peers;
    let rt = await p.startRuntime();
    const first = rt.linearizableRead(60_000).catch((e: unknown) => e);
    await waitFor('first readIndex', () => p.readIndexRequests(p.n2).length === 1);
    const stale = p.readIndexRequests(p.n2)[0]!.context;
    await p.stopRuntime();
    await first;
    rt = await p.startRuntime();
    const second = rt.linearizableRead(3_000).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await waitFor('second readIndex', () => p.readIndexRequests(p.n2).length === 2);
    const fresh = p.readIndexRequests(p.n2)[1]!.context;
    // The stale answer names an index the new incarnation has not applied; the fresh one 0.
    p.send(p.n2, { type: 'readIndexResp', from: 'n2', to: 'n1', term: fakeTerm, context: stale, index: 1000, reject: false });
    p.send(p.n2, { type: 'readIndexResp', from: 'n2', to: 'n1', term: fakeTerm, context: fresh, index: 0, reject: false });
    expect(await second).toBe('resolved');
  });
});
