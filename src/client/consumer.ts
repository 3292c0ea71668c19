import type { RaftqError } from '../errors.js';
import type { WireIncoming } from '../proto/client-wire.js';
import { Message, type Settler } from './message.js';
import type { Router } from './router.js';
import { ClientSubscription } from './subscription.js';
import type { ConsumeOptions } from './types.js';

/** Handles one message; a throw (or rejection) nacks it, a normal return acks it. */
export type MessageHandler = (message: Message) => unknown;

/**
 * A running consume(): a push subscription whose messages go to a handler, at most
 * `concurrency` at once, each acked when its handler returns and nacked when it throws.
 * Messages delivered and not yet settled never exceed `prefetch` (the subscription's credit).
 */
export class Consumer {
  /** The queue consumed. */
  readonly queue: string;
  readonly #sub: ClientSubscription;
  readonly #handler: MessageHandler;
  readonly #concurrency: number;
  readonly #nackDelayMs: number;
  readonly #onError: (err: unknown, message: Message | undefined) => void;
  readonly #settler: Settler;
  /** Delivered, waiting for a free handler slot. */
  readonly #buffer: Message[] = [];
  /** Handlers running. Invariant: #running <= #concurrency. */
  #running = 0;
  /** Acks and nacks in progress. */
  readonly #settling = new Set<Promise<void>>();
  #stopping = false;
  #error: RaftqError | undefined;
  #idle: (() => void) | undefined;
  readonly #closed: Promise<void>;

  /** @internal use Client.consume(). */
  constructor(router: Router, settler: Omit<Settler, 'settled'>, queue: string, handler: MessageHandler, options: ConsumeOptions) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('consume: concurrency must be a positive integer');
    const prefetch = options.prefetch ?? Math.max(10, 2 * concurrency);
    if (!Number.isInteger(prefetch) || prefetch < concurrency) throw new RangeError('consume: prefetch must be an integer >= concurrency');
    this.queue = queue;
    this.#handler = handler;
    this.#concurrency = concurrency;
    this.#nackDelayMs = options.nackDelayMs ?? 0;
    const onError = options.onError;
    // A throwing onError must not break the consumer (it runs inside socket callbacks).
    this.#onError = (err, message) => {
      try {
        onError?.(err, message);
      } catch {
        // ignored
      }
    };
    this.#sub = new ClientSubscription(
      router,
      queue,
      { prefetch, visibilityTimeoutMs: options.visibilityTimeoutMs },
      {
        onMessage: (m) => this.#onMessage(m),
        onError: (err, fatal) => {
          if (fatal) this.#error = err;
          this.#onError(err, undefined);
        },
      },
    );
    this.#settler = { ...settler, settled: () => this.#sub.settled() };
    this.#sub.start();
    this.#closed = this.#sub.done.then(() => this.#drain());
  }

  /** Handlers running right now. */
  get running(): number {
    return this.#running;
  }

  /** Messages delivered and not yet acked or nacked (running, buffered, settling). */
  get unsettled(): number {
    return this.#sub.unsettled;
  }

  /** The error that stopped the consumer (say, QUEUE_NOT_FOUND), if one did. */
  get error(): RaftqError | undefined {
    return this.#error;
  }

  /** Resolves once the consumer has stopped: after close(), or after a fatal error. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Stops cleanly: no new deliveries; messages delivered but not started are nacked (visible
   * again at once); resolves when every running handler has finished and been acked or nacked.
   */
  async close(): Promise<void> {
    this.#stopping = true;
    await this.#sub.close();
    await this.#closed;
  }

  #onMessage(wire: WireIncoming): void {
    const m = new Message(this.queue, wire, this.#settler);
    if (this.#stopping) {
      this.#settle(m, 'nack', 0);
      return;
    }
    this.#buffer.push(m);
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopping && this.#running < this.#concurrency && this.#buffer.length > 0) {
      const m = this.#buffer.shift()!;
      this.#running++;
      void this.#handle(m);
    }
  }

  async #handle(m: Message): Promise<void> {
    try {
      await this.#handler(m);
      if (!m.settled) await this.#settle(m, 'ack', 0);
    } catch (e) {
      this.#onError(e, m);
      if (!m.settled) await this.#settle(m, 'nack', this.#nackDelayMs);
    } finally {
      this.#running--;
      this.#pump();
      if (this.#running === 0) this.#idle?.();
    }
  }

  /** Acks or nacks `m`, reporting a failure to onError; never rejects. */
  #settle(m: Message, how: 'ack' | 'nack', delayMs: number): Promise<void> {
    const p = (how === 'ack' ? m.ack() : m.nack(delayMs)).catch((e: unknown) => this.#onError(e, m));
    this.#settling.add(p);
    void p.finally(() => this.#settling.delete(p));
    return p;
  }

  /** After the subscription stopped: nack what never started, wait for handlers and settlements. */
  async #drain(): Promise<void> {
    this.#stopping = true;
    for (const m of this.#buffer.splice(0)) void this.#settle(m, 'nack', 0);
    if (this.#running > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    while (this.#settling.size > 0) await Promise.all([...this.#settling]);
  }
}
