/**
 * Unit tests of the queue state machine: each command, each error code it can return at apply
 * time, and the SQS semantics (visibility, receipts, dead-lettering, FIFO groups, dedup, delays,
 * retention, monotonic time).
 */
import { describe, expect, it } from 'vitest';
import type { CommandResult } from '../../src/queue/commands.js';
import { dedupKey, keyKind } from '../../src/queue/keys.js';
import { dedupWindowMs } from '../../src/queue/limits.js';
import { decodeDedupPage, encodeDedup } from '../../src/queue/records.js';
import { QueueStateMachine } from '../../src/queue/state-machine.js';
import { WriteBatch } from '../../src/queue/state-store.js';
import { Harness, t0Ms, text, utf8 } from './harness.js';

function code(r: CommandResult): string {
  return r.ok ? 'OK' : r.code;
}

function enqueue(h: Harness, queue: string, ...bodies: string[]): Array<{ id: string; offset: number }> {
  const r = h.ok({ type: 'enqueue', queue, messages: bodies.map((b) => ({ body: utf8(b) })) });
  if (r.type !== 'enqueue') throw new Error('not an enqueue');
  return [...r.messages];
}

describe('queue lifecycle', () => {
  it('creates with defaults, is idempotent for identical attributes, QUEUE_EXISTS otherwise', () => {
    const h = new Harness();
    expect(h.ok({ type: 'createQueue', queue: 'q' })).toEqual({ ok: true, type: 'createQueue', created: true });
    expect(h.sm.getQueue('q')).toEqual({
      name: 'q',
      createdAtMs: t0Ms,
      attributes: {
        visibilityTimeoutMs: 30_000,
        delayMs: 0,
        retentionMs: 4 * 86_400_000,
        maxMessageBytes: 256 * 1024,
        maxReceiveCount: 0,
        deadLetterQueue: '',
        fifo: false,
        contentBasedDeduplication: false,
        receiveWaitTimeMs: 0,
        redriveAllowPolicy: '',
      },
      stats: { visible: 0, inFlight: 0, delayed: 0, oldestMessageAgeMs: 0, deadLettered: 0 },
      tags: {},
    });
    expect(h.ok({ type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 30_000 } })).toEqual({ ok: true, type: 'createQueue', created: false });
    expect(code(h.apply({ type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 1 } }))).toBe('QUEUE_EXISTS');
    expect(h.sm.getQueue('q.fifo')).toBeUndefined();
    h.ok({ type: 'createQueue', queue: 'q.fifo' });
    expect(h.sm.listQueues().map((q) => [q.name, q.attributes.fifo])).toEqual([['q', false], ['q.fifo', true]]);
  });

  it('returns QUEUE_NOT_FOUND for every command on a missing queue', () => {
    const h = new Harness();
    const receipt = 'r1.1.0.1.1.' + 'x';
    for (const cmd of [
      { type: 'deleteQueue', queue: 'q' },
      { type: 'purgeQueue', queue: 'q' },
      { type: 'setQueueAttributes', queue: 'q', attributes: {} },
      { type: 'enqueue', queue: 'q', messages: [{ body: utf8('x') }] },
      { type: 'receive', queue: 'q', max: 1 },
      { type: 'redrive', queue: 'q' },
    ] as const) {
      expect(code(h.apply(cmd)), cmd.type).toBe('QUEUE_NOT_FOUND');
    }
    expect(code(h.apply({ type: 'ack', queue: 'q', receipts: [receipt] }))).toBe('INVALID_ARGUMENT');
  });

  it('deletes a queue with its messages and keys; the same name later starts afresh', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q' });
    enqueue(h, 'q', 'a', 'b');
    const [d] = h.receive('q', 1);
    expect(h.ok({ type: 'deleteQueue', queue: 'q' })).toEqual({ ok: true, type: 'deleteQueue', deletedMessages: 2 });
    expect(h.store.size).toBe(1); // only the machine record (clock, queue ids) remains
    h.ok({ type: 'createQueue', queue: 'q' });
    expect(enqueue(h, 'q', 'c')[0]!.offset).toBe(0);
    expect(h.ok({ type: 'ack', queue: 'q', receipts: [d!.receipt] })).toEqual({ ok: true, type: 'ack', outcomes: ['gone'] });
    expect(h.sm.getQueue('q')!.stats.visible).toBe(1);
  });

  it('purges messages but keeps offsets growing', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q' });
    enqueue(h, 'q', 'a', 'b', 'c');
    expect(h.ok({ type: 'purgeQueue', queue: 'q' })).toEqual({ ok: true, type: 'purgeQueue', purgedMessages: 3 });
    expect(h.sm.getQueue('q')!.stats.visible).toBe(0);
    expect(enqueue(h, 'q', 'd')[0]!.offset).toBe(3);
  });

  it('sets attributes, keeping the others', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { delayMs: 5 } });
    h.ok({ type: 'createQueue', queue: 'dlq' });
    h.ok({ type: 'setQueueAttributes', queue: 'q', attributes: { visibilityTimeoutMs: 7, maxReceiveCount: 2, deadLetterQueue: 'dlq' } });
    expect(h.sm.queueAttributes('q')).toMatchObject({ delayMs: 5, visibilityTimeoutMs: 7, maxReceiveCount: 2, deadLetterQueue: 'dlq' });
    expect(code(h.apply({ type: 'setQueueAttributes', queue: 'q', attributes: { maxReceiveCount: 2, deadLetterQueue: 'nope' } }))).toBe('QUEUE_NOT_FOUND');
  });
});

