import { describe, expect, it } from 'vitest';
import { checkFifo } from '../../jepsen-like/checkers/fifo-checker.js';
import { checkLinearizableQueue, type QueueOp } from '../../jepsen-like/checkers/linearizability.js';
import { checkDedup } from '../../jepsen-like/checkers/dedup-checker.js';
import { checkQueue } from '../../jepsen-like/checkers/queue-checker.js';
import type { Delivery, HistoryOp } from '../../jepsen-like/history.js';
import { runValid } from '../../jepsen-like/verdict.js';
import { dedupWindowMs } from '../../src/queue/limits.js';

/** Builds histories by hand: each call adds an invoke and (optionally) its completion. */
class H {
  readonly ops: HistoryOp[] = [];
  op(
    p: number,
    f: 'enqueue' | 'receive' | 'ack' | 'nack',
    t0: number,
    t1: number | undefined,
    outcome: 'ok' | 'fail' | 'info',
    extra: { value?: string | Delivery[]; groupId?: string; vis?: number; receipt?: string; max?: number; key?: string; messageId?: string } = {},
  ): this {
    const inv: HistoryOp = {
      index: this.ops.length,
      process: p,
      type: 'invoke',
      f,
      queue: 'q',
      time: t0,
      mono: t0,
      phase: 'main',
      ...(typeof extra.value === 'string' ? { value: extra.value } : {}),
      ...(extra.groupId !== undefined ? { groupId: extra.groupId } : {}),
      ...(extra.vis !== undefined ? { visibilityTimeoutMs: extra.vis } : {}),
      ...(extra.receipt !== undefined ? { receipt: extra.receipt } : {}),
      ...(extra.max !== undefined ? { max: extra.max } : {}),
      ...(extra.key !== undefined ? { key: extra.key } : {}),
    };
    this.ops.push(inv);
    if (t1 !== undefined) {
      this.ops.push({ ...inv, index: this.ops.length, type: outcome, time: t1, mono: t1, invokeIndex: inv.index, ...(extra.value !== undefined ? { value: extra.value } : {}), ...(extra.messageId !== undefined ? { messageId: extra.messageId } : {}) });
    }
    return this;
  }
}

const d = (value: string, receiveCount = 1): Delivery => ({ value, receipt: `r-${value}-${receiveCount}`, receiveCount });
/** No witness of what unknown receives hold: no loss is excused. */
const noWitness = {};

