/**
 * FIFO receives as Amazon SQS does them: a receive of max N delivers, group after group in the
 * order of their head offsets, consecutive visible messages of each group from its head, up to N
 * in all; a group with any message in flight (leased, lease not over) delivers nothing, even when
 * its head is visible again. The rule holds across every path that changes a group's in-flight
 * messages: delivery, ack, lease expiry, changeVisibility, dead-lettering, purge, delete,
 * redrive and a restart.
 */
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/queue/commands.js';
import { Harness, utf8 } from './harness.js';

/** Enqueues messages `groupId:body` (e.g. 'a:a1') to a FIFO queue, in one entry. */
function send(h: Harness, queue: string, ...items: string[]): void {
  h.ok({
    type: 'enqueue',
    queue,
    messages: items.map((item) => {
      const [groupId, body] = item.split(':') as [string, string];
      return { body: utf8(body), groupId };
    }),
  });
}

/** `group@offset` of each delivery. */
function seen(ds: readonly Delivery[]): string[] {
  return ds.map((d) => `${d.groupId}@${d.offset}`);
}

function ack(h: Harness, queue: string, ds: readonly Delivery[]): void {
  h.ok({ type: 'ack', queue, receipts: ds.map((d) => d.receipt) });
}

function setVisibility(h: Harness, queue: string, d: Delivery, visibilityTimeoutMs: number): void {
  h.ok({ type: 'changeVisibility', queue, receipt: d.receipt, visibilityTimeoutMs });
}