describe('enqueue and receive', () => {
  it('derives ids from the log position and offsets from the queue sequence', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q' });
    expect(enqueue(h, 'q', 'a', 'b')).toEqual([{ id: '2-0', offset: 0 }, { id: '2-1', offset: 1 }]);
    expect(enqueue(h, 'q', 'c')).toEqual([{ id: '3-0', offset: 2 }]);
    const got = await h.receiveMessages('q', 10);
    expect(got.map((m) => [m.id, m.offset, text(m.body), m.receiveCount, m.enqueuedAtMs])).toEqual([
      ['2-0', 0, 'a', 1, t0Ms],
      ['2-1', 1, 'b', 1, t0Ms],
      ['3-0', 2, 'c', 1, t0Ms],
    ]);
  });

  it('carries attributes', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q' });
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('x'), attributes: { z: '1', a: '2' } }] });
    expect((await h.receiveMessages('q'))[0]!.attributes).toEqual({ a: '2', z: '1' });
  });

  it('refuses a body above maxMessageBytes with TOO_LARGE, also when the limit changed after validation', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { maxMessageBytes: 3 } });
    expect(code(h.apply({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('abc') }, { body: utf8('abcd') }] }))).toBe('TOO_LARGE');
    expect(h.sm.getQueue('q')!.stats.visible).toBe(0);
  });

  it('returns a deterministic error when the queue was deleted between validation and apply', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q' });
    const cmd = { type: 'enqueue', queue: 'q', messages: [{ body: utf8('x') }] } as const;
    expect(h.sm.apply(cmd, { index: 100, nowMs: t0Ms }, new WriteBatch()).ok).toBe(true);
    h.index = 100;
    h.ok({ type: 'deleteQueue', queue: 'q' });
    expect(code(h.apply(cmd))).toBe('QUEUE_NOT_FOUND');
  });

  it('hides a received message for the visibility timeout, then redelivers it with a new receipt', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 1000 } });
    enqueue(h, 'q', 'a');
    const [first] = h.receive('q');
    expect(h.sm.getQueue('q')!.stats).toMatchObject({ visible: 0, inFlight: 1 });
    expect(h.receive('q')).toEqual([]);
    h.nowMs += 999;
    expect(h.receive('q')).toEqual([]);
    h.nowMs += 1;
    const [second] = h.receive('q');
    expect(second!.receiveCount).toBe(2);
    expect(second!.receipt).not.toBe(first!.receipt);
    expect(h.ok({ type: 'ack', queue: 'q', receipts: [first!.receipt] })).toEqual({ ok: true, type: 'ack', outcomes: ['stale'] });
    expect(h.sm.getQueue('q')!.stats.inFlight).toBe(1);
    expect(h.ok({ type: 'ack', queue: 'q', receipts: [second!.receipt, second!.receipt] })).toEqual({ ok: true, type: 'ack', outcomes: ['deleted', 'gone'] });
    expect(h.sm.getQueue('q')!.stats).toMatchObject({ visible: 0, inFlight: 0 });
  });

  it('honours the receive visibility override and max', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q' });
    enqueue(h, 'q', 'a', 'b', 'c');
    expect(h.receive('q', 2, 0).map((d) => d.offset)).toEqual([0, 1]);
    expect(h.receive('q', 5).map((d) => d.offset)).toEqual([0, 1, 2]);
  });

  it('delays messages by the message or queue delay', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { delayMs: 500 } });
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('a') }, { body: utf8('b'), delayMs: 0 }, { body: utf8('c'), delayMs: 2000 }] });
    expect(h.sm.getQueue('q')!.stats).toMatchObject({ visible: 1, delayed: 2 });
    expect(h.receive('q').map((d) => d.offset)).toEqual([1]);
    h.nowMs += 500;
    expect(h.receive('q').map((d) => d.offset)).toEqual([0]);
    h.nowMs += 1500;
    expect(h.receive('q').map((d) => d.offset)).toEqual([2]);
  });
});