describe('total-queue checker', () => {
  it('accepts a history where every acknowledged enqueue is received', () => {
    const h = new H().op(1, 'enqueue', 0, 5, 'ok', { value: 'a' }).op(2, 'receive', 6, 9, 'ok', { value: [d('a')], vis: 1000 }).op(2, 'ack', 10, 12, 'ok', { value: 'a' });
    const r = checkQueue(h.ops, noWitness);
    expect(r.valid).toBe(true);
    expect(r.acknowledged).toBe(1);
  });

  it('reports an acknowledged enqueue that is never received as lost', () => {
    const r = checkQueue(new H().op(1, 'enqueue', 0, 5, 'ok', { value: 'a' }).ops, noWitness);
    expect(r.valid).toBe(false);
    expect(r.lost).toBe(1);
    expect(r.lostValues).toEqual(['a']);
  });

  it('does not excuse a lost message by a timed-out receive unless a witness names that receive', () => {
    // Index 2 is the receive's invoke: enqueue invoke 0, ok 1, receive invoke 2, info 3.
    const h = new H().op(1, 'enqueue', 0, 5, 'ok', { value: 'a' }).op(2, 'receive', 6, 9, 'info', { vis: 1_000_000, max: 1 });
    const unexplained = checkQueue(h.ops, noWitness);
    expect(unexplained.lost).toBe(1);
    expect(unexplained.lostPossiblyHeld).toBe(0);
    expect(unexplained.valid).toBe(false);
    const r = checkQueue(h.ops, { ...noWitness, heldBy: new Map([['a', 2]]) });
    expect(r.lostPossiblyHeld).toBe(1);
    expect(r.lostExcused).toEqual([{ value: 'a', by: { index: 2, process: 2, f: 'receive' } }]);
    expect(r.valid).toBe(true);
  });

  it('rejects a witness that names a receive which cannot hold the message at the end', () => {
    const h = new H()
      .op(1, 'enqueue', 0, 5, 'ok', { value: 'a' }) // 0, 1
      .op(1, 'enqueue', 6, 7, 'ok', { value: 'b' }) // 2, 3
      .op(2, 'receive', 8, 9, 'info', { vis: 1, max: 1 }) // 4, 5: its lease ended long before the run did
      .op(3, 'receive', 10, 11, 'ok', { value: [], vis: 1_000_000, max: 1 }) // 6, 7: known outcome
      .op(4, 'receive', 12, 13, 'info', { vis: 1_000_000, max: 1 }) // 8, 9
      .op(5, 'receive', 100, 101, 'ok', { value: [], vis: 1 });
    for (const index of [4, 6, 0, 99]) {
      const r = checkQueue(h.ops, { ...noWitness, heldBy: new Map([['a', index]]) });
      expect(r.lostPossiblyHeld, `witness #${index}`).toBe(0);
      expect(r.valid).toBe(false);
    }
    // One receive of max 1 holds one message: naming it for both leaves one unexplained.
    const both = checkQueue(h.ops, { ...noWitness, heldBy: new Map([['a', 8], ['b', 8]]) });
    expect(both.lostPossiblyHeld).toBe(1);
    expect(both.valid).toBe(false);
  });

  it('judges a keyed enqueue by its key: a retry acknowledged as a duplicate is delivered as the first attempt', () => {
    const delivered = new H()
      .op(1, 'enqueue', 0, 5, 'info', { value: 'a', key: 'k' })
      .op(1, 'enqueue', 6, 7, 'ok', { value: 'a/r1', key: 'k', messageId: 'm1' })
      .op(2, 'receive', 8, 9, 'ok', { value: [d('a')], vis: 1000 });
    const r = checkQueue(delivered.ops, noWitness);
    expect(r.lost).toBe(0);
    expect(r.valid).toBe(true);
    const missing = new H().op(1, 'enqueue', 0, 5, 'info', { value: 'a', key: 'k' }).op(1, 'enqueue', 6, 7, 'ok', { value: 'a/r1', key: 'k', messageId: 'm1' });
    expect(checkQueue(missing.ops, noWitness).lost).toBe(1);
  });

  it('matches a delivery to an acknowledged enqueue by id and body: an id reused after a power loss rolled the log back does not hide a loss', () => {
    // 'a' was acknowledged as message 7-0, then every node lost that entry; the log grew again
    // from index 7, and 'b' became a second message 7-0.
    const h = new H()
      .op(1, 'enqueue', 0, 5, 'ok', { value: 'a', messageId: '7-0' })
      .op(1, 'enqueue', 10, 15, 'ok', { value: 'b', messageId: '7-0' })
      .op(2, 'receive', 16, 17, 'ok', { value: [{ ...d('b'), id: '7-0' }], vis: 1000 });
    const r = checkQueue(h.ops, noWitness);
    expect(r.lostValues).toEqual(['a']);
    expect(r.valid).toBe(false);
  });

  it('reports values nobody enqueued as unexpected, and counts recovered unknown enqueues', () => {
    const h = new H().op(1, 'enqueue', 0, 5, 'info', { value: 'b' }).op(2, 'receive', 6, 9, 'ok', { value: [d('b'), d('zzz')], vis: 1000 });
    const r = checkQueue(h.ops, noWitness);
    expect(r.unexpected).toBe(1);
    expect(r.recovered).toBe(1);
    expect(r.valid).toBe(false);
  });

  it('reports a mangled body that spells another enqueued value, delivered under the id of the message it damaged, as unexpected', () => {
    // A bit flip turned message m1's body 'w1-12' into 'w1-13', the body of m2. The intact 'w1-12'
    // and the real 'w1-13' arrive later (from healthy replicas, after the first lease ended): no
    // loss, and 'w1-13' looks like an expected redelivery. Only the id gives the damage away.
    const h = new H()
      .op(1, 'enqueue', 0, 2, 'ok', { value: 'w1-12', messageId: 'm1' })
      .op(1, 'enqueue', 3, 5, 'ok', { value: 'w1-13', messageId: 'm2' })
      .op(2, 'receive', 6, 9, 'ok', { value: [{ ...d('w1-13'), id: 'm1' }], vis: 10 })
      .op(3, 'receive', 100, 105, 'ok', { value: [{ ...d('w1-12', 2), id: 'm1' }, { ...d('w1-13', 2), id: 'm2' }], vis: 10 });
    const r = checkQueue(h.ops, noWitness);
    expect(r.lost).toBe(0);
    expect(r.unexpected).toBe(1);
    expect(r.examples.join('\n')).toContain('unexpected: w1-13 was received as message m1 by receive #4 by worker 2, but m1 is the id the cluster gave to w1-12 (enqueue #0 by worker 1)');
    expect(r.valid).toBe(false);
  });

  it('accepts every body of a keyed message under its id: the attempts of one key are one message', () => {
    const h = new H()
      .op(1, 'enqueue', 0, 5, 'info', { value: 'k', key: 'k' })
      .op(1, 'enqueue', 6, 7, 'ok', { value: 'k/r1', key: 'k', messageId: 'm1' })
      .op(2, 'receive', 8, 9, 'ok', { value: [{ ...d('k'), id: 'm1' }], vis: 1000 });
    const r = checkQueue(h.ops, noWitness);
    expect(r.unexpected).toBe(0);
    expect(r.valid).toBe(true);
  });

  it('flags a definitely failed enqueue whose value shows up', () => {
    const h = new H().op(1, 'enqueue', 0, 5, 'fail', { value: 'c' }).op(2, 'receive', 6, 9, 'ok', { value: [d('c')], vis: 1000 });
    expect(checkQueue(h.ops, noWitness).failedButPresent).toBe(1);
  });

  it('flags a delivery by a receive invoked after the ack completed', () => {
    const h = new H()
      .op(1, 'enqueue', 0, 5, 'ok', { value: 'a' })
      .op(2, 'receive', 6, 9, 'ok', { value: [d('a')], vis: 10 })
      .op(2, 'ack', 10, 12, 'ok', { value: 'a' })
      .op(3, 'receive', 100, 105, 'ok', { value: [d('a', 2)], vis: 10 });
    const r = checkQueue(h.ops, noWitness);
    expect(r.ackViolations).toBe(1);
    expect(r.valid).toBe(false);
  });

  it('classifies a redelivery after the lease as expected and one within it as a double delivery', () => {
    const expected = new H().op(1, 'enqueue', 0, 1, 'ok', { value: 'a' }).op(2, 'receive', 2, 3, 'ok', { value: [d('a')], vis: 100 }).op(3, 'receive', 150, 160, 'ok', { value: [d('a', 2)], vis: 100 });
    const r1 = checkQueue(expected.ops, noWitness);
    expect(r1.expectedRedeliveries).toBe(1);
    expect(r1.doubleDeliveries).toBe(0);
    expect(r1.valid).toBe(true);
    const double = new H().op(1, 'enqueue', 0, 1, 'ok', { value: 'a' }).op(2, 'receive', 2, 3, 'ok', { value: [d('a')], vis: 100 }).op(3, 'receive', 10, 20, 'ok', { value: [d('a', 2)], vis: 100 });
    const r2 = checkQueue(double.ops, noWitness);
    expect(r2.doubleDeliveries).toBe(1);
    expect(r2.valid).toBe(false);
    // A nack in between makes the early redelivery legitimate.
    const nacked = new H().op(1, 'enqueue', 0, 1, 'ok', { value: 'a' }).op(2, 'receive', 2, 3, 'ok', { value: [d('a')], vis: 100 }).op(2, 'nack', 4, 6, 'ok', { value: 'a', receipt: 'r-a-1' }).op(3, 'receive', 10, 20, 'ok', { value: [d('a', 2)], vis: 100 });
    expect(checkQueue(nacked.ops, noWitness).doubleDeliveries).toBe(0);
  });

  it('names what explains each redelivery: the nack (by index) or the earlier receive whose lease ended', () => {
    const h = new H()
      .op(1, 'enqueue', 0, 1, 'ok', { value: 'a' }) // 0, 1
      .op(2, 'receive', 2, 3, 'ok', { value: [d('a')], vis: 100 }) // 2, 3
      .op(2, 'nack', 4, 6, 'ok', { value: 'a', receipt: 'r-a-1' }) // 4, 5
      .op(3, 'receive', 10, 20, 'ok', { value: [d('a', 2)], vis: 100 }) // 6, 7
      .op(4, 'receive', 200, 210, 'ok', { value: [d('a', 3)], vis: 100 }); // 8, 9
    const r = checkQueue(h.ops, noWitness);
    expect(r.redeliveries).toEqual([
      { value: 'a', delivery: { index: 6, process: 3, f: 'receive' }, cause: 'nack', by: { index: 4, process: 2, f: 'nack' } },
      { value: 'a', delivery: { index: 8, process: 4, f: 'receive' }, cause: 'lease-expired', by: { index: 6, process: 3, f: 'receive' } },
    ]);
  });

  it('does not let a failed nack, or a nack of another receipt, excuse a double delivery; a nack of unknown outcome does, named', () => {
    const base = (): H => new H().op(1, 'enqueue', 0, 1, 'ok', { value: 'a' }).op(2, 'receive', 2, 3, 'ok', { value: [d('a')], vis: 100 });
    const failed = base().op(2, 'nack', 4, 6, 'fail', { value: 'a', receipt: 'r-a-1' }).op(3, 'receive', 10, 20, 'ok', { value: [d('a', 2)], vis: 100 });
    const f = checkQueue(failed.ops, noWitness);
    expect(f.doubleDeliveries).toBe(1);
    expect(f.valid).toBe(false);
    // A nack whose outcome is unknown may have applied (the client cannot tell: a retry after a
    // lost connection finds the receipt stale once the message went out again).
    const unknown = base().op(2, 'nack', 4, 6, 'info', { value: 'a', receipt: 'r-a-1' }).op(3, 'receive', 10, 20, 'ok', { value: [d('a', 2)], vis: 100 });
    const u = checkQueue(unknown.ops, noWitness);
    expect(u.doubleDeliveries).toBe(0);
    expect(u.redeliveries).toEqual([{ value: 'a', delivery: { index: 6, process: 3, f: 'receive' }, cause: 'nack-unknown', by: { index: 4, process: 2, f: 'nack' } }]);
    // ...but only if it was invoked before the redelivery completed.
    const late = base().op(3, 'receive', 10, 20, 'ok', { value: [d('a', 2)], vis: 100 }).op(2, 'nack', 21, 22, 'info', { value: 'a', receipt: 'r-a-1' });
    expect(checkQueue(late.ops, noWitness).doubleDeliveries).toBe(1);
    const other = base().op(2, 'nack', 4, 6, 'ok', { value: 'a', receipt: 'r-a-0' }).op(3, 'receive', 10, 20, 'ok', { value: [d('a', 2)], vis: 100 });
    expect(checkQueue(other.ops, noWitness).doubleDeliveries).toBe(1);
  });
});

