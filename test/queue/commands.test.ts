/**
 * Pure parts of the queue commands: validation tables (every bad input gets its code), the
 * protobuf codec round trip, receipts and the key scheme's byte order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isErrorCode } from '../../src/errors.js';
import { decodeCommand, encodeCommand } from '../../src/queue/codec.js';
import type { Command } from '../../src/queue/commands.js';
import { QueueError, queueErrorCodes } from '../../src/queue/errors.js';
import { compareKeys, messageKey, payloadKey, queueKey, readU64 } from '../../src/queue/keys.js';
import { decodeReceipt, decodeReceiptReference, encodeReceipt } from '../../src/queue/receipts.js';
import { validateAgainstState, validateCommand } from '../../src/queue/validate.js';
import { Harness, utf8 } from './harness.js';

const receipt = encodeReceipt({ queueId: 1, offset: 5, receiveCount: 2, deliveryIndex: 9 });
const body = utf8('x');

describe('validateCommand', () => {
  const bad: Array<[string, unknown]> = [
    ['empty name', { type: 'createQueue', queue: '' }],
    ['name too long', { type: 'createQueue', queue: 'a'.repeat(81) }],
    ['name with slash', { type: 'deleteQueue', queue: 'a/b' }],
    ['name with dot', { type: 'purgeQueue', queue: 'a.b' }],
    ['name not a string', { type: 'receive', queue: 7, max: 1 }],
    ['visibility too high', { type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 12 * 3600_000 + 1 } }],
    ['visibility negative', { type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: -1 } }],
    ['visibility fractional', { type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 1.5 } }],
    ['delay too high', { type: 'createQueue', queue: 'q', attributes: { delayMs: 15 * 60_000 + 1 } }],
    ['retention too low', { type: 'createQueue', queue: 'q', attributes: { retentionMs: 59_999 } }],
    ['retention too high', { type: 'setQueueAttributes', queue: 'q', attributes: { retentionMs: 14 * 86_400_000 + 1 } }],
    ['maxMessageBytes 0', { type: 'createQueue', queue: 'q', attributes: { maxMessageBytes: 0 } }],
    ['maxMessageBytes > 1 MiB', { type: 'createQueue', queue: 'q', attributes: { maxMessageBytes: 1024 * 1024 + 1 } }],
    ['maxReceiveCount without DLQ', { type: 'createQueue', queue: 'q', attributes: { maxReceiveCount: 3 } }],
    ['DLQ without maxReceiveCount', { type: 'createQueue', queue: 'q', attributes: { deadLetterQueue: 'd' } }],
    ['maxReceiveCount 0', { type: 'createQueue', queue: 'q', attributes: { maxReceiveCount: 0, deadLetterQueue: 'd' } }],
    ['maxReceiveCount 1001', { type: 'createQueue', queue: 'q', attributes: { maxReceiveCount: 1001, deadLetterQueue: 'd' } }],
    ['DLQ is itself', { type: 'createQueue', queue: 'q', attributes: { maxReceiveCount: 1, deadLetterQueue: 'q' } }],
    ['FIFO DLQ of standard queue', { type: 'createQueue', queue: 'q', attributes: { maxReceiveCount: 1, deadLetterQueue: 'd.fifo' } }],
    ['bad DLQ name', { type: 'createQueue', queue: 'q', attributes: { maxReceiveCount: 1, deadLetterQueue: 'd d' } }],
    ['fifo flag without suffix', { type: 'createQueue', queue: 'q', attributes: { fifo: true } }],
    ['no fifo flag with suffix', { type: 'createQueue', queue: 'q.fifo', attributes: { fifo: false } }],
    ['empty batch', { type: 'enqueue', queue: 'q', messages: [] }],
    ['101 messages', { type: 'enqueue', queue: 'q', messages: Array.from({ length: 101 }, () => ({ body })) }],
    ['body not bytes', { type: 'enqueue', queue: 'q', messages: [{ body: 'x' }] }],
    ['message delay too high', { type: 'enqueue', queue: 'q', messages: [{ body, delayMs: 900_001 }] }],
    ['groupId on standard queue', { type: 'enqueue', queue: 'q', messages: [{ body, groupId: 'g' }] }],
    ['dedupId on standard queue', { type: 'enqueue', queue: 'q', messages: [{ body, dedupId: 'd' }] }],
    ['FIFO without groupId', { type: 'enqueue', queue: 'q.fifo', messages: [{ body }] }],
    ['FIFO with per-message delay', { type: 'enqueue', queue: 'q.fifo', messages: [{ body, groupId: 'g', delayMs: 5 }] }],
    ['groupId too long', { type: 'enqueue', queue: 'q.fifo', messages: [{ body, groupId: 'g'.repeat(129) }] }],
    ['too many attributes', { type: 'enqueue', queue: 'q', messages: [{ body, attributes: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) }] }],
    ['attribute value not a string', { type: 'enqueue', queue: 'q', messages: [{ body, attributes: { k: 1 } }] }],
    ['empty idempotency key', { type: 'enqueue', queue: 'q', messages: [{ body }], producerKey: { idempotencyKey: '' } }],
    ['negative producer sequence', { type: 'enqueue', queue: 'q', messages: [{ body }], producerKey: { producerId: 'p', sequence: -1 } }],
    ['receive max 0', { type: 'receive', queue: 'q', max: 0 }],
    ['receive max 101', { type: 'receive', queue: 'q', max: 101 }],
    ['receive visibility too high', { type: 'receive', queue: 'q', max: 1, visibilityTimeoutMs: 43_200_001 }],
    ['ack without receipts', { type: 'ack', queue: 'q', receipts: [] }],
    ['ack with garbage receipt', { type: 'ack', queue: 'q', receipts: ['nope'] }],
    ['ack with tampered receipt', { type: 'ack', queue: 'q', receipts: [receipt.replace('r1.1.', 'r1.2.')] }],
    ['changeVisibility bad receipt', { type: 'changeVisibility', queue: 'q', receipt: 'x', visibilityTimeoutMs: 0 }],
    ['changeVisibility bad timeout', { type: 'changeVisibility', queue: 'q', receipt, visibilityTimeoutMs: -5 }],
    ['unknown type', { type: 'explode', queue: 'q' }],
    ['contentBasedDeduplication on a standard queue', { type: 'createQueue', queue: 'q', attributes: { contentBasedDeduplication: true } }],
    ['contentBasedDeduplication not a boolean', { type: 'setQueueAttributes', queue: 'q.fifo', attributes: { contentBasedDeduplication: 'yes' } }],
    ['receiveWaitTimeMs too high', { type: 'createQueue', queue: 'q', attributes: { receiveWaitTimeMs: 20_001 } }],
    ['receiveWaitTimeMs negative', { type: 'setQueueAttributes', queue: 'q', attributes: { receiveWaitTimeMs: -1 } }],
    ['receiveWaitTimeMs fractional', { type: 'createQueue', queue: 'q', attributes: { receiveWaitTimeMs: 0.5 } }],
    ['redriveAllowPolicy too long', { type: 'createQueue', queue: 'q', attributes: { redriveAllowPolicy: 'x'.repeat(1025) } }],
    ['redriveAllowPolicy not a string', { type: 'createQueue', queue: 'q', attributes: { redriveAllowPolicy: {} } }],
    ['51 tags on create', { type: 'createQueue', queue: 'q', tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }],
    ['tags not an object', { type: 'createQueue', queue: 'q', tags: 'a=b' }],
    ['51 tags', { type: 'tagQueue', queue: 'q', tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }],
    ['empty tag key', { type: 'tagQueue', queue: 'q', tags: { '': 'v' } }],
    ['tag key of 129', { type: 'tagQueue', queue: 'q', tags: { ['k'.repeat(129)]: 'v' } }],
    ['tag value of 257', { type: 'tagQueue', queue: 'q', tags: { k: 'v'.repeat(257) } }],
    ['tag value not a string', { type: 'tagQueue', queue: 'q', tags: { k: 1 } }],
    ['tags missing', { type: 'tagQueue', queue: 'q' }],
    ['untag keys not an array', { type: 'untagQueue', queue: 'q', keys: 'k' }],
    ['untag empty key', { type: 'untagQueue', queue: 'q', keys: [''] }],
    ['untag key of 129', { type: 'untagQueue', queue: 'q', keys: ['k'.repeat(129)] }],
    ['untag 51 keys', { type: 'untagQueue', queue: 'q', keys: Array.from({ length: 51 }, (_, i) => `k${i}`) }],
    ['redrive to itself', { type: 'redrive', queue: 'd', destination: 'd' }],
    ['redrive standard to FIFO', { type: 'redrive', queue: 'd', destination: 'q.fifo' }],
    ['redrive FIFO to standard', { type: 'redrive', queue: 'd.fifo', destination: 'q' }],
    ['redrive to a bad name', { type: 'redrive', queue: 'd', destination: 'a/b' }],
    ['attribute value of 262145', { type: 'enqueue', queue: 'q', messages: [{ body, attributes: { k: 'v'.repeat(262_145) } }] }],
    ['attribute key of 257', { type: 'enqueue', queue: 'q', messages: [{ body, attributes: { ['k'.repeat(257)]: 'v' } }] }],
    ['empty attribute key', { type: 'enqueue', queue: 'q', messages: [{ body, attributes: { '': 'v' } }] }],
  ];
  it.each(bad)('refuses %s with INVALID_ARGUMENT', (_name, cmd) => {
    const err = validateCommand(cmd as Command);
    expect(err).toBeInstanceOf(QueueError);
    expect(err?.code).toBe('INVALID_ARGUMENT');
  });

  it('refuses a body above 1 MiB with TOO_LARGE', () => {
    expect(validateCommand({ type: 'enqueue', queue: 'q', messages: [{ body: new Uint8Array(1024 * 1024 + 1) }] })?.code).toBe('TOO_LARGE');
  });

  const good: Command[] = [
    { type: 'createQueue', queue: 'a'.repeat(80) },
    { type: 'createQueue', queue: 'A-z_0.fifo', attributes: { fifo: true, maxReceiveCount: 5, deadLetterQueue: 'dlq.fifo' } },
    { type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 0, delayMs: 900_000, retentionMs: 60_000, maxMessageBytes: 1 } },
    { type: 'enqueue', queue: 'q', messages: [{ body: new Uint8Array(1024 * 1024), attributes: { k: 'v' }, delayMs: 0 }], producerKey: { producerId: 'p', sequence: 0 } },
    { type: 'enqueue', queue: 'q.fifo', messages: [{ body, groupId: 'g', dedupId: 'd' }], producerKey: { idempotencyKey: 'k' } },
    { type: 'receive', queue: 'q', max: 100, visibilityTimeoutMs: 43_200_000 },
    { type: 'ack', queue: 'q', receipts: [receipt] },
    { type: 'changeVisibility', queue: 'q', receipt, visibilityTimeoutMs: 0 },
    { type: 'redrive', queue: 'q' },
    { type: 'expire' },
    { type: 'createQueue', queue: 'q.fifo', attributes: { contentBasedDeduplication: true, receiveWaitTimeMs: 20_000, redriveAllowPolicy: 'x'.repeat(1024) } },
    { type: 'createQueue', queue: 'q', attributes: { contentBasedDeduplication: false, receiveWaitTimeMs: 0, redriveAllowPolicy: '' }, tags: {} },
    { type: 'createQueue', queue: 'q', tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${i}`.padEnd(128, 'k'), 'v'.repeat(256)])) },
    { type: 'tagQueue', queue: 'q', tags: { k: '' } },
    { type: 'tagQueue', queue: 'q', tags: {} },
    { type: 'untagQueue', queue: 'q', keys: ['k', 'k'.repeat(128)] },
    { type: 'untagQueue', queue: 'q', keys: [] },
    { type: 'redrive', queue: 'd', destination: 'q' },
    { type: 'redrive', queue: 'd.fifo', destination: 'q.fifo' },
    {
      type: 'enqueue',
      queue: 'q',
      messages: [{ body, attributes: { ':types': '{"k":"Number"}', ...Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`${i}`.padEnd(256, 'k'), 'v'.repeat(262_144)])) } }],
    },
  ];
  it.each(good.map((c) => [c.type, c] as const))('accepts a valid %s', (_t, cmd) => {
    expect(validateCommand(cmd)).toBeUndefined();
  });
});

describe('validateAgainstState', () => {
  it('reports QUEUE_NOT_FOUND, QUEUE_EXISTS, TOO_LARGE and a missing dead-letter queue', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { maxMessageBytes: 4 } });
    expect(validateAgainstState({ type: 'receive', queue: 'nope', max: 1 }, h.sm)?.code).toBe('QUEUE_NOT_FOUND');
    expect(validateAgainstState({ type: 'createQueue', queue: 'q' }, h.sm)?.code).toBe('QUEUE_EXISTS');
    expect(validateAgainstState({ type: 'createQueue', queue: 'q', attributes: { maxMessageBytes: 4 } }, h.sm)).toBeUndefined();
    expect(validateAgainstState({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('12345') }] }, h.sm)?.code).toBe('TOO_LARGE');
    expect(validateAgainstState({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('1234') }] }, h.sm)).toBeUndefined();
    const dlq = { maxReceiveCount: 1, deadLetterQueue: 'd' };
    expect(validateAgainstState({ type: 'createQueue', queue: 'r', attributes: dlq }, h.sm)?.code).toBe('QUEUE_NOT_FOUND');
    expect(validateAgainstState({ type: 'setQueueAttributes', queue: 'q', attributes: dlq }, h.sm)?.code).toBe('QUEUE_NOT_FOUND');
    expect(validateAgainstState({ type: 'expire' }, h.sm)).toBeUndefined();
  });

  it('tags: QUEUE_NOT_FOUND for a missing queue, INVALID_ARGUMENT when a merge passes 50 tags', () => {
    const h = new Harness();
    const tags = (from: number, n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${from + i}`, 'v']));
    h.ok({ type: 'createQueue', queue: 'q', tags: tags(0, 30) });
    expect(validateAgainstState({ type: 'tagQueue', queue: 'nope', tags: {} }, h.sm)?.code).toBe('QUEUE_NOT_FOUND');
    expect(validateAgainstState({ type: 'untagQueue', queue: 'nope', keys: [] }, h.sm)?.code).toBe('QUEUE_NOT_FOUND');
    // 30 + 20 new = 50: fine; 30 + 21 new: too many; overlapping keys count once.
    expect(validateAgainstState({ type: 'tagQueue', queue: 'q', tags: tags(30, 20) }, h.sm)).toBeUndefined();
    expect(validateAgainstState({ type: 'tagQueue', queue: 'q', tags: tags(30, 21) }, h.sm)?.code).toBe('INVALID_ARGUMENT');
    expect(validateAgainstState({ type: 'tagQueue', queue: 'q', tags: tags(10, 40) }, h.sm)).toBeUndefined();
  });

  it('redrive: QUEUE_NOT_FOUND for a missing destination', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'd' });
    expect(validateAgainstState({ type: 'redrive', queue: 'd', destination: 'nope' }, h.sm)?.code).toBe('QUEUE_NOT_FOUND');
    expect(validateAgainstState({ type: 'redrive', queue: 'nope', destination: 'd' }, h.sm)?.code).toBe('QUEUE_NOT_FOUND');
    h.ok({ type: 'createQueue', queue: 'q' });
    expect(validateAgainstState({ type: 'redrive', queue: 'd', destination: 'q' }, h.sm)).toBeUndefined();
  });
});

describe('command codec', () => {
  const commands: Command[] = [
    { type: 'createQueue', queue: 'q', attributes: {} },
    { type: 'createQueue', queue: 'q.fifo', attributes: { visibilityTimeoutMs: 0, delayMs: 5, retentionMs: 60_000, maxMessageBytes: 9, maxReceiveCount: 2, deadLetterQueue: 'd.fifo', fifo: true } },
    { type: 'deleteQueue', queue: 'q' },
    { type: 'purgeQueue', queue: 'q' },
    { type: 'setQueueAttributes', queue: 'q', attributes: { visibilityTimeoutMs: 0 } },
    { type: 'enqueue', queue: 'q', messages: [{ body: Uint8Array.of(0, 1, 255), attributes: { b: '2', a: '1' }, delayMs: 0 }, { body: new Uint8Array(0) }], producerKey: { producerId: 'p', sequence: 2 ** 40 } },
    { type: 'enqueue', queue: 'q.fifo', messages: [{ body, groupId: 'g', dedupId: '' }], producerKey: { idempotencyKey: 'k' } },
    { type: 'receive', queue: 'q', max: 3 },
    { type: 'receive', queue: 'q', max: 3, visibilityTimeoutMs: 0 },
    { type: 'ack', queue: 'q', receipts: [receipt, receipt] },
    { type: 'changeVisibility', queue: 'q', receipt, visibilityTimeoutMs: 0 },
    { type: 'redrive', queue: 'd' },
    { type: 'redrive', queue: 'd', destination: 'elsewhere' },
    { type: 'expire' },
    { type: 'createQueue', queue: 'q.fifo', attributes: { contentBasedDeduplication: true, receiveWaitTimeMs: 20_000, redriveAllowPolicy: '{"redrivePermission":"allowAll"}' } },
    { type: 'createQueue', queue: 'q', attributes: { contentBasedDeduplication: false, receiveWaitTimeMs: 0, redriveAllowPolicy: '' }, tags: { team: 'a', empty: '', __proto__x: 'y' } },
    { type: 'createQueue', queue: 'q', attributes: {}, tags: Object.fromEntries([['__proto__', 'p']]) },
    { type: 'setQueueAttributes', queue: 'q', attributes: { receiveWaitTimeMs: 5 } },
    { type: 'tagQueue', queue: 'q', tags: { b: '2', a: '' } },
    { type: 'tagQueue', queue: 'q', tags: {} },
    { type: 'untagQueue', queue: 'q', keys: ['a', 'b'] },
    { type: 'untagQueue', queue: 'q', keys: [] },
  ];
  it.each(commands.map((c, i) => [`${i} ${c.type}`, c] as const))('round-trips %s', (_n, cmd) => {
    expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
  });

  it('decodes a "__proto__" tag as an own tag, so followers apply what the leader applied', () => {
    const decoded = decodeCommand(encodeCommand({ type: 'tagQueue', queue: 'q', tags: Object.fromEntries([['__proto__', 'v']]) }));
    expect(decoded).not.toBeInstanceOf(QueueError);
    const tags = (decoded as Extract<Command, { type: 'tagQueue' }>).tags;
    expect(Object.hasOwn(tags, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
  });

  it('createQueue with empty tags decodes without tags (the same command)', () => {
    expect(decodeCommand(encodeCommand({ type: 'createQueue', queue: 'q', attributes: {}, tags: {} }))).toEqual({ type: 'createQueue', queue: 'q', attributes: {} });
  });

  it('turns undecodable bytes into INVALID_ARGUMENT, never a throw', () => {
    for (const bytes of [Uint8Array.of(0xff, 0xff, 0xff), Uint8Array.of(), Uint8Array.of(0x0a, 0x05, 0x01)]) {
      const r = decodeCommand(bytes);
      expect(r).toBeInstanceOf(QueueError);
      expect((r as QueueError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('receipts and keys', () => {
  it('the receipt scanner accepts and refuses exactly what the reference expression does', () => {
    const field = fc.oneof(fc.nat(), fc.constantFrom(0, 1, 36 ** 10, 2 ** 53 - 1, 2 ** 53, 36 ** 11 - 1));
    const valid = fc.tuple(field, field, field, field).map(([queueId, offset, receiveCount, deliveryIndex]) => encodeReceipt({ queueId, offset, receiveCount, deliveryIndex }));
    const mangled = fc.tuple(valid, fc.nat(), fc.constantFrom('', '.', 'x', 'Z', '0', '-', '..')).map(([r, at, s]) => r.slice(0, at % (r.length + 1)) + s + r.slice(at % (r.length + 1) + (s === '' ? 1 : 0)));
    const same = (text: unknown): void => {
      const a = decodeReceipt(text);
      const b = decodeReceiptReference(text);
      if (b instanceof QueueError) expect(a instanceof QueueError ? a.code : a).toBe(b.code);
      else expect(a).toEqual(b);
    };
    fc.assert(fc.property(fc.oneof(valid, mangled, fc.string({ maxLength: 40 }).map((s) => `r1.${s}`), fc.anything()), same), { seed: 20261201, numRuns: 2000 });
  });

  it('round-trips receipts and refuses malformed ones', () => {
    expect(decodeReceipt(receipt)).toEqual({ queueId: 1, offset: 5, receiveCount: 2, deliveryIndex: 9 });
    for (const bad of ['', 'r1.1.5.2.9', `${receipt}x`, receipt.toUpperCase(), 42, 'r1.1.5.0.9.0']) {
      expect(decodeReceipt(bad)).toBeInstanceOf(QueueError);
    }
  });

  it('orders keys by queue name, offset and seq in byte order', () => {
    expect(compareKeys(messageKey(1, 255), messageKey(1, 256))).toBeLessThan(0);
    expect(compareKeys(messageKey(1, 2 ** 40), messageKey(2, 0))).toBeLessThan(0);
    expect(compareKeys(payloadKey(2 ** 33), payloadKey(2 ** 33 + 1))).toBeLessThan(0);
    expect(compareKeys(queueKey('a'), queueKey('b'))).toBeLessThan(0);
    expect(readU64(messageKey(7, 2 ** 50 + 3), 6)).toBe(2 ** 50 + 3);
  });

  it('lists the catalogue codes the state machine produces', () => {
    expect(queueErrorCodes).toEqual(['QUEUE_NOT_FOUND', 'QUEUE_EXISTS', 'INVALID_ARGUMENT', 'TOO_LARGE', 'STALE_RECEIPT', 'NOT_FOUND']);
    for (const code of queueErrorCodes) expect(isErrorCode(code), code).toBe(true);
  });
});