describe('changeVisibility (nack)', () => {
  it('returns a message at once, extends a lease, refuses a stale receipt', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 1000 } });
    enqueue(h, 'q', 'a');
    const [d] = h.receive('q');
    expect(h.ok({ type: 'changeVisibility', queue: 'q', receipt: d!.receipt, visibilityTimeoutMs: 0 })).toEqual({ ok: true, type: 'changeVisibility', outcome: 'changed' });
    const [d2] = h.receive('q');
    expect(code(h.apply({ type: 'changeVisibility', queue: 'q', receipt: d!.receipt, visibilityTimeoutMs: 0 }))).toBe('STALE_RECEIPT');
    h.ok({ type: 'changeVisibility', queue: 'q', receipt: d2!.receipt, visibilityTimeoutMs: 5000 });
    h.nowMs += 4999;
    expect(h.receive('q')).toEqual([]);
    h.nowMs += 1;
    expect(h.receive('q').map((m) => m.receiveCount)).toEqual([3]);
    h.ok({ type: 'purgeQueue', queue: 'q' });
    expect(h.ok({ type: 'changeVisibility', queue: 'q', receipt: d2!.receipt, visibilityTimeoutMs: 0 })).toMatchObject({ outcome: 'gone' });
  });
});

describe('dead-letter queues and redrive', () => {
  it('moves a message past maxReceiveCount to the DLQ and redrives it back in order', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'dlq' });
    h.ok({ type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 0, maxReceiveCount: 2, deadLetterQueue: 'dlq' } });
    const ids = enqueue(h, 'q', 'a', 'b');
    expect(h.receive('q').length).toBe(2);
    expect(h.receive('q').length).toBe(2);
    const r = h.ok({ type: 'receive', queue: 'q', max: 10 });
    expect(r).toEqual({ ok: true, type: 'receive', messages: [], deadLettered: 2 });
    expect(h.sm.getQueue('q')!.stats).toMatchObject({ visible: 0, deadLettered: 2 });
    const inDlq = await h.receiveMessages('dlq', 10, 0);
    expect(inDlq.map((m) => [m.id, m.offset, text(m.body), m.receiveCount])).toEqual([
      [ids[0]!.id, 0, 'a', 1],
      [ids[1]!.id, 1, 'b', 1],
    ]);
    expect(h.ok({ type: 'redrive', queue: 'dlq' })).toEqual({ ok: true, type: 'redrive', moved: 2, taskIndex: h.index });
    const back = await h.receiveMessages('q');
    expect(back.map((m) => [m.id, m.offset, text(m.body), m.receiveCount])).toEqual([
      [ids[0]!.id, 2, 'a', 1],
      [ids[1]!.id, 3, 'b', 1],
    ]);
    expect(h.sm.getQueue('dlq')!.stats.visible).toBe(0);
  });

  it('delivers normally when the DLQ was deleted, and redrive skips messages whose source is gone', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'dlq' });
    h.ok({ type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 0, maxReceiveCount: 1, deadLetterQueue: 'dlq' } });
    enqueue(h, 'q', 'a');
    h.receive('q');
    expect(h.ok({ type: 'receive', queue: 'q', max: 1 })).toMatchObject({ deadLettered: 1 });
    h.ok({ type: 'deleteQueue', queue: 'q' });
    expect(h.ok({ type: 'redrive', queue: 'dlq' })).toMatchObject({ moved: 0 });
    h.ok({ type: 'createQueue', queue: 'x', attributes: { visibilityTimeoutMs: 0, maxReceiveCount: 1, deadLetterQueue: 'dlq' } });
    h.ok({ type: 'deleteQueue', queue: 'dlq' });
    enqueue(h, 'x', 'b');
    h.receive('x');
    expect(h.receive('x').map((d) => d.receiveCount)).toEqual([2]);
  });
});