describe('dedup checker', () => {
  it('flags two enqueues of one key acknowledged as different messages, naming both', () => {
    const miss = new H().op(1, 'enqueue', 0, 5, 'ok', { value: 'a', key: 'k', messageId: 'm1' }).op(1, 'enqueue', 6, 7, 'ok', { value: 'a/r1', key: 'k', messageId: 'm2' });
    const r = checkDedup(miss.ops);
    expect(r.valid).toBe(false);
    expect(r.misses).toEqual([{ key: 'k', kind: 'acknowledged-twice', first: { index: 0, process: 1, f: 'enqueue' }, second: { index: 2, process: 1, f: 'enqueue' } }]);
    const hit = new H().op(1, 'enqueue', 0, 5, 'ok', { value: 'a', key: 'k', messageId: 'm1' }).op(1, 'enqueue', 6, 7, 'ok', { value: 'a/r1', key: 'k', messageId: 'm1' });
    expect(checkDedup(hit.ops).valid).toBe(true);
    expect(checkDedup(hit.ops).keys).toBe(1);
  });

  it('flags two values of one key that were both delivered', () => {
    const miss = new H()
      .op(1, 'enqueue', 0, 5, 'info', { value: 'a', key: 'k' })
      .op(1, 'enqueue', 6, 7, 'ok', { value: 'a/r1', key: 'k', messageId: 'm2' })
      .op(2, 'receive', 8, 9, 'ok', { value: [d('a'), d('a/r1')], vis: 1000 });
    const r = checkDedup(miss.ops);
    expect(r.valid).toBe(false);
    expect(r.misses[0]).toMatchObject({ key: 'k', kind: 'delivered-twice', first: { index: 0 }, second: { index: 2 } });
    const once = new H()
      .op(1, 'enqueue', 0, 5, 'info', { value: 'a', key: 'k' })
      .op(1, 'enqueue', 6, 7, 'ok', { value: 'a/r1', key: 'k', messageId: 'm2' })
      .op(2, 'receive', 8, 9, 'ok', { value: [d('a/r1')], vis: 1000 });
    expect(checkDedup(once.ops).valid).toBe(true);
  });

  it('does not flag two messages of one key beyond the dedup window', () => {
    const late = dedupWindowMs + 10;
    const h = new H().op(1, 'enqueue', 0, 5, 'ok', { value: 'a', key: 'k', messageId: 'm1' }).op(1, 'enqueue', late, late + 1, 'ok', { value: 'a/r1', key: 'k', messageId: 'm2' });
    expect(checkDedup(h.ops).valid).toBe(true);
  });
});

