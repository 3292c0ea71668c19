/**
 * The binary reply codec (src/server/queue-reply-binary.ts): every reply type the queue app
 * produces round-trips, the size bound holds, cut-to-fit stays within its limit, and damaged
 * bytes are a typed error, never a wrong reply.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftqError, errorCodes } from '../../src/errors.js';
import type { ReceivedMessage } from '../../src/queue/index.js';
import { binaryMessagesWithin, queueReplyBinaryCodec, replyBytesBound } from '../../src/server/queue-reply-binary.js';
import type { QueueReply, ReceiveReply } from '../../src/server/queue-reply-types.js';

/** Fixed unless FC_SEED is set; fast-check prints the seed and path of any failure. */
const seed = Number(process.env['FC_SEED'] ?? 20261207);

const message = (over: Partial<ReceivedMessage> = {}): ReceivedMessage => ({
  id: '17-0',
  offset: 3,
  receipt: 'rcpt-17-0-1',
  receiveCount: 1,
  enqueuedAtMs: 1_765_000_000_123,
  sentAtMs: 1_765_000_000_100,
  firstReceivedAtMs: 0,
  groupId: '',
  dedupId: '',
  attributes: {},
  body: new Uint8Array([0, 1, 2, 255]),
  ...over,
});

/** One of every reply type, with the shapes receive takes: binary, empty bodies, attributes, groups. */
const examples: readonly QueueReply[] = [
  { ok: false, code: 'QUEUE_NOT_FOUND', message: 'queue "jobs" does not exist' },
  { ok: false, code: 'INTERNAL', message: 'undecodable command at 7: ünïcödé ✓ 🚀' },
  { ok: true, type: 'createQueue', created: true },
  { ok: true, type: 'createQueue', created: false },
  { ok: true, type: 'deleteQueue', deletedMessages: 12 },
  { ok: true, type: 'purgeQueue', purgedMessages: 0 },
  { ok: true, type: 'setQueueAttributes' },
  { ok: true, type: 'enqueue', messages: [], duplicate: false },
  { ok: true, type: 'enqueue', messages: [{ id: '5-0', offset: 0 }, { id: '5-1', offset: 1 }], duplicate: true },
  { ok: true, type: 'receive', messages: [], deadLettered: 0 },
  { ok: true, type: 'receive', messages: [message()], deadLettered: 2 },
  { ok: true, type: 'receive', messages: [message({ body: new Uint8Array(0) })], deadLettered: 0 },
  {
    ok: true,
    type: 'receive',
    messages: [
      message({ groupId: 'order-42', dedupId: 'dd-1', firstReceivedAtMs: 1_765_000_000_200, attributes: { 'content-type': 'application/octet-stream', trace: 'ab-cd', __proto__x: 'y' }, receiveCount: 3 }),
      message({ id: '18-0', receipt: 'rcpt-18-0-1', body: new Uint8Array(4096).map((_, i) => i & 0xff), attributes: { 'ключ': 'значение' } }),
    ],
    deadLettered: 0,
  },
  { ok: true, type: 'ack', outcomes: [] },
  { ok: true, type: 'ack', outcomes: ['deleted', 'gone', 'stale'] },
  { ok: true, type: 'changeVisibility', outcome: 'changed' },
  { ok: true, type: 'changeVisibility', outcome: 'gone' },
  { ok: true, type: 'redrive', moved: 9, taskIndex: 1234 },
  { ok: true, type: 'expire', expiredMessages: 4, expiredDedupKeys: 5 },
  { ok: true, type: 'tagQueue' },
  { ok: true, type: 'untagQueue' },
];

