import { createWriteStream, type WriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** The operations clients perform. */
export type OpF = 'enqueue' | 'receive' | 'ack' | 'nack';

/** One delivery as a receive saw it. */
export interface Delivery {
  readonly value: string;
  /** The message id the cluster gave it (absent in older histories). */
  readonly id?: string;
  readonly receipt: string;
  readonly receiveCount: number;
  readonly groupId?: string;
}

/**
 * One history event, Jepsen style: every client operation is an `invoke` followed by exactly
 * one completion: `ok` (it happened), `fail` (it definitely did not), or `info` (unknown: a
 * timeout or lost connection; it may or may not have taken effect).
 */
export interface HistoryOp {
  readonly index: number;
  /** Worker id, or -1 for the nemesis. */
  readonly process: number;
  readonly type: 'invoke' | 'ok' | 'fail' | 'info';
  readonly f: OpF | 'nemesis';
  readonly queue: string;
  /** enqueue: the value; receive ok: Delivery[]; ack/nack: the value acked; nemesis: a description. */
  readonly value?: string | readonly Delivery[];
  /** Error code of a fail / info. */
  readonly error?: string;
  /** ack / receive: the receipt or visibility used. */
  readonly receipt?: string;
  readonly visibilityTimeoutMs?: number;
  /** receive: how many messages it asked for. */
  readonly max?: number;
  readonly groupId?: string;
  /**
   * enqueue: the deduplication key it carried (an idempotency key or a FIFO dedup id). Every
   * attempt at one logical message carries the same key and a body of its own.
   */
  readonly key?: string;
  /** enqueue ok: the id of the message the cluster says holds this body (the original's on a dedup hit). */
  readonly messageId?: string;
  /** Wall-clock ms since epoch. */
  readonly time: number;
  /** Monotonic ms since the run started. */
  readonly mono: number;
  /** Set on completions: the index of the matching invoke. */
  readonly invokeIndex?: number;
  /** Phase of the run when recorded. */
  readonly phase: 'main' | 'drain';
}

/** Records a history in memory and streams it to history.jsonl. */
export class History {
  readonly ops: HistoryOp[] = [];
  readonly #out: WriteStream | undefined;
  readonly #t0 = performance.now();
  phase: 'main' | 'drain' = 'main';

  constructor(path?: string) {
    this.#out = path !== undefined ? createWriteStream(path) : undefined;
  }

  /** Records an invocation and returns its index. */
  invoke(process: number, f: OpF, queue: string, extra: Partial<Pick<HistoryOp, 'value' | 'receipt' | 'visibilityTimeoutMs' | 'max' | 'groupId' | 'key'>> = {}): number {
    return this.#push({ process, type: 'invoke', f, queue, ...extra });
  }

  /** Records the completion of invocation `invokeIndex`. */
  complete(invokeIndex: number, type: 'ok' | 'fail' | 'info', extra: Partial<Pick<HistoryOp, 'value' | 'error' | 'messageId'>> = {}): void {
    const inv = this.ops[invokeIndex];
    if (inv === undefined || inv.type !== 'invoke') throw new Error(`no invoke at ${invokeIndex}`);
    this.#push({
      process: inv.process,
      type,
      f: inv.f,
      queue: inv.queue,
      invokeIndex,
      ...(inv.receipt !== undefined ? { receipt: inv.receipt } : {}),
      ...(inv.visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs: inv.visibilityTimeoutMs } : {}),
      ...(inv.groupId !== undefined ? { groupId: inv.groupId } : {}),
      ...(inv.key !== undefined ? { key: inv.key } : {}),
      ...(extra.messageId !== undefined ? { messageId: extra.messageId } : {}),
      ...(extra.value !== undefined ? { value: extra.value } : inv.value !== undefined ? { value: inv.value } : {}),
      ...(extra.error !== undefined ? { error: extra.error } : {}),
    });
  }

  /** Records a nemesis event (start or end of a fault). */
  nemesis(type: 'invoke' | 'info', description: string): void {
    this.#push({ process: -1, type, f: 'nemesis', queue: '', value: description });
  }

  #push(op: Omit<HistoryOp, 'index' | 'time' | 'mono' | 'phase'>): number {
    const full: HistoryOp = { ...op, index: this.ops.length, time: Date.now(), mono: performance.now() - this.#t0, phase: this.phase };
    this.ops.push(full);
    this.#out?.write(JSON.stringify(full) + '\n');
    return full.index;
  }

  async close(): Promise<void> {
    const out = this.#out;
    if (out === undefined) return;
    await new Promise<void>((r) => out.end(() => r()));
  }
}

/**
 * Names one operation of a history so a reader can look it up in history.jsonl: the index of
 * its invoke, the worker that issued it (1000: the drain) and what it was.
 */
export interface OpRef {
  readonly index: number;
  readonly process: number;
  readonly f: OpF;
}

/** The OpRef of an invoke. */
export function opRef(invoke: HistoryOp): OpRef {
  if (invoke.type !== 'invoke' || invoke.f === 'nemesis') throw new Error(`history op ${invoke.index} is not a client invoke`);
  return { index: invoke.index, process: invoke.process, f: invoke.f };
}

/** "receive #123 by worker 4", for examples and the report. */
export function describeOp(ref: OpRef): string {
  return `${ref.f} #${ref.index} by ${ref.process === 1000 ? 'the drain' : `worker ${ref.process}`}`;
}

/** Pairs each invoke with its completion (or none, if the run ended first). */
export function pairOps(ops: readonly HistoryOp[]): Array<{ invoke: HistoryOp; done: HistoryOp | undefined }> {
  const done = new Map<number, HistoryOp>();
  for (const op of ops) if (op.invokeIndex !== undefined) done.set(op.invokeIndex, op);
  return ops.filter((o) => o.type === 'invoke' && o.f !== 'nemesis').map((invoke) => ({ invoke, done: done.get(invoke.index) }));
}
