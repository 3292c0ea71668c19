import type { Delivery, History } from './history.js';
import { DefiniteError, type ReceivedMessage, type WorkloadClient } from './workload-client.js';

/** The workloads the harness can run. */
export type WorkloadName = 'queue' | 'fifo' | 'linearizable';

/** Every workload name. */
export const workloadNames: readonly WorkloadName[] = ['queue', 'fifo', 'linearizable'];

/** A workload: its queues, what a worker does in a loop, and how to drain at the end. */
export interface Workload {
  readonly name: WorkloadName;
  /** Queue names and attributes to create before the run. */
  readonly queues: ReadonlyArray<{ name: string; attributes: Record<string, unknown> }>;
  /** One operation (or a small sequence) by worker `w`. */
  step(w: number, client: WorkloadClient, history: History, rng: () => number): Promise<void>;
  /** Visibility timeout the workload's receives use (for the checker and the drain). */
  readonly visibilityTimeoutMs: number;
  /** Whether the final drain acks what it receives. */
  readonly drainAcks: boolean;
}

/** What a recorded operation's completion adds to the history when it is ok. */
export interface OkExtra {
  readonly value?: readonly Delivery[];
  readonly messageId?: string;
}

/**
 * Performs one recorded operation: invoke, then ok / fail (DefiniteError) / info (anything
 * else). Returns the outcome, and the result when ok.
 */
export async function recordedOutcome<T>(
  history: History,
  process: number,
  f: 'enqueue' | 'receive' | 'ack' | 'nack',
  queue: string,
  extra: { value?: string; receipt?: string; visibilityTimeoutMs?: number; max?: number; groupId?: string; key?: string },
  run: () => Promise<T>,
  okExtra?: (r: T) => OkExtra,
): Promise<{ type: 'ok'; result: T } | { type: 'fail' | 'info' }> {
  const inv = history.invoke(process, f, queue, extra);
  try {
    const r = await run();
    history.complete(inv, 'ok', okExtra !== undefined ? okExtra(r) : {});
    return { type: 'ok', result: r };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const type = e instanceof DefiniteError ? 'fail' : 'info';
    history.complete(inv, type, { error: typeof code === 'string' ? code : e instanceof Error ? e.message.slice(0, 120) : String(e) });
    return { type };
  }
}

/** recordedOutcome's result when ok, else undefined. */
export async function recorded<T>(...args: Parameters<typeof recordedOutcome<T>>): Promise<T | undefined> {
  const r = await recordedOutcome(...args);
  return r.type === 'ok' ? r.result : undefined;
}

/** The deliveries of a receive, for the history. */
export const toDeliveries = (ms: readonly ReceivedMessage[]): OkExtra => ({
  value: ms.map((m) => ({ value: m.body, id: m.id, receipt: m.receipt, receiveCount: m.receiveCount, ...(m.groupId !== undefined ? { groupId: m.groupId } : {}) })),
});

/** Further attempts at one keyed enqueue after unknown outcomes. */
const keyedRetriesMax = 2;

/** Share of acknowledged keyed enqueues sent once more under the same key, as a restarted producer would. */
const keyedResendProbability = 0.05;

/**
 * One logical message under dedup key `key`, the way a careful producer sends it: after an
 * unknown outcome it tries again under the same key (up to keyedRetriesMax times), and now
 * and then it resends an acknowledged message. Each attempt carries its own body (`key`, then
 * `key/r1`, ...) so the checkers can tell which attempt a delivered message came from; dedup
 * must make all of them one message.
 */
async function keyedEnqueue(history: History, w: number, queue: string, key: string, groupId: string | undefined, rng: () => number, send: (body: string) => Promise<{ id: string }>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const value = attempt === 0 ? key : `${key}/r${attempt}`;
    const r = await recordedOutcome(history, w, 'enqueue', queue, { value, key, ...(groupId !== undefined ? { groupId } : {}) }, () => send(value), (res) => ({ messageId: res.id }));
    if (r.type === 'info' && attempt < keyedRetriesMax) continue;
    if (r.type === 'ok' && attempt === 0 && rng() < keyedResendProbability) continue;
    return;
  }
}

/**
 * Queue workload: keyed enqueues (idempotency keys; see keyedEnqueue), receives with a short visibility timeout, acks of most
 * deliveries and nacks of a few, so leases expire and redeliveries happen under faults.
 */