describe('run verdict', () => {
  const fine = { queue: { valid: true }, fifo: { valid: true }, dedup: { valid: true }, linearizable: { valid: true as const }, drainComplete: true, nodeCrashes: 0 };
  it('passes a run only when every check decided it valid: an undecided linearizability search fails it', () => {
    expect(runValid(fine)).toBe(true);
    expect(runValid({ ...fine, linearizable: { valid: 'unknown' } })).toBe(false);
    expect(runValid({ ...fine, linearizable: { valid: false } })).toBe(false);
    expect(runValid({ ...fine, dedup: { valid: false } })).toBe(false);
    expect(runValid({ ...fine, linearizable: undefined, fifo: undefined })).toBe(true);
  });
});

describe('FIFO checker', () => {
  it('accepts in-order first deliveries per group and flags a message overtaking an earlier one', () => {
    const ok = new H()
      .op(1, 'enqueue', 0, 1, 'ok', { value: 'g1-1', groupId: 'g1' })
      .op(1, 'enqueue', 2, 3, 'ok', { value: 'g1-2', groupId: 'g1' })
      .op(2, 'receive', 4, 5, 'ok', { value: [d('g1-1')] })
      .op(2, 'receive', 6, 7, 'ok', { value: [d('g1-2')] });
    expect(checkFifo(ok.ops).valid).toBe(true);
    const bad = new H()
      .op(1, 'enqueue', 0, 1, 'ok', { value: 'g1-1', groupId: 'g1' })
      .op(1, 'enqueue', 2, 3, 'ok', { value: 'g1-2', groupId: 'g1' })
      .op(2, 'receive', 4, 5, 'ok', { value: [d('g1-2')] })
      .op(2, 'receive', 6, 7, 'ok', { value: [d('g1-1')] });
    const r = checkFifo(bad.ops);
    expect(r.valid).toBe(false);
    expect(r.orderViolations).toBe(1);
  });

  it('accepts several messages of a group in one receive in order, and flags one returned out of order', () => {
    const sent = (h: H): H =>
      h
        .op(1, 'enqueue', 0, 1, 'ok', { value: 'g1-1', groupId: 'g1' })
        .op(1, 'enqueue', 2, 3, 'ok', { value: 'g1-2', groupId: 'g1' })
        .op(1, 'enqueue', 4, 5, 'ok', { value: 'g1-3', groupId: 'g1' });
    // A batch, then a redelivery of the whole group after the leases ended: fine.
    const ok = sent(new H())
      .op(2, 'receive', 6, 7, 'ok', { value: [d('g1-1'), d('g1-2')] })
      .op(2, 'receive', 8, 9, 'ok', { value: [d('g1-1', 2), d('g1-2', 2), d('g1-3')] });
    expect(checkFifo(ok.ops).valid).toBe(true);
    const bad = sent(new H()).op(2, 'receive', 6, 7, 'ok', { value: [d('g1-2'), d('g1-1'), d('g1-3')] });
    expect(checkFifo(bad.ops)).toMatchObject({ valid: false, orderViolations: 1 });
  });
});