describe('FIFO receive: several messages of a group in one receive', () => {
  it('a receive of 10 from one group gets its first 10 in order; the group is blocked until all are settled', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 1000 } });
    send(h, 'f.fifo', ...Array.from({ length: 12 }, (_, i) => `g:m${i}`));
    const first = h.receive('f.fifo', 10);
    expect(first.map((d) => d.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(h.receive('f.fifo', 10)).toEqual([]);
    // Settling all but the last still leaves one in flight: blocked.
    ack(h, 'f.fifo', first.slice(0, 9));
    expect(h.receive('f.fifo', 10)).toEqual([]);
    ack(h, 'f.fifo', first.slice(9));
    expect(h.receive('f.fifo', 10).map((d) => d.offset)).toEqual([10, 11]);
  });

  it('two groups: each group in turn, by head offset, until max', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 1000 } });
    send(h, 'f.fifo', 'a:a1', 'b:b1', 'a:a2', 'b:b2', 'a:a3', 'b:b3');
    expect(seen(h.receive('f.fifo', 4))).toEqual(['a@0', 'a@2', 'a@4', 'b@1']);
    // Both groups have a message in flight: nothing, not even b2.
    expect(h.receive('f.fifo', 10)).toEqual([]);
    h.nowMs += 1000;
    // Leases over: group a (head 0) again first, then group b from its head.
    expect(seen(h.receive('f.fifo', 10)).join(' ')).toBe('a@0 a@2 a@4 b@1 b@3 b@5');
  });

  it('a group blocked in flight is skipped; the next ready group is delivered', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 1000 } });
    send(h, 'f.fifo', 'a:a1', 'b:b1', 'a:a2', 'b:b2');
    expect(seen(h.receive('f.fifo', 1))).toEqual(['a@0']);
    expect(seen(h.receive('f.fifo', 10))).toEqual(['b@1', 'b@3']);
  });

  it('a group stays blocked while a later message is leased, even when its head is visible again', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 1000 } });
    send(h, 'f.fifo', 'g:m0', 'g:m1', 'g:m2');
    const [d0, d1] = h.receive('f.fifo', 2);
    setVisibility(h, 'f.fifo', d1!, 5000);
    // The head's own lease ends: it is visible, yet the group is blocked by m1.
    h.nowMs += 1000;
    expect(h.receive('f.fifo', 10)).toEqual([]);
    expect(h.sm.getQueue('f.fifo')!.stats).toMatchObject({ visible: 2, inFlight: 1 });
    // A nack of the head does not unblock either.
    const h2 = new Harness();
    h2.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 1000 } });
    send(h2, 'f.fifo', 'g:m0', 'g:m1', 'g:m2');
    const [e0] = h2.receive('f.fifo', 2);
    setVisibility(h2, 'f.fifo', e0!, 0);
    expect(h2.receive('f.fifo', 10)).toEqual([]);
    // Once nothing of the group is in flight it is ready again, from its head.
    h2.nowMs += 1000;
    expect(h2.receive('f.fifo', 10).map((d) => [d.offset, d.receiveCount])).toEqual([[0, 2], [1, 2], [2, 1]]);
    // Back to the first queue: m1's lease ends at +5000; then m0, m1, m2 again.
    h.nowMs += 3999;
    expect(h.receive('f.fifo', 10)).toEqual([]);
    h.nowMs += 1;
    expect(h.receive('f.fifo', 10).map((d) => [d.offset, d.receiveCount])).toEqual([[0, 2], [1, 2], [2, 1]]);
    void d0;
  });

  it('an ack of the head while a later one is leased keeps the group blocked; acking it unblocks', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 1000 } });
    send(h, 'f.fifo', 'g:m0', 'g:m1', 'g:m2');
    const [d0, d1] = h.receive('f.fifo', 2);
    ack(h, 'f.fifo', [d0!]);
    expect(h.receive('f.fifo', 10)).toEqual([]);
    ack(h, 'f.fifo', [d1!]);
    expect(h.receive('f.fifo', 10).map((d) => d.offset)).toEqual([2]);
  });

  it('visibility 0: every visible message of a group once per receive, none twice', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 0 } });
    send(h, 'f.fifo', 'a:a1', 'b:b1', 'a:a2');
    expect(seen(h.receive('f.fifo', 10))).toEqual(['a@0', 'a@2', 'b@1']);
    expect(seen(h.receive('f.fifo', 2))).toEqual(['a@0', 'a@2']);
  });

  it('stops at a delayed message: nothing of the group past it (queue delay changed in between)', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 1000 } });
    send(h, 'f.fifo', 'g:m0');
    h.ok({ type: 'setQueueAttributes', queue: 'f.fifo', attributes: { delayMs: 2000 } });
    send(h, 'f.fifo', 'g:m1');
    h.ok({ type: 'setQueueAttributes', queue: 'f.fifo', attributes: { delayMs: 0 } });
    send(h, 'f.fifo', 'g:m2', 'h:x');
    expect(seen(h.receive('f.fifo', 10))).toEqual(['g@0', 'h@3']);
    h.nowMs += 2000;
    // m0's lease is over and m1 is due: the group from its head.
    expect(seen(h.receive('f.fifo', 10))).toEqual(['g@0', 'g@1', 'g@2', 'h@3']);
  });

  it('dead-letters the head past maxReceiveCount and delivers the rest of the group in the same receive', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'dlq.fifo' });
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 0, maxReceiveCount: 1, deadLetterQueue: 'dlq.fifo' } });
    send(h, 'f.fifo', 'g:m0');
    expect(h.receive('f.fifo', 1).map((d) => d.offset)).toEqual([0]);
    send(h, 'f.fifo', 'g:m1', 'g:m2');
    const r = h.ok({ type: 'receive', queue: 'f.fifo', max: 10, visibilityTimeoutMs: 1000 });
    expect(r).toMatchObject({ deadLettered: 1 });
    expect(r.type === 'receive' ? r.messages.map((d) => d.offset) : []).toEqual([1, 2]);
    expect(h.receive('f.fifo', 10)).toEqual([]);
    expect(h.receive('dlq.fifo', 10).map((d) => d.groupId)).toEqual(['g']);
  });

  it('purge and delete forget in-flight messages: a new message of the group is delivered', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 10_000 } });
    send(h, 'f.fifo', 'g:m0', 'g:m1');
    h.receive('f.fifo', 1);
    h.ok({ type: 'purgeQueue', queue: 'f.fifo' });
    send(h, 'f.fifo', 'g:m2', 'g:m3');
    expect(h.receive('f.fifo', 10).map((d) => d.offset)).toEqual([2, 3]);
    h.ok({ type: 'deleteQueue', queue: 'f.fifo' });
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 10_000 } });
    send(h, 'f.fifo', 'g:m0');
    expect(h.receive('f.fifo', 10).map((d) => d.offset)).toEqual([0]);
  });

  it('redrive of in-flight messages out of a FIFO dead-letter queue unblocks their group there', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'dlq.fifo', attributes: { visibilityTimeoutMs: 10_000 } });
    h.ok({ type: 'createQueue', queue: 'dest.fifo', attributes: { visibilityTimeoutMs: 10_000 } });
    send(h, 'dlq.fifo', 'g:m0', 'g:m1');
    expect(h.receive('dlq.fifo', 1).map((d) => d.offset)).toEqual([0]);
    h.ok({ type: 'redrive', queue: 'dlq.fifo', destination: 'dest.fifo' });
    send(h, 'dlq.fifo', 'g:m2');
    expect(h.receive('dlq.fifo', 10).map((d) => d.offset)).toEqual([2]);
    expect(h.receive('dest.fifo', 10).map((d) => d.offset)).toEqual([0, 1]);
  });

  it('a restart keeps the blocking: in flight is rebuilt from the stored leases', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs: 1000 } });
    send(h, 'f.fifo', 'g:m0', 'g:m1', 'g:m2', 'h:x');
    const ds = h.receive('f.fifo', 2);
    setVisibility(h, 'f.fifo', ds[1]!, 5000);
    h.nowMs += 1000;
    // An entry at +1000 moves the state machine clock; then the restart.
    expect(seen(h.receive('f.fifo', 10))).toEqual(['h@3']);
    await h.restart();
    expect(h.receive('f.fifo', 10)).toEqual([]);
    // m1's lease ends at +5000 (x's at +2000): the group is ready again, from its head.
    h.nowMs += 4000;
    await h.restart();
    expect(seen(h.receive('f.fifo', 10))).toEqual(['g@0', 'g@1', 'g@2', 'h@3']);
  });
});