describe('binary queue reply codec', () => {
  it.each(examples.map((r) => [r.ok ? r.type : `error ${r.code}`, r] as const))('round-trips %s within its size bound', (_name, reply) => {
    const bytes = queueReplyBinaryCodec.encode(reply);
    expect(queueReplyBinaryCodec.decode(bytes)).toEqual(reply);
    expect(bytes.byteLength).toBeLessThanOrEqual(replyBytesBound(reply));
  });

  it('carries bodies as raw bytes, not base64', () => {
    const body = new Uint8Array(3000).fill(7);
    const reply: ReceiveReply = { ok: true, type: 'receive', messages: [message({ body })], deadLettered: 0 };
    const binary = queueReplyBinaryCodec.encode(reply);
    // base64 alone would take 4000 bytes.
    expect(binary.byteLength).toBeLessThan(body.byteLength + 200);
    expect(Buffer.from(binary).includes(Buffer.from(body))).toBe(true);
  });

  it('keeps an attribute named __proto__ as a plain attribute', () => {
    const attributes: Record<string, string> = Object.fromEntries([['__proto__', 'v']]);
    const reply: ReceiveReply = { ok: true, type: 'receive', messages: [message({ attributes })], deadLettered: 0 };
    const back = queueReplyBinaryCodec.decode(queueReplyBinaryCodec.encode(reply));
    expect(back.ok && back.type === 'receive' && Object.entries(back.messages[0]!.attributes)).toEqual([['__proto__', 'v']]);
  });

  it('rejects damaged bytes with a typed INTERNAL error: truncated, trailing, unknown tag or code', () => {
    const good = queueReplyBinaryCodec.encode(examples[12]!);
    const bad = [
      good.subarray(0, good.byteLength - 1),
      good.subarray(0, 5),
      new Uint8Array([...good, 0]),
      new Uint8Array([99]),
      new Uint8Array(0),
      queueReplyBinaryCodec.encode({ ok: false, code: 'INTERNAL', message: '' }).map((b, i) => (i === 5 ? 'X'.charCodeAt(0) : b)),
      new Uint8Array([7, 1, 0, 0, 0, 9]),
    ];
    for (const b of bad) {
      let err: unknown;
      try {
        queueReplyBinaryCodec.decode(b);
      } catch (e) {
        err = e;
      }
      expect(err, `bytes ${Buffer.from(b).toString('hex')}`).toBeInstanceOf(RaftqError);
      expect((err as RaftqError).code).toBe('INTERNAL');
    }
  });

  it('binaryMessagesWithin keeps the longest prefix whose encoding fits the limit', () => {
    const messages = Array.from({ length: 10 }, (_, i) => message({ id: `m-${i}`, body: new Uint8Array(1000) }));
    const reply: ReceiveReply = { ok: true, type: 'receive', messages, deadLettered: 0 };
    for (const bytesMax of [0, 13, 1000, 1100, 5000, 10_900, 100_000]) {
      const kept = binaryMessagesWithin(reply, bytesMax);
      const cut: ReceiveReply = { ...reply, messages: messages.slice(0, kept) };
      if (kept > 0) expect(queueReplyBinaryCodec.encode(cut).byteLength).toBeLessThanOrEqual(bytesMax);
      if (kept < messages.length) expect(replyBytesBound({ ...reply, messages: messages.slice(0, kept + 1) })).toBeGreaterThan(bytesMax);
    }
  });
});

const text = fc.string({ unit: 'grapheme', maxLength: 24 });
const count = fc.nat({ max: 2 ** 40 });
const receivedMessage: fc.Arbitrary<ReceivedMessage> = fc.record({
  id: text,
  offset: count,
  receipt: text,
  receiveCount: fc.nat({ max: 1000 }),
  enqueuedAtMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  sentAtMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  firstReceivedAtMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  groupId: text,
  dedupId: text,
  attributes: fc.dictionary(text, text, { maxKeys: 4 }),
  body: fc.uint8Array({ maxLength: 600 }),
});
const reply: fc.Arbitrary<QueueReply> = fc.oneof(
  fc.record({ ok: fc.constant(false as const), code: fc.constantFrom(...errorCodes), message: fc.string({ unit: 'grapheme', maxLength: 80 }) }),
  fc.record({ ok: fc.constant(true as const), type: fc.constant('createQueue' as const), created: fc.boolean() }),
  fc.record({ ok: fc.constant(true as const), type: fc.constant('deleteQueue' as const), deletedMessages: count }),
  fc.record({ ok: fc.constant(true as const), type: fc.constant('purgeQueue' as const), purgedMessages: count }),
  fc.record({ ok: fc.constant(true as const), type: fc.constant('setQueueAttributes' as const) }),
  fc.record({
    ok: fc.constant(true as const),
    type: fc.constant('enqueue' as const),
    messages: fc.array(fc.record({ id: text, offset: count }), { maxLength: 5 }),
    duplicate: fc.boolean(),
  }),
  fc.record({ ok: fc.constant(true as const), type: fc.constant('receive' as const), messages: fc.array(receivedMessage, { maxLength: 6 }), deadLettered: count }),
  fc.record({ ok: fc.constant(true as const), type: fc.constant('ack' as const), outcomes: fc.array(fc.constantFrom('deleted' as const, 'gone' as const, 'stale' as const), { maxLength: 8 }) }),
  fc.record({ ok: fc.constant(true as const), type: fc.constant('changeVisibility' as const), outcome: fc.constantFrom('changed' as const, 'gone' as const) }),
  fc.record({ ok: fc.constant(true as const), type: fc.constant('redrive' as const), moved: count, taskIndex: count }),
  fc.record({ ok: fc.constant(true as const), type: fc.constantFrom('tagQueue' as const, 'untagQueue' as const) }),
  fc.record({ ok: fc.constant(true as const), type: fc.constant('expire' as const), expiredMessages: count, expiredDedupKeys: count }),
);

describe('binary queue reply codec (property, fixed seed)', () => {
  it('decode(encode(r)) equals r, and the encoding never exceeds replyBytesBound(r)', () => {
    fc.assert(
      fc.property(reply, (r) => {
        const bytes = queueReplyBinaryCodec.encode(r);
        expect(bytes.byteLength).toBeLessThanOrEqual(replyBytesBound(r));
        expect(queueReplyBinaryCodec.decode(bytes)).toEqual(r);
      }),
      { seed, numRuns: 500 },
    );
  });
});
