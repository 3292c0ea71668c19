/**
 * The two tables of linearizable reads: ReadIndex rounds waiting for their read index, and
 * waiters for the applied index. LinearizableReads (reads.ts) owns one of each and is their
 * only user; they know nothing of the Raft core beyond the `ask` callback.
 */
import { randomBytes } from 'node:crypto';
import { contextKey } from '../../raft/types.js';
import { RaftqError, type ErrorCode } from '../errors.js';
import { pendingWithDeadline } from './deadline.js';

const encoder = new TextEncoder();

interface PendingRead {
  readonly context: Uint8Array;
  readonly resolve: (index: number) => void;
  readonly reject: (e: Error) => void;
}

/**
 * ReadIndex rounds this node started, by context, until the leader names their read index.
 *
 * A context is `nodeId/processNonce/seq`: the nonce is random per process, so a read index a
 * leader answers late to an earlier incarnation of this node never completes a read of this one
 * (it could name an index below a write the new read must see; issue 15, item 1).
 */
export class ReadIndexRequests {
  readonly #reads = new Map<string, PendingRead>();
  readonly #prefix: string;
  readonly #ask: (context: Uint8Array) => void;
  #seq = 0;

  /** @param ask hands a context to the Raft core (RawNode.readIndex); may be retried. */
  constructor(nodeId: string, ask: (context: Uint8Array) => void) {
    this.#prefix = `${nodeId}/${randomBytes(8).toString('hex')}/`;
    this.#ask = ask;
  }

  /**
   * Starts a ReadIndex round; resolves with the read index, or rejects at `timeoutMs` with the
   * code `timeoutCode()` names then (NO_LEADER or TIMEOUT).
   */
  request(timeoutMs: number, timeoutCode: () => ErrorCode): Promise<number> {
    const context = encoder.encode(`${this.#prefix}${++this.#seq}`);
    const key = contextKey(context);
    return pendingWithDeadline<number>(
      timeoutMs,
      (settle) => {
        this.#reads.set(key, { context, ...settle });
        this.#ask(context);
      },
      () => {
        this.#reads.delete(key);
        return new RaftqError(timeoutCode(), 'linearizable read timed out waiting for a read index');
      },
    );
  }

  /** A read state from the core: completes the read it names, if this process started it. */
  onReadState(context: Uint8Array, index: number): void {
    const key = contextKey(context);
    const r = this.#reads.get(key);
    if (r === undefined) return;
    this.#reads.delete(key);
    r.resolve(index);
  }

  /** Asks again for every pending read (ReadIndex requests die with the leader they went to). */
  retryAll(): void {
    for (const r of this.#reads.values()) this.#ask(r.context);
  }

  /** Fails every pending read (shutdown). */
  failAll(err: Error): void {
    const all = [...this.#reads.values()];
    this.#reads.clear();
    for (const r of all) r.reject(err);
  }
}

interface AppliedWaiter {
  readonly index: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** Waiters for the applied index to reach a value, each with a deadline. */
export class AppliedWaiters {
  #waiters: AppliedWaiter[] = [];

  /**
   * Resolves once `applied()` reaches `index`; rejects with TIMEOUT after `timeoutMs` (a node
   * cut off from its leader may never get there: a read must not hang).
   */
  wait(index: number, applied: number, timeoutMs: number): Promise<void> {
    if (applied >= index) return Promise.resolve();
    let w: AppliedWaiter | undefined;
    return pendingWithDeadline<void>(
      timeoutMs,
      (settle) => this.#waiters.push((w = { index, ...settle })),
      () => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        return new RaftqError('TIMEOUT', `timed out waiting for index ${index} to apply (applied ${applied} when the wait began)`);
      },
    );
  }

  /** Resolves the waiters whose index is at or below `applied`. */
  notify(applied: number): void {
    if (this.#waiters.length === 0) return;
    const still: AppliedWaiter[] = [];
    for (const w of this.#waiters) {
      if (w.index <= applied) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  /** Fails every waiter (shutdown). */
  failAll(err: Error): void {
    const all = this.#waiters;
    this.#waiters = [];
    for (const w of all) w.reject(err);
  }
}
