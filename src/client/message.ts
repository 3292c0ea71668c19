import type { WireIncoming } from '../proto/client-wire.js';

const utf8 = new TextDecoder();

/** How a message is settled: what the client does with its receipt. */
export interface Settler {
  ack(queue: string, receipt: string): Promise<void>;
  nack(queue: string, receipt: string, delayMs: number): Promise<void>;
  changeVisibility(queue: string, receipt: string, visibilityTimeoutMs: number): Promise<void>;
  /** Called once when the message is settled (acked or nacked), whatever the outcome. */
  settled?(): void;
}

/** A delivered message. Ack it when done, or nack it to have it delivered again. */
export class Message {
  /** The queue it was received from. */
  readonly queue: string;
  /** The message id (stable across deliveries). */
  readonly id: string;
  /** Position in the queue's append-only sequence. */
  readonly offset: number;
  /** The payload. */
  readonly body: Uint8Array;
  /** Handle of this delivery, for ack / nack / changeVisibility. */
  readonly receipt: string;
  /** Deliveries so far, this one included. */
  readonly receiveCount: number;
  /** When the message was enqueued, in milliseconds since the epoch (cluster clock). */
  readonly enqueuedAtMs: number;
  /** String attributes given at send time. */
  readonly attributes: Readonly<Record<string, string>>;
  /** FIFO message group ('' on standard queues). */
  readonly groupId: string;
  /** When the producer's enqueue was applied (kept across dead-letter moves); enqueuedAtMs from an older server. */
  readonly sentAtMs: number;
  /** When the message was first delivered, from any queue (0 from an older server). */
  readonly firstReceivedAtMs: number;
  /** The FIFO deduplication id given at send time ('' when none). */
  readonly dedupId: string;
  readonly #settler: Settler;
  #settled = false;

  /** @internal built by the client from a delivery. */
  constructor(queue: string, m: WireIncoming, settler: Settler) {
    this.queue = queue;
    this.id = m.id;
    this.offset = m.offset;
    // A copy: the decoded body is a view of the whole response frame.
    this.body = Uint8Array.from(m.body);
    this.receipt = m.receipt;
    this.receiveCount = m.receiveCount;
    this.enqueuedAtMs = m.enqueuedAtMs;
    this.attributes = { ...m.attributes };
    this.groupId = m.groupId;
    // Zero values of a decoded protobuf message are defaults: 0 sentAtMs means a server without it.
    this.sentAtMs = m.sentAtMs !== undefined && m.sentAtMs !== 0 ? m.sentAtMs : m.enqueuedAtMs;
    this.firstReceivedAtMs = m.firstReceivedAtMs ?? 0;
    this.dedupId = m.dedupId ?? '';
    this.#settler = settler;
  }

  /** The body decoded as UTF-8. */
  text(): string {
    return utf8.decode(this.body);
  }

  /** The body parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  /** Whether ack() or nack() was called. */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Deletes the message. Rejects with STALE_RECEIPT when its lease ran out and it was delivered
   * again since (the message stays, for the newer delivery).
   */
  ack(): Promise<void> {
    return this.#settle(() => this.#settler.ack(this.queue, this.receipt));
  }

  /** Returns the message to the queue, visible again after `delayMs` milliseconds (default 0). */
  nack(delayMs = 0): Promise<void> {
    return this.#settle(() => this.#settler.nack(this.queue, this.receipt, delayMs));
  }

  /** Extends (or shortens) the lease: the message stays invisible for `visibilityTimeoutMs` from now. */
  changeVisibility(visibilityTimeoutMs: number): Promise<void> {
    return this.#settler.changeVisibility(this.queue, this.receipt, visibilityTimeoutMs);
  }

  async #settle(op: () => Promise<void>): Promise<void> {
    if (this.#settled) throw new TypeError(`message ${this.id} was already acked or nacked`);
    this.#settled = true;
    try {
      await op();
    } finally {
      this.#settler.settled?.();
    }
  }
}