describe('FIFO queues', () => {
  it('delivers a group in order, several per receive, and nothing of a group with a message in flight', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 1000 } });
    h.ok({
      type: 'enqueue',
      queue: 'f.fifo',
      messages: [
        { body: utf8('a1'), groupId: 'a' },
        { body: utf8('a2'), groupId: 'a' },
        { body: utf8('b1'), groupId: 'b' },
        { body: utf8('a3'), groupId: 'a' },
      ],
    });
    const first = h.receive('f.fifo', 2);
    expect(first.map((d) => [d.groupId, d.offset])).toEqual([['a', 0], ['a', 1]]);
    expect(h.receive('f.fifo', 10).map((d) => [d.groupId, d.offset])).toEqual([['b', 2]]);
    expect(h.receive('f.fifo', 10)).toEqual([]);
    // a2 is still in flight: acking a1 does not unblock group a.
    h.ok({ type: 'ack', queue: 'f.fifo', receipts: [first[0]!.receipt] });
    expect(h.receive('f.fifo', 10)).toEqual([]);
    h.ok({ type: 'ack', queue: 'f.fifo', receipts: [first[1]!.receipt] });
    expect(h.receive('f.fifo', 10).map((d) => d.offset)).toEqual([3]);
    h.nowMs += 1000;
    expect(h.receive('f.fifo', 10).map((d) => [d.offset, d.receiveCount])).toEqual([[2, 2], [3, 2]]);
  });

  it('dedups by dedupId within the window', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo' });
    const m = (body: string) => ({ body: utf8(body), groupId: 'g', dedupId: 'same' });
    const r1 = h.ok({ type: 'enqueue', queue: 'f.fifo', messages: [m('x'), m('y')] });
    expect(r1).toMatchObject({ messages: [{ id: '2-0', offset: 0 }, { id: '2-0', offset: 0 }], duplicate: false });
    h.nowMs += dedupWindowMs - 1;
    expect(h.ok({ type: 'enqueue', queue: 'f.fifo', messages: [m('z')] })).toMatchObject({ messages: [{ id: '2-0', offset: 0 }] });
    h.nowMs += 1;
    expect(h.ok({ type: 'enqueue', queue: 'f.fifo', messages: [m('z')] })).toMatchObject({ messages: [{ offset: 1 }] });
  });
});

describe('producer idempotency', () => {
  it('returns the original result for a repeated key within the window, and enqueues nothing', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q' });
    const cmd = { type: 'enqueue', queue: 'q', messages: [{ body: utf8('a') }, { body: utf8('b') }], producerKey: { producerId: 'p1', sequence: 7 } } as const;
    const first = h.ok(cmd);
    const again = h.ok(cmd, 60_000);
    expect(again).toEqual({ ...first, duplicate: true });
    expect(h.sm.getQueue('q')!.stats.visible).toBe(2);
    expect(h.ok({ ...cmd, producerKey: { producerId: 'p2', sequence: 7 } })).toMatchObject({ duplicate: false });
    expect(h.ok({ ...cmd, producerKey: { idempotencyKey: 'k' } })).toMatchObject({ duplicate: false });
    expect(h.ok({ ...cmd, producerKey: { idempotencyKey: 'k' } })).toMatchObject({ duplicate: true });
    expect(h.ok(cmd, dedupWindowMs)).toMatchObject({ duplicate: false });
  });

  it('reads dedup entries of the older one-key-per-entry layout and deletes them when they go', async () => {
    const h = Harness.with({ dedupKeysMax: 2 });
    h.ok({ type: 'createQueue', queue: 'q' });
    const first = h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('a') }], producerKey: { producerId: 'p', sequence: 1 } });
    // Rewrite the stored page as one 71 05 record per entry, as an older build stored it.
    const pages = h.store.dump().filter(([k]) => k[1] === keyKind.dedupPage);
    expect(pages).toHaveLength(1);
    for (const [key, value] of pages) {
      h.store.del(key);
      for (const e of decodeDedupPage(value)) h.store.put(dedupKey(1, e.seq), encodeDedup(e.record));
    }
    await h.restart({ dedupKeysMax: 2 });
    const legacy = h.store.dump().filter(([k]) => k[1] === keyKind.dedup);
    expect(legacy).toHaveLength(1);
    expect(h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('a') }], producerKey: { producerId: 'p', sequence: 1 } })).toEqual({ ...first, duplicate: true });
    // Two newer keys evict it: its own key goes.
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('b') }], producerKey: { producerId: 'p', sequence: 2 } });
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('c') }], producerKey: { producerId: 'p', sequence: 3 } });
    expect(h.store.dump().filter(([k]) => k[1] === keyKind.dedup)).toHaveLength(0);
    expect(h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('a') }], producerKey: { producerId: 'p', sequence: 1 } })).toMatchObject({ duplicate: false });
  });

  it('evicts the oldest key when the per-queue bound is reached', () => {
    const h = Harness.with({ dedupKeysMax: 2 });
    h.ok({ type: 'createQueue', queue: 'q' });
    const send = (k: string) => h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8(k) }], producerKey: { idempotencyKey: k } });
    send('k1');
    send('k2');
    send('k3');
    expect(send('k3')).toMatchObject({ duplicate: true });
    expect(send('k2')).toMatchObject({ duplicate: true });
    expect(send('k1')).toMatchObject({ duplicate: false });
  });
});

