import { describe, expect, it } from 'vitest';
import { checkFifo } from '../../jepsen-like/checkers/fifo-checker.js';
import { checkLinearizableQueue, type QueueOp } from '../../jepsen-like/checkers/linearizability.js';
import { checkQueue } from '../../jepsen-like/checkers/queue-checker.js';
import type { Delivery, HistoryOp } from '../../jepsen-like/history.js';

/** Builds histories by hand: each call adds an invoke and (optionally) its completion. */
class H {
  readonly ops: HistoryOp[] = [];
  op(p: number, f: 'enqueue' | 'receive' | 'ack' | 'nack', t0: number, t1: number | undefined, outcome: 'ok' | 'fail' | 'info', extra: { value?: string | Delivery[]; groupId?: string; vis?: number } = {}): this {
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
    };
    this.ops.push(inv);
    if (t1 !== undefined) {
      this.ops.push({ ...inv, index: this.ops.length, type: outcome, time: t1, mono: t1, invokeIndex: inv.index, ...(extra.value !== undefined ? { value: extra.value } : {}) });
    }
    return this;
  }
}

const d = (value: string, receiveCount = 1): Delivery => ({ value, receipt: `r-${value}-${receiveCount}`, receiveCount });

describe('total-queue checker', () => {
  it('accepts a history where every acknowledged enqueue is received', () => {
    const h = new H().op(1, 'enqueue', 0, 5, 'ok', { value: 'a' }).op(2, 'receive', 6, 9, 'ok', { value: [d('a')], vis: 1000 }).op(2, 'ack', 10, 12, 'ok', { value: 'a' });
    const r = checkQueue(h.ops);
    expect(r.valid).toBe(true);
    expect(r.acknowledged).toBe(1);
  });

  it('reports an acknowledged enqueue that is never received as lost', () => {
    const r = checkQueue(new H().op(1, 'enqueue', 0, 5, 'ok', { value: 'a' }).ops);
    expect(r.valid).toBe(false);
    expect(r.lost).toBe(1);
    expect(r.lostValues).toEqual(['a']);
  });

  it('does not count as lost what a timed-out receive may still hold under a long lease', () => {
    const h = new H().op(1, 'enqueue', 0, 5, 'ok', { value: 'a' }).op(2, 'receive', 6, 9, 'info', { vis: 1_000_000 });
    const r = checkQueue(h.ops);
    expect(r.lost).toBe(1);
    expect(r.lostPossiblyHeld).toBe(1);
    expect(r.valid).toBe(true);
    // With a short lease the message must have come back by the end: lost stays a violation.
    const short = new H().op(1, 'enqueue', 0, 5, 'ok', { value: 'a' }).op(2, 'receive', 6, 9, 'info', { vis: 1 }).op(3, 'receive', 100, 101, 'ok', { value: [] });
    expect(checkQueue(short.ops).valid).toBe(false);
  });

  it('reports values nobody enqueued as unexpected, and counts recovered unknown enqueues', () => {
    const h = new H().op(1, 'enqueue', 0, 5, 'info', { value: 'b' }).op(2, 'receive', 6, 9, 'ok', { value: [d('b'), d('zzz')], vis: 1000 });
    const r = checkQueue(h.ops);
    expect(r.unexpected).toBe(1);
    expect(r.recovered).toBe(1);
    expect(r.valid).toBe(false);
  });

  it('flags a definitely failed enqueue whose value shows up', () => {
    const h = new H().op(1, 'enqueue', 0, 5, 'fail', { value: 'c' }).op(2, 'receive', 6, 9, 'ok', { value: [d('c')], vis: 1000 });
    expect(checkQueue(h.ops).failedButPresent).toBe(1);
  });

  it('flags a delivery by a receive invoked after the ack completed', () => {
    const h = new H()
      .op(1, 'enqueue', 0, 5, 'ok', { value: 'a' })
      .op(2, 'receive', 6, 9, 'ok', { value: [d('a')], vis: 10 })
      .op(2, 'ack', 10, 12, 'ok', { value: 'a' })
      .op(3, 'receive', 100, 105, 'ok', { value: [d('a', 2)], vis: 10 });
    const r = checkQueue(h.ops);
    expect(r.ackViolations).toBe(1);
    expect(r.valid).toBe(false);
  });

  it('classifies a redelivery after the lease as expected and one within it as a double delivery', () => {
    const expected = new H().op(1, 'enqueue', 0, 1, 'ok', { value: 'a' }).op(2, 'receive', 2, 3, 'ok', { value: [d('a')], vis: 100 }).op(3, 'receive', 150, 160, 'ok', { value: [d('a', 2)], vis: 100 });
    const r1 = checkQueue(expected.ops);
    expect(r1.expectedRedeliveries).toBe(1);
    expect(r1.doubleDeliveries).toBe(0);
    expect(r1.valid).toBe(true);
    const double = new H().op(1, 'enqueue', 0, 1, 'ok', { value: 'a' }).op(2, 'receive', 2, 3, 'ok', { value: [d('a')], vis: 100 }).op(3, 'receive', 10, 20, 'ok', { value: [d('a', 2)], vis: 100 });
    const r2 = checkQueue(double.ops);
    expect(r2.doubleDeliveries).toBe(1);
    expect(r2.valid).toBe(false);
    // A nack in between makes the early redelivery legitimate.
    const nacked = new H().op(1, 'enqueue', 0, 1, 'ok', { value: 'a' }).op(2, 'receive', 2, 3, 'ok', { value: [d('a')], vis: 100 }).op(2, 'nack', 4, 6, 'ok', { value: 'a' }).op(3, 'receive', 10, 20, 'ok', { value: [d('a', 2)], vis: 100 });
    expect(checkQueue(nacked.ops).doubleDeliveries).toBe(0);
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

  it('answers unknown instead of hanging when the search budget runs out', () => {
    const ops: QueueOp[] = [];
    for (let i = 0; i < 12; i++) ops.push(op('enqueue', `v${i}`, 0, 100));
    for (let i = 0; i < 12; i++) ops.push(op('dequeue', `v${11 - i}`, 101 + i, 101 + i + 0.5));
    const r = checkLinearizableQueue(ops, 50);
    expect(r.valid).toBe('unknown');
  });
});
