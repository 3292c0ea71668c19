import { dedupWindowMs } from '../../src/queue/limits.js';
import { describeOp, opRef, pairOps, type Delivery, type HistoryOp, type OpRef } from '../history.js';

/** Two distinct messages enqueued under one dedup key within the dedup window. */
export interface DedupMiss {
  readonly key: string;
  /**
   * `acknowledged-twice`: two attempts were acknowledged with different message ids (both new);
   * `delivered-twice`: two different messages of the key were delivered.
   */
  readonly kind: 'acknowledged-twice' | 'delivered-twice';
  /** The enqueue attempts that created the two messages (the same one if a single body was enqueued twice). */
  readonly first: OpRef;
  readonly second: OpRef;
}

/** Verdict of the dedup check. */
export interface DedupCheckResult {
  readonly valid: boolean;
  /** Dedup keys the history's enqueues carried. */
  readonly keys: number;
  /** Keys with more than one attempt: the ones dedup was asked to act on. */
  readonly retriedKeys: number;
  readonly misses: readonly DedupMiss[];
  readonly examples: readonly string[];
}

interface Attempt {
  readonly invoke: HistoryOp;
  readonly done: HistoryOp | undefined;
}

/** One message of a key as deliveries saw it: its id (or body), the attempt that sent it, and when it surely existed. */
interface Seen {
  readonly attempt: Attempt;
  /** The attempt's invocation: the message was applied no earlier. */
  readonly fromMono: number;
  /** The message was applied no later: its enqueue's ok, or its first delivery. */
  readonly byMono: number;
}

/**
 * Keyed enqueues must be deduplicated: within `dedupWindowMs` (state-machine time, taken here
 * as the history's monotonic time), every enqueue carrying one key (an idempotency key, or a
 * FIFO dedup id) must resolve to one message. A miss is two attempts acknowledged with
 * different message ids, or two different messages of the key delivered, when both were
 * applied within one window of each other for certain (the later bound minus the earlier
 * invocation is under the window). The harness stays far below `dedupKeysMax` keys per queue,
 * so no key is evicted early.
 */
export function checkDedup(ops: readonly HistoryOp[]): DedupCheckResult {
  const pairs = pairOps(ops);
  const attemptsByKey = new Map<string, Attempt[]>();
  for (const p of pairs) {
    if (p.invoke.f !== 'enqueue' || p.invoke.key === undefined) continue;
    const key = `${p.invoke.queue}\u0000${p.invoke.key}`;
    attemptsByKey.set(key, [...(attemptsByKey.get(key) ?? []), p]);
  }
  // value -> its deliveries' (message identity, receive completion), in history order.
  const delivered = new Map<string, Array<{ identity: string; doneMono: number }>>();
  for (const { invoke, done } of pairs) {
    if (invoke.f !== 'receive' || done?.type !== 'ok' || !Array.isArray(done.value)) continue;
    for (const d of done.value as readonly Delivery[]) delivered.set(d.value, [...(delivered.get(d.value) ?? []), { identity: d.id ?? `body:${d.value}`, doneMono: done.mono }]);
  }
  const misses: DedupMiss[] = [];
  const examples: string[] = [];
  let retriedKeys = 0;
  for (const attempts of attemptsByKey.values()) {
    if (attempts.length > 1) retriedKeys++;
    const key = attempts[0]!.invoke.key!;
    const twice = acknowledgedTwice(attempts) ?? deliveredTwice(attempts, delivered);
    if (twice === undefined) continue;
    misses.push({ key, ...twice });
    if (examples.length < 20) examples.push(`dedup miss (${twice.kind}): key ${key}: ${describeOp(twice.first)} and ${describeOp(twice.second)} made two messages`);
  }
  return { valid: misses.length === 0, keys: attemptsByKey.size, retriedKeys, misses, examples };
}

function withinWindow(a: Seen, b: Seen): boolean {
  return Math.max(a.byMono, b.byMono) - Math.min(a.fromMono, b.fromMono) < dedupWindowMs;
}

/** Two attempts acknowledged ok with different message ids, within the window. */
function acknowledgedTwice(attempts: readonly Attempt[]): Omit<DedupMiss, 'key'> | undefined {
  const oks = attempts.filter((a) => a.done?.type === 'ok' && a.done.messageId !== undefined);
  for (let i = 0; i < oks.length; i++) {
    for (let j = i + 1; j < oks.length; j++) {
      const a = oks[i]!;
      const b = oks[j]!;
      if (a.done!.messageId === b.done!.messageId) continue;
      if (withinWindow({ attempt: a, fromMono: a.invoke.mono, byMono: a.done!.mono }, { attempt: b, fromMono: b.invoke.mono, byMono: b.done!.mono })) {
        return { kind: 'acknowledged-twice', first: opRef(a.invoke), second: opRef(b.invoke) };
      }
    }
  }
  return undefined;
}

/** Two different messages of the key delivered, within the window. */
function deliveredTwice(attempts: readonly Attempt[], delivered: ReadonlyMap<string, ReadonlyArray<{ identity: string; doneMono: number }>>): Omit<DedupMiss, 'key'> | undefined {
  const messages = new Map<string, Seen>();
  for (const a of attempts) {
    for (const d of delivered.get(a.invoke.value as string) ?? []) {
      const byMono = a.done?.type === 'ok' ? Math.min(a.done.mono, d.doneMono) : d.doneMono;
      const seen = messages.get(d.identity);
      if (seen === undefined || byMono < seen.byMono) messages.set(d.identity, { attempt: a, fromMono: a.invoke.mono, byMono });
    }
  }
  const list = [...messages.values()].sort((x, y) => x.attempt.invoke.index - y.attempt.invoke.index);
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      if (withinWindow(list[i]!, list[j]!)) return { kind: 'delivered-twice', first: opRef(list[i]!.attempt.invoke), second: opRef(list[j]!.attempt.invoke) };
    }
  }
  return undefined;
}