describe('expire and time', () => {
  it('drops messages past retention and expired dedup keys', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { retentionMs: 60_000 } });
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('a') }], producerKey: { idempotencyKey: 'k' } });
    enqueue(h, 'q', 'b');
    h.nowMs += 30_000;
    expect(h.sm.getQueue('q')!.stats.visible).toBe(2);
    enqueue(h, 'q', 'c');
    expect(h.sm.getQueue('q')!.stats.oldestMessageAgeMs).toBe(30_000);
    h.nowMs += 30_000;
    expect(h.ok({ type: 'expire' })).toEqual({ ok: true, type: 'expire', expiredMessages: 2, expiredDedupKeys: 0 });
    h.nowMs += dedupWindowMs;
    expect(h.ok({ type: 'expire' })).toEqual({ ok: true, type: 'expire', expiredMessages: 1, expiredDedupKeys: 1 });
  });

  it('never delivers a message past retention, even before an expire', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { retentionMs: 60_000 } });
    enqueue(h, 'q', 'a');
    h.nowMs += 60_000;
    expect(h.receive('q')).toEqual([]);
  });

  it('keeps time monotonic when a later entry carries an earlier stamp', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 1000 } });
    enqueue(h, 'q', 'a');
    h.receive('q');
    h.nowMs += 1000;
    expect(h.sm.clockMs).toBe(t0Ms);
    h.receive('q');
    h.nowMs -= 5000; // a new leader with a slower clock
    expect(h.receive('q')).toEqual([]);
    expect(h.sm.clockMs).toBe(t0Ms + 1000);
  });

  it('asserts that entry indexes increase', () => {
    const sm = new QueueStateMachine();
    sm.apply({ type: 'expire' }, { index: 5, nowMs: t0Ms }, new WriteBatch());
    expect(() => sm.apply({ type: 'expire' }, { index: 5, nowMs: t0Ms }, new WriteBatch())).toThrow(/apply index/);
  });
});

describe('load', () => {
  it('rebuilds in-flight, delayed, FIFO and dedup state from the keyspace', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 1000 } });
    h.ok({ type: 'createQueue', queue: 'f.fifo' });
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('a') }, { body: utf8('b'), delayMs: 3000 }, { body: utf8('c') }], producerKey: { idempotencyKey: 'k' } });
    h.ok({ type: 'enqueue', queue: 'f.fifo', messages: [{ body: utf8('x'), groupId: 'g' }, { body: utf8('y'), groupId: 'g' }] });
    const [d] = h.receive('q', 1);
    h.receive('f.fifo');
    const before = h.sm.listQueues();
    await h.restart();
    expect(h.sm.listQueues()).toEqual(before);
    expect(h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('a') }], producerKey: { idempotencyKey: 'k' } })).toMatchObject({ duplicate: true });
    expect(h.receive('f.fifo')).toEqual([]);
    expect(h.ok({ type: 'ack', queue: 'q', receipts: [d!.receipt] })).toMatchObject({ outcomes: ['deleted'] });
    h.nowMs += 3000;
    expect(h.receive('q').map((m) => m.offset)).toEqual([1, 2]);
  });
});

describe('nextVisibleAtMs (the long polls\' wake-up hint)', () => {
  it('is the earliest lease or delay end, Infinity without one, and never later than the truth', () => {
    const h = new Harness();
    expect(h.sm.nextVisibleAtMs('q')).toBe(Infinity);
    h.ok({ type: 'createQueue', queue: 'q' });
    enqueue(h, 'q', 'a', 'b');
    expect(h.sm.nextVisibleAtMs('q')).toBe(Infinity);
    h.ok({ type: 'receive', queue: 'q', max: 1, visibilityTimeoutMs: 1000 });
    expect(h.sm.nextVisibleAtMs('q')).toBe(t0Ms + 1000);
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('c'), delayMs: 400 }] }, 100);
    expect(h.sm.nextVisibleAtMs('q')).toBe(t0Ms + 500);
    // Due: the next entry makes the delayed message visible and the hint moves to the lease.
    h.ok({ type: 'receive', queue: 'q', max: 2 }, 400);
    expect(h.sm.nextVisibleAtMs('q')).toBeGreaterThan(t0Ms + 500);
    expect(h.sm.nextVisibleAtMs('q')).toBeLessThanOrEqual(t0Ms + 1000);
    expect(h.sm.nextVisibleAtMs('absent')).toBe(Infinity);
  });
});
