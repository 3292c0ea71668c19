/**
 * The rolling-upgrade rule of forwarded replies (src/server/reply-encoding.ts), against a real
 * NodeRuntime n1 and fake peers:
 * - as a follower, n1 forwards the client's command bytes unchanged, asks for binary replies
 *   (AppFrame flag), and decodes both a binary reply (a leader of this release) and a JSON one
 *   (a leader of the previous release);
 * - as a leader, n1 answers a request without the flag (a follower of the previous release) in
 *   JSON, status 1, and a request with it in binary, status 2.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCommand, type Command } from '../../src/queue/index.js';
import { decodeForward, encodeForward } from '../../src/server/forward-frame.js';
import { queueReplyBinaryCodec } from '../../src/server/queue-reply-binary.js';
import { queueReplyJsonCodec } from '../../src/server/queue-reply-json.js';
import type { QueueReply } from '../../src/server/queue-reply-types.js';
import { forwardFlagBinaryReply, replyStatus, type ReplyEncoding } from '../../src/server/reply-encoding.js';
import { waitFor } from '../transport/helpers.js';
import { FakePeers } from './fake-peers.js';

let peers: FakePeers | undefined;

afterEach(async () => {
  await peers?.close();
  peers = undefined;
});

const receiveReply: QueueReply = {
  ok: true,
  type: 'receive',
  messages: [
    { id: '9-0', offset: 0, receipt: 'r-9-0', receiveCount: 1, enqueuedAtMs: 1_765_000_000_000, sentAtMs: 1_765_000_000_000, firstReceivedAtMs: 1_765_000_000_050, groupId: 'g1', dedupId: 'd1', attributes: { k: 'v' }, body: new Uint8Array([0, 255, 10, 13]) },
    { id: '9-1', offset: 1, receipt: 'r-9-1', receiveCount: 2, enqueuedAtMs: 1_765_000_000_001, sentAtMs: 1_764_999_999_000, firstReceivedAtMs: 0, groupId: '', dedupId: '', attributes: {}, body: new Uint8Array(0) },
  ],
  deadLettered: 1,
};

describe('forwarded replies: follower side', () => {
  it.each<ReplyEncoding>(['binary', 'json'])('forwards the command bytes unchanged with the binary flag and decodes a %s reply', async (encoding) => {
    const p = (peers = await FakePeers.start());
    const rt = await p.startRuntime();
    const command = encodeCommand({ type: 'receive', queue: 'jobs', max: 10, visibilityTimeoutMs: 30_000 });
    const reply = rt.submit(command, { requestId: 'client-req-1' });
    reply.catch(() => undefined); // a failed assertion below must not leave it unhandled at close
    await waitFor('forward', () => p.n2.forwards.length === 1);
    const fwd = p.n2.forwards[0]!;
    expect(fwd.flags & forwardFlagBinaryReply).toBe(forwardFlagBinaryReply);
    const forwarded = decodeForward(fwd.payload);
    expect(forwarded.requestId).toBe('client-req-1');
    expect(Buffer.from(forwarded.command).equals(command)).toBe(true);
    p.reply(p.n2, fwd.requestId, receiveReply, encoding);
    expect(await reply).toEqual(receiveReply);
  });
});

describe('forwarded replies: leader side', () => {
  /** Sends n1 (the leader) a forwarded `cmd` from n2 with `flags`; returns the reply payload. */
  async function serve(p: FakePeers, requestId: number, cmd: Command, flags: number): Promise<Uint8Array> {
    expect(p.n2.node.t.sendApp('n1', 'submit', requestId, encodeForward(`req-${requestId}`, encodeCommand(cmd)), flags)).toBe(true);
    await waitFor(`reply ${requestId}`, () => p.n2.replies.some((r) => r.requestId === requestId));
    return p.n2.replies.find((r) => r.requestId === requestId)!.payload;
  }

  it('answers a request without the flag (previous release) in JSON, and one with it in binary', async () => {
    const p = (peers = await FakePeers.start());
    await p.startLeaderRuntime();

    const old = await serve(p, 1, { type: 'createQueue', queue: 'jobs' }, 0);
    expect(old[0]).toBe(replyStatus.okJson);
    expect(queueReplyJsonCodec.decode(old.subarray(1))).toEqual({ ok: true, type: 'createQueue', created: true });

    await serve(p, 2, { type: 'enqueue', queue: 'jobs', messages: [{ body: new Uint8Array([1, 2, 3]) }] }, 0);
    const receive = { type: 'receive', queue: 'jobs', max: 10, visibilityTimeoutMs: 30_000 } as const;
    const fresh = await serve(p, 3, receive, forwardFlagBinaryReply);
    expect(fresh[0]).toBe(replyStatus.okBinary);
    const decoded = queueReplyBinaryCodec.decode(fresh.subarray(1));
    expect(decoded.ok && decoded.type === 'receive' && decoded.messages.map((m) => [...m.body])).toEqual([[1, 2, 3]]);

    // Unknown flag bits are ignored: only the binary bit chooses the encoding.
    const other = await serve(p, 4, { type: 'createQueue', queue: 'jobs' }, 2);
    expect(other[0]).toBe(replyStatus.okJson);
  });
});
