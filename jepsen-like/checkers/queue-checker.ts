import { describeOp, opRef, pairOps, type Delivery, type HistoryOp, type OpRef } from '../history.js';

/** A lost message that a receive with an unknown outcome holds, per a witness that names it. */
export interface LostExcuse {
  readonly value: string;
  /** The receive (unknown outcome, lease outliving the run) that holds it. */
  readonly by: OpRef;
}

/** A redelivery and the operation that makes it legitimate. */
export interface Redelivery {
  readonly value: string;
  /** The receive that delivered the message again. */
  readonly delivery: OpRef;
  /**
   * `nack`: a successful nack of the earlier receipt; `nack-unknown`: a nack of it whose outcome
   * is unknown (it may have applied); `lease-expired`: the earlier lease ended first.
   */
  readonly cause: 'nack' | 'nack-unknown' | 'lease-expired';
  /** The nack, or the earlier receive whose lease had ended. */
  readonly by: OpRef;
}

/** Verdict of the total-queue and ack-safety checks. */
export interface QueueCheckResult {
  readonly valid: boolean;
  /** Messages with at least one enqueue acknowledged ok (attempts sharing a dedup key are one message). */
  readonly acknowledged: number;
  /** Acknowledged messages never received, even after the final drain. */
  readonly lost: number;
  /** Of the lost, how many a named receive with an unknown outcome holds (see `lostExcused`). */
  readonly lostPossiblyHeld: number;
  /** Each excused loss and the receive that explains it. The rest of `lost` fail the run. */
  readonly lostExcused: readonly LostExcuse[];
  readonly lostValues: readonly string[];
  /**
   * Values received that no enqueue explains: a body no enqueue ever attempted, or one received
   * as a message whose id the cluster gave to enqueues of other bodies only (a damaged body that
   * happens to spell another value). Must be 0.
   */
  readonly unexpected: number;
  /** Enqueues with unknown outcome (info) whose value was received: they did take effect. */
  readonly recovered: number;
  /** Enqueues that failed definitely but whose value was received anyway. Must be 0. */
  readonly failedButPresent: number;
  /** Values delivered more than once. */
  readonly duplicated: number;
  /** Redeliveries after the earlier delivery's visibility timeout or a nack: expected. */
  readonly expectedRedeliveries: number;
  /** Each expected redelivery with the operation that explains it. */
  readonly redeliveries: readonly Redelivery[];
  /** Redeliveries while an earlier receipt was still valid (before its visibility deadline). */
  readonly doubleDeliveries: number;
  /** Deliveries that began after an ack of the same value had completed. Must be 0. */
  readonly ackViolations: number;
  readonly examples: readonly string[];
}

/** Options of checkQueue. */
export interface QueueCheckOptions {
  /**
   * value -> history index of the receive (invoke) that holds it, from a witness such as the
   * linearization the WGL checker found. The only way a lost message is excused: the named
   * receive must have an unknown outcome, be on the message's queue, have a lease that outlives
   * the run, and hold no more than its `max` messages.
   */
  readonly heldBy?: ReadonlyMap<string, number>;
}

interface DeliveryAt {
  readonly receive: OpRef;
  readonly invokeMono: number;
  readonly doneMono: number;
  readonly visibilityMs: number;
  readonly receiveCount: number;
  readonly receipt: string;
  /** The message id the receive reported, if any. */
  readonly id: string | undefined;
}

interface Pair {
  readonly invoke: HistoryOp;
  readonly done: HistoryOp | undefined;
}

/**
 * The at-least-once queue checker. Every acknowledged enqueue must be received at some point
 * (the run ends with a heal and a drain); nothing may be received that was never enqueued; a
 * message whose ack succeeded must never be delivered by a receive invoked after that ack
 * completed. A redelivery is expected only when an operation explains it: a successful nack of
 * the earlier receipt (or one whose outcome is unknown: it may have applied), or the earlier
 * receive whose lease had ended. A nack that failed (a definite error) explains nothing. A loss is excused only when
 * `opts.heldBy` names the receive that holds it.
 *
 * Enqueue attempts that carry the same dedup key are one message: an attempt acknowledged ok
 * is satisfied by the delivery, with one of the attempts' bodies, of the message id it was
 * given (or, in histories without ids, of any attempt's body).
 *
 * A delivery must match its enqueue in both body and id: a body never enqueued is unexpected, and
 * so is a body that was enqueued but arrives under the id of a message enqueued with other
 * bodies, so a damaged body cannot pass for another message's.
 *
 * Clock faults excuse nothing: cluster time does not follow a leader's wall clock (README "Time
 * and leases"), so a redelivery within a valid lease is a double delivery under any nemesis.
 */