describe('linearizability checker (WGL over a FIFO queue)', () => {
  let id = 0;
  const op = (kind: 'enqueue' | 'dequeue', value: string | null | undefined, call: number, ret: number | undefined): QueueOp => ({
    id: id++,
    kind,
    value,
    call,
    ret: ret ?? Number.POSITIVE_INFINITY,
    unknown: ret === undefined,
  });

  it('accepts a sequential FIFO history and concurrent enqueues dequeued in either order', () => {
    expect(checkLinearizableQueue([op('enqueue', 'a', 0, 1), op('enqueue', 'b', 2, 3), op('dequeue', 'a', 4, 5), op('dequeue', 'b', 6, 7), op('dequeue', null, 8, 9)]).valid).toBe(true);
    expect(checkLinearizableQueue([op('enqueue', 'a', 0, 10), op('enqueue', 'b', 1, 10), op('dequeue', 'b', 11, 12), op('dequeue', 'a', 13, 14)]).valid).toBe(true);
  });

  it('rejects a dequeue out of FIFO order, a value never enqueued, and an empty dequeue of a full queue', () => {
    expect(checkLinearizableQueue([op('enqueue', 'a', 0, 1), op('enqueue', 'b', 2, 3), op('dequeue', 'b', 4, 5)]).valid).toBe(false);
    expect(checkLinearizableQueue([op('dequeue', 'x', 0, 1)]).valid).toBe(false);
    expect(checkLinearizableQueue([op('enqueue', 'a', 0, 1), op('dequeue', null, 2, 3)]).valid).toBe(false);
  });

  it('rejects a stale read: a value dequeued twice', () => {
    expect(checkLinearizableQueue([op('enqueue', 'a', 0, 1), op('dequeue', 'a', 2, 3), op('dequeue', 'a', 4, 5)]).valid).toBe(false);
  });

  it('lets an unknown enqueue take effect late or never', () => {
    expect(checkLinearizableQueue([op('enqueue', 'a', 0, undefined), op('dequeue', null, 1, 2), op('dequeue', 'a', 5, 6)]).valid).toBe(true);
    expect(checkLinearizableQueue([op('enqueue', 'a', 0, undefined), op('dequeue', null, 1, 2)]).valid).toBe(true);
  });

  it('names, as its witness, the value each unknown dequeue took', () => {
    const ops = [op('enqueue', 'a', 0, 1), op('enqueue', 'b', 2, 3), { ...op('dequeue', undefined, 4, undefined), index: 17 }, op('dequeue', 'b', 10, 11), op('dequeue', null, 12, 13)];
    const r = checkLinearizableQueue(ops);
    expect(r.valid).toBe(true);
    expect(r.held).toEqual([{ value: 'a', index: 17 }]);
  });

  it('decides a history full of unknown enqueues nobody observed within a small budget', () => {
    // Timed-out enqueues whose values never show up: each could be placed at any later point,
    // which used to multiply the search until it gave up.
    const ops: QueueOp[] = [];
    for (let i = 0; i < 8; i++) ops.push(op('enqueue', `lost-${i}`, i, undefined));
    for (let i = 0; i < 30; i++) ops.push(op('enqueue', `v${i}`, 10 + 4 * i, 11 + 4 * i), op('dequeue', `v${i}`, 12 + 4 * i, 13 + 4 * i));
    ops.push(op('dequeue', null, 500, 501));
    const r = checkLinearizableQueue(ops, 5000);
    expect(r.valid).toBe(true);
    // They cannot rescue a wrong history either.
    expect(checkLinearizableQueue([...ops, op('dequeue', 'v3', 600, 601)], 5000).valid).toBe(false);
  });

  it('answers unknown instead of hanging when the search budget runs out', () => {
    const ops: QueueOp[] = [];
    for (let i = 0; i < 12; i++) ops.push(op('enqueue', `v${i}`, 0, 100));
    for (let i = 0; i < 12; i++) ops.push(op('dequeue', `v${11 - i}`, 101 + i, 101 + i + 0.5));
    const r = checkLinearizableQueue(ops, 50);
    expect(r.valid).toBe('unknown');
  });
});
