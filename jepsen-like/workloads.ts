import type { Delivery, History } from './history.js';
import { DefiniteError, type WorkloadClient } from './workload-client.js';

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

/**
 * Performs one recorded operation: invoke, then ok / fail (DefiniteError) / info (anything
 * else). Returns the result when ok.
 */
export async function recorded<T>(
  history: History,
  process: number,
  f: 'enqueue' | 'receive' | 'ack' | 'nack',
  queue: string,
  extra: { value?: string; receipt?: string; visibilityTimeoutMs?: number; max?: number; groupId?: string },
  run: () => Promise<T>,
  okValue?: (r: T) => readonly Delivery[],
): Promise<T | undefined> {
  const inv = history.invoke(process, f, queue, extra);
  try {
    const r = await run();
    history.complete(inv, 'ok', okValue !== undefined ? { value: okValue(r) } : {});
    return r;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    history.complete(inv, e instanceof DefiniteError ? 'fail' : 'info', { error: typeof code === 'string' ? code : e instanceof Error ? e.message.slice(0, 120) : String(e) });
    return undefined;
  }
}

type Received = Array<{ body: string; receipt: string; receiveCount: number; groupId?: string }>;

const toDeliveries = (ms: Received): Delivery[] =>
  ms.map((m) => ({ value: m.body, receipt: m.receipt, receiveCount: m.receiveCount, ...(m.groupId !== undefined ? { groupId: m.groupId } : {}) }));

/**
 * Queue workload: unique enqueues, receives with a short visibility timeout, acks of most
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
        const value = `w${w}-${n}`;
        await recorded(history, w, 'enqueue', queue, { value }, () => client.enqueue(queue, value));
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

/** FIFO workload: each worker owns one message group and enqueues to it in sequence. */
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
        const value = `g${w}-${n}`;
        const groupId = `g${w}`;
        await recorded(history, w, 'enqueue', queue, { value, groupId }, () => client.enqueue(queue, value, { groupId, dedupId: value }));
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
        await recorded(history, w, 'enqueue', queue, { value }, () => client.enqueue(queue, value));
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