export function queueWorkload(): Workload {
  const queue = 'jepsen-q';
  const visibilityTimeoutMs = 3000;
  const seq = new Map<number, number>();
  return {
    name: 'queue',
    queues: [{ name: queue, attributes: { visibilityTimeoutMs } }],
    visibilityTimeoutMs,
    drainAcks: true,
    async step(w, client, history, rng) {
      if (rng() < 0.55) {
        const n = (seq.get(w) ?? 0) + 1;
        seq.set(w, n);
        const key = `w${w}-${n}`;
        if (client.idempotencyKeys) await keyedEnqueue(history, w, queue, key, undefined, rng, (body) => client.enqueue(queue, body, { idempotencyKey: key }));
        // Without idempotency keys (SQS standard queues) a producer cannot retry safely: one unkeyed attempt.
        else await recordedOutcome(history, w, 'enqueue', queue, { value: key }, () => client.enqueue(queue, key), (res) => ({ messageId: res.id }));
        return;
      }
      const got = await recorded(history, w, 'receive', queue, { visibilityTimeoutMs, max: 5 }, () => client.receive(queue, 5, visibilityTimeoutMs, 200), toDeliveries);
      for (const m of got ?? []) {
        if (rng() < 0.85) await recorded(history, w, 'ack', queue, { value: m.body, receipt: m.receipt }, () => client.ack(queue, m.receipt));
        else if (rng() < 0.5) await recorded(history, w, 'nack', queue, { value: m.body, receipt: m.receipt }, () => client.nack(queue, m.receipt));
        // else: abandoned; redelivered after the visibility timeout.
      }
    },
  };
}

/**
 * FIFO workload: each worker owns one message group and enqueues to it in sequence, keyed by
 * FIFO dedup ids (see keyedEnqueue).
 */
export function fifoWorkload(): Workload {
  const queue = 'jepsen.fifo';
  const visibilityTimeoutMs = 3000;
  const seq = new Map<number, number>();
  return {
    name: 'fifo',
    queues: [{ name: queue, attributes: { fifo: true, visibilityTimeoutMs } }],
    visibilityTimeoutMs,
    drainAcks: true,
    async step(w, client, history, rng) {
      if (rng() < 0.5) {
        const n = (seq.get(w) ?? 0) + 1;
        seq.set(w, n);
        const key = `g${w}-${n}`;
        const groupId = `g${w}`;
        await keyedEnqueue(history, w, queue, key, groupId, rng, (body) => client.enqueue(queue, body, { groupId, dedupId: key }));
        return;
      }
      const got = await recorded(history, w, 'receive', queue, { visibilityTimeoutMs, max: 3 }, () => client.receive(queue, 3, visibilityTimeoutMs, 200), toDeliveries);
      for (const m of got ?? []) await recorded(history, w, 'ack', queue, { value: m.body, receipt: m.receipt }, () => client.ack(queue, m.receipt));
    },
  };
}

/**
 * Linearizability workload: receive with a visibility timeout of 12 hours is a dequeue, so each
 * queue behaves as a FIFO queue whose history the WGL checker can verify. Several small queues
 * keep each partition of the history searchable.
 */
export function linearizableWorkload(queueCount = 4): Workload {
  const visibilityTimeoutMs = 12 * 3600 * 1000;
  const queues = Array.from({ length: queueCount }, (_, i) => `jepsen-lin-${i}`);
  const seq = new Map<number, number>();
  return {
    name: 'linearizable',
    queues: queues.map((name) => ({ name, attributes: { visibilityTimeoutMs } })),
    visibilityTimeoutMs,
    drainAcks: false,
    async step(w, client, history, rng) {
      const queue = queues[Math.floor(rng() * queues.length)]!;
      if (rng() < 0.5) {
        const n = (seq.get(w) ?? 0) + 1;
        seq.set(w, n);
        const value = `w${w}-${n}`;
        await recorded(history, w, 'enqueue', queue, { value }, () => client.enqueue(queue, value), (res) => ({ messageId: res.id }));
      } else {
        await recorded(history, w, 'receive', queue, { visibilityTimeoutMs, max: 1 }, () => client.receive(queue, 1, visibilityTimeoutMs, 0), toDeliveries);
      }
    },
  };
}

/** The workload called `name`. */
export function workloadByName(name: WorkloadName): Workload {
  switch (name) {
    case 'queue':
      return queueWorkload();
    case 'fifo':
      return fifoWorkload();
    case 'linearizable':
      return linearizableWorkload();
  }
}