export function checkQueue(ops: readonly HistoryOp[], opts: QueueCheckOptions = {}): QueueCheckResult {
  const pairs = pairOps(ops);
  const pairAt = new Map<number, Pair>(pairs.map((p) => [p.invoke.index, p]));
  const enqueue = new Map<string, 'ok' | 'fail' | 'info'>();
  const messages = new Map<string, Pair[]>(); // dedup key (or value) -> its enqueue attempts
  const deliveries = new Map<string, DeliveryAt[]>();
  const deliveredIds = new Set<string>();
  const acks = new Map<string, { mono: number; by: OpRef }>(); // value -> earliest ack completion
  const nacks = new Map<string, Pair[]>(); // receipt -> successful nacks of it
  const unknownNacks = new Map<string, Pair[]>(); // receipt -> nacks of it whose outcome is unknown
  const endMono = ops.length > 0 ? ops[ops.length - 1]!.mono : 0;
  for (const p of pairs) {
    const { invoke, done } = p;
    if (invoke.f === 'enqueue' && typeof invoke.value === 'string') {
      enqueue.set(invoke.value, done === undefined ? 'info' : done.type === 'invoke' ? 'info' : done.type);
      const identity = invoke.key ?? invoke.value;
      messages.set(identity, [...(messages.get(identity) ?? []), p]);
    } else if (invoke.f === 'receive' && done?.type === 'ok' && Array.isArray(done.value)) {
      for (const d of done.value as readonly Delivery[]) {
        const list = deliveries.get(d.value) ?? [];
        list.push({ receive: opRef(invoke), invokeMono: invoke.mono, doneMono: done.mono, visibilityMs: invoke.visibilityTimeoutMs ?? 0, receiveCount: d.receiveCount, receipt: d.receipt, id: d.id });
        deliveries.set(d.value, list);
        if (d.id !== undefined) deliveredIds.add(d.id);
      }
    } else if (invoke.f === 'ack' && done?.type === 'ok' && typeof invoke.value === 'string') {
      const prev = acks.get(invoke.value);
      if (prev === undefined || done.mono < prev.mono) acks.set(invoke.value, { mono: done.mono, by: opRef(invoke) });
    } else if (invoke.f === 'nack' && done?.type === 'ok' && invoke.receipt !== undefined) {
      nacks.set(invoke.receipt, [...(nacks.get(invoke.receipt) ?? []), p]);
    } else if (invoke.f === 'nack' && (done === undefined || done.type === 'info') && invoke.receipt !== undefined) {
      unknownNacks.set(invoke.receipt, [...(unknownNacks.get(invoke.receipt) ?? []), p]);
    }
  }
  const examples: string[] = [];
  const note = (s: string): void => {
    if (examples.length < 20) examples.push(s);
  };

  // Every body each message id may carry: those of every attempt of each message given that id
  // (one id given to several messages, after a broken build lost its log's tail, admits them all).
  const bodiesOfId = new Map<string, { bodies: Set<string>; by: OpRef; value: string }>();
  for (const attempts of messages.values()) {
    for (const a of attempts) {
      const id = a.done?.type === 'ok' ? a.done.messageId : undefined;
      if (id === undefined) continue;
      const entry = bodiesOfId.get(id) ?? { bodies: new Set<string>(), by: opRef(a.invoke), value: a.invoke.value as string };
      for (const b of attempts) entry.bodies.add(b.invoke.value as string);
      bodiesOfId.set(id, entry);
    }
  }

  // Losses, one acknowledged message at a time.
  const idsKnown = deliveredIds.size > 0;
  let acknowledged = 0;
  const lostValues: string[] = [];
  const lostExcused: LostExcuse[] = [];
  const heldCount = new Map<number, number>();
  for (const attempts of messages.values()) {
    const oks = attempts.filter((a) => a.done?.type === 'ok');
    if (oks.length === 0) continue;
    acknowledged++;
    const anyBodyDelivered = attempts.some((a) => deliveries.has(a.invoke.value as string));
    // By id AND body: ids come from log positions, which a cluster-wide loss of the log's tail
    // (a power cut of every node, in a broken build) hands out again to other messages.
    const idDelivered = (id: string): boolean => deliveredIds.has(id) && attempts.some((a) => (deliveries.get(a.invoke.value as string) ?? []).some((d) => d.id === id));
    const unexplained = oks.find((a) => (a.done!.messageId !== undefined && idsKnown ? !idDelivered(a.done!.messageId) : !anyBodyDelivered));
    if (unexplained === undefined) continue;
    const value = unexplained.invoke.value as string;
    lostValues.push(value);
    const holder = holderOf(attempts, opts.heldBy, pairAt, heldCount, endMono);
    if (holder !== undefined) lostExcused.push({ value, by: holder });
    else note(`lost: ${value} (${describeOp(opRef(unexplained.invoke))}) was acknowledged but never received`);
  }

  let recovered = 0;
  let failedButPresent = 0;
  for (const [v, outcome] of enqueue) {
    const seen = deliveries.has(v);
    if (outcome === 'info' && seen) recovered++;
    else if (outcome === 'fail' && seen) {
      failedButPresent++;
      note(`failed-but-present: enqueue of ${v} failed definitely but ${v} was received`);
    }
  }
  let unexpected = 0;
  let duplicated = 0;
  let expectedRedeliveries = 0;
  const redeliveries: Redelivery[] = [];
  let doubleDeliveries = 0;
  let ackViolations = 0;
  for (const [v, list] of deliveries) {
    if (!enqueue.has(v)) {
      unexpected++;
      note(`unexpected: ${v} was received but never enqueued`);
    } else {
      const foreign = list.find((d) => d.id !== undefined && bodiesOfId.has(d.id) && !bodiesOfId.get(d.id)!.bodies.has(v));
      if (foreign !== undefined) {
        const owner = bodiesOfId.get(foreign.id!)!;
        unexpected++;
        note(`unexpected: ${v} was received as message ${foreign.id} by ${describeOp(foreign.receive)}, but ${foreign.id} is the id the cluster gave to ${owner.value} (${describeOp(owner.by)})`);
      }
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
      // unless a successful nack of that very receipt, applied before this delivery, explains it,
      // or a nack of it whose outcome is unknown (it may have applied any time after its invoke).
      const nack = (nacks.get(prev.receipt) ?? []).find((n) => n.invoke.mono <= cur.doneMono);
      const unknownNack = (unknownNacks.get(prev.receipt) ?? []).find((n) => n.invoke.mono <= cur.doneMono);
      if (nack !== undefined) {
        expectedRedeliveries++;
        redeliveries.push({ value: v, delivery: cur.receive, cause: 'nack', by: opRef(nack.invoke) });
      } else if (unknownNack !== undefined) {
        expectedRedeliveries++;
        redeliveries.push({ value: v, delivery: cur.receive, cause: 'nack-unknown', by: opRef(unknownNack.invoke) });
      } else if (cur.doneMono >= prev.invokeMono + prev.visibilityMs) {
        expectedRedeliveries++;
        redeliveries.push({ value: v, delivery: cur.receive, cause: 'lease-expired', by: prev.receive });
      } else {
        doubleDeliveries++;
        note(`double delivery: ${v} delivered by ${describeOp(cur.receive)} at ${cur.doneMono.toFixed(0)} ms while the receipt from ${describeOp(prev.receive)} at ${prev.invokeMono.toFixed(0)} ms (visibility ${prev.visibilityMs} ms) was valid`);
      }
    }
    const acked = acks.get(v);
    if (acked !== undefined) {
      for (const d of list) {
        if (d.invokeMono > acked.mono) {
          ackViolations++;
          note(`ack violation: ${v} delivered by ${describeOp(d.receive)} invoked at ${d.invokeMono.toFixed(0)} ms after ${describeOp(acked.by)} completed at ${acked.mono.toFixed(0)} ms`);
        }
      }
    }
  }
  return {
    valid: lostValues.length === lostExcused.length && unexpected === 0 && failedButPresent === 0 && ackViolations === 0 && doubleDeliveries === 0,
    acknowledged,
    lost: lostValues.length,
    lostPossiblyHeld: lostExcused.length,
    lostExcused,
    lostValues: lostValues.slice(0, 100),
    unexpected,
    recovered,
    failedButPresent,
    duplicated,
    expectedRedeliveries,
    redeliveries,
    doubleDeliveries,
    ackViolations,
    examples,
  };
}

/**
 * The receive that `heldBy` names for one of a lost message's bodies, if it can hold it: a
 * receive on the same queue whose outcome is unknown, whose lease (begun no earlier than its
 * invocation) outlives the run, and which holds fewer than its `max` messages so far.
 */
function holderOf(attempts: readonly Pair[], heldBy: ReadonlyMap<string, number> | undefined, pairAt: ReadonlyMap<number, Pair>, heldCount: Map<number, number>, endMono: number): OpRef | undefined {
  if (heldBy === undefined) return undefined;
  for (const a of attempts) {
    const index = heldBy.get(a.invoke.value as string);
    const r = index === undefined ? undefined : pairAt.get(index);
    if (r === undefined || r.invoke.f !== 'receive' || r.invoke.queue !== a.invoke.queue) continue;
    if (r.done !== undefined && r.done.type !== 'info') continue;
    if (r.invoke.mono + (r.invoke.visibilityTimeoutMs ?? 0) <= endMono) continue;
    const held = heldCount.get(r.invoke.index) ?? 0;
    if (held >= (r.invoke.max ?? 1)) continue;
    heldCount.set(r.invoke.index, held + 1);
    return opRef(r.invoke);
  }
  return undefined;
}
