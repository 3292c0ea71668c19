import { pairOps, type Delivery, type HistoryOp } from '../history.js';

/** Verdict of the total-queue and ack-safety checks. */
export interface QueueCheckResult {
  readonly valid: boolean;
  /** Enqueues acknowledged ok. */
  readonly acknowledged: number;
  /** Acknowledged enqueues never received, even after the final drain. Must be 0. */
  readonly lost: number;
  /**
   * Of the lost, how many receives with an unknown outcome could still be holding: a receive
   * that timed out may have taken messages whose lease outlives the run (long visibility
   * timeouts), so they never come back to the drain. The rest are unexplained.
   */
  readonly lostPossiblyHeld: number;
  readonly lostValues: readonly string[];
  /** Values received that no enqueue ever attempted. Must be 0. */
  readonly unexpected: number;
  /** Enqueues with unknown outcome (info) whose value was received: they did take effect. */
  readonly recovered: number;
  /** Enqueues that failed definitely but whose value was received anyway. Must be 0. */
  readonly failedButPresent: number;
  /** Values delivered more than once. */
  readonly duplicated: number;
  /** Redeliveries after the earlier delivery's visibility timeout or a nack: expected. */
  readonly expectedRedeliveries: number;
  /** Redeliveries while an earlier receipt was still valid (before its visibility deadline). */
  readonly doubleDeliveries: number;
  /** Deliveries that began after an ack of the same value had completed. Must be 0. */
  readonly ackViolations: number;
  readonly examples: readonly string[];
}

/**
 * The at-least-once queue checker. Every acknowledged enqueue must be received at some point
 * (the run ends with a heal and a drain); nothing may be received that was never enqueued; a
 * message whose ack succeeded must never be delivered by a receive invoked after that ack
 * completed. Duplicates are classified by whether the earlier delivery's lease had expired;
 * clock faults excuse nothing (cluster time does not follow a leader's wall clock: README
 * "Time and leases").
 */
export function checkQueue(ops: readonly HistoryOp[]): QueueCheckResult {
  const pairs = pairOps(ops);
  const enqueue = new Map<string, 'ok' | 'fail' | 'info'>();
  const deliveries = new Map<string, Array<{ invokeMono: number; doneMono: number; visibilityMs: number; receiveCount: number }>>();
  const acks = new Map<string, number>(); // value -> earliest ack completion (mono)
  const nacks = new Map<string, number[]>();
  const endMono = ops.length > 0 ? ops[ops.length - 1]!.mono : 0;
  // Messages that receives with unknown outcome may hold beyond the end of the run, per queue.
  const heldCapacity = new Map<string, number>();
  for (const { invoke, done } of pairs) {
    if (invoke.f === 'receive' && (done === undefined || done.type === 'info') && invoke.mono + (invoke.visibilityTimeoutMs ?? 0) > endMono) {
      heldCapacity.set(invoke.queue, (heldCapacity.get(invoke.queue) ?? 0) + (invoke.max ?? 1));
    }
  }
  const queueOf = new Map<string, string>();
  for (const { invoke, done } of pairs) {
    if (invoke.f === 'enqueue' && typeof invoke.value === 'string') {
      queueOf.set(invoke.value, invoke.queue);
      enqueue.set(invoke.value, done === undefined ? 'info' : done.type === 'invoke' ? 'info' : done.type);
    } else if (invoke.f === 'receive' && done?.type === 'ok' && Array.isArray(done.value)) {
      for (const d of done.value as readonly Delivery[]) {
        const list = deliveries.get(d.value) ?? [];
        list.push({ invokeMono: invoke.mono, doneMono: done.mono, visibilityMs: invoke.visibilityTimeoutMs ?? 0, receiveCount: d.receiveCount });
        deliveries.set(d.value, list);
      }
    } else if (invoke.f === 'ack' && done?.type === 'ok' && typeof invoke.value === 'string') {
      const prev = acks.get(invoke.value);
      if (prev === undefined || done.mono < prev) acks.set(invoke.value, done.mono);
    } else if (invoke.f === 'nack' && typeof invoke.value === 'string') {
      const list = nacks.get(invoke.value) ?? [];
      list.push(invoke.mono);
      nacks.set(invoke.value, list);
    }
  }
  const examples: string[] = [];
  const note = (s: string): void => {
    if (examples.length < 20) examples.push(s);
  };
  let acknowledged = 0;
  const lostValues: string[] = [];
  let recovered = 0;
  let failedButPresent = 0;
  for (const [v, outcome] of enqueue) {
    const seen = deliveries.has(v);
    if (outcome === 'ok') {
      acknowledged++;
      if (!seen) {
        lostValues.push(v);
        note(`lost: ${v} was acknowledged but never received`);
      }
    } else if (outcome === 'info' && seen) recovered++;
    else if (outcome === 'fail' && seen) {
      failedButPresent++;
      note(`failed-but-present: enqueue of ${v} failed definitely but ${v} was received`);
    }
  }
  const lostByQueue = new Map<string, number>();
  for (const v of lostValues) lostByQueue.set(queueOf.get(v) ?? '', (lostByQueue.get(queueOf.get(v) ?? '') ?? 0) + 1);
  let lostPossiblyHeld = 0;
  for (const [q, n] of lostByQueue) lostPossiblyHeld += Math.min(n, heldCapacity.get(q) ?? 0);
  let unexpected = 0;
  let duplicated = 0;
  let expectedRedeliveries = 0;
  let doubleDeliveries = 0;
  let ackViolations = 0;
  for (const [v, list] of deliveries) {
    if (!enqueue.has(v)) {
      unexpected++;
      note(`unexpected: ${v} was received but never enqueued`);
    }
    // The state machine numbers deliveries: receiveCount is the true delivery order (a long
    // poll invoked earlier may complete with a later delivery).
    list.sort((a, b) => a.receiveCount - b.receiveCount || a.doneMono - b.doneMono);
    if (list.length > 1) duplicated++;
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const cur = list[i]!;
      // The earlier lease began no earlier than its receive's invocation; if this delivery
      // completed before that lease could have ended, the earlier receipt was still valid —
      // unless a nack or a pause explains it.
      const nacked = (nacks.get(v) ?? []).some((t) => t >= prev.invokeMono && t <= cur.doneMono);
      if (nacked || cur.doneMono >= prev.invokeMono + prev.visibilityMs) expectedRedeliveries++;
      else {
        doubleDeliveries++;
        note(`double delivery: ${v} delivered at ${cur.doneMono.toFixed(0)} ms while the receipt from ${prev.invokeMono.toFixed(0)} ms (visibility ${prev.visibilityMs} ms) was valid`);
      }
    }
    const ackedAt = acks.get(v);
    if (ackedAt !== undefined) {
      for (const d of list) {
        if (d.invokeMono > ackedAt) {
          ackViolations++;
          note(`ack violation: ${v} delivered by a receive invoked at ${d.invokeMono.toFixed(0)} ms after its ack completed at ${ackedAt.toFixed(0)} ms`);
        }
      }
    }
  }
  return {
    valid: lostValues.length - lostPossiblyHeld === 0 && unexpected === 0 && failedButPresent === 0 && ackViolations === 0 && doubleDeliveries === 0,
    acknowledged,
    lost: lostValues.length,
    lostPossiblyHeld,
    lostValues: lostValues.slice(0, 100),
    unexpected,
    recovered,
    failedButPresent,
    duplicated,
    expectedRedeliveries,
    doubleDeliveries,
    ackViolations,
    examples,
  };
}
