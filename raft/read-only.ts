import type { NodeId } from './types.js';
import { contextKey } from './types.js';

/** One outstanding ReadIndex request on the leader. */
export interface ReadIndexRequest {
  /** The commit index when the request arrived: reads at or after it are linearizable. */
  readonly index: number;
  readonly context: Uint8Array;
  /** Who asked: this leader itself, or a follower that forwarded the request. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

/**
 * ReadIndex rounds on the leader (Raft thesis §6.4): a request is confirmed once a quorum
 * acknowledges a heartbeat carrying its context, proving this node was still leader when the
 * request arrived. Requests complete in arrival order.
 *
 * Invariant: queue and pending hold the same keys.
 */
export class ReadOnly {
  readonly #pending = new Map<string, ReadIndexRequest>();
  #queue: string[] = [];
  /** Bound on outstanding requests: beyond it new ones are refused, so memory stays bounded. */
  readonly requestsMax: number;

  constructor(requestsMax: number) {
    this.requestsMax = requestsMax;
  }

  /** Registers a request; returns false if the context is a duplicate or the queue is full. */
  add(index: number, context: Uint8Array, from: NodeId): boolean {
    const key = contextKey(context);
    if (this.#pending.has(key) || this.#queue.length >= this.requestsMax) return false;
    this.#pending.set(key, { index, context, from, acks: new Set() });
    this.#queue.push(key);
    return true;
  }

  /** Records `from`'s ack of `context`; returns the ack set, or undefined if unknown. */
  recvAck(from: NodeId, context: Uint8Array): ReadonlySet<NodeId> | undefined {
    const req = this.#pending.get(contextKey(context));
    if (req === undefined) return undefined;
    req.acks.add(from);
    return req.acks;
  }

  /** Removes and returns every request up to and including `context`, in arrival order. */
  advance(context: Uint8Array): ReadIndexRequest[] {
    const key = contextKey(context);
    const at = this.#queue.indexOf(key);
    if (at < 0) return [];
    const done = this.#queue.slice(0, at + 1);
    this.#queue = this.#queue.slice(at + 1);
    const out: ReadIndexRequest[] = [];
    for (const k of done) {
      const r = this.#pending.get(k);
      if (r !== undefined) out.push(r);
      this.#pending.delete(k);
    }
    return out;
  }

  /** The context of the newest request, if any. */
  lastPendingContext(): Uint8Array | undefined {
    const k = this.#queue[this.#queue.length - 1];
    return k === undefined ? undefined : this.#pending.get(k)?.context;
  }

  /** Number of outstanding requests. */
  size(): number {
    return this.#queue.length;
  }

  /** Drops every request (leadership changed). */
  reset(): void {
    this.#pending.clear();
    this.#queue = [];
  }
}
