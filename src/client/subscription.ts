import { RaftqError } from '../errors.js';
import type { WireIncoming } from '../proto/client-wire.js';
import { backoffMs, sleep } from './backoff.js';
import type { ClientConnection } from './connection.js';
import { asRaftqError, isRetryable } from './errors.js';
import type { Router } from './router.js';

/** Settings of one subscription. */
export interface SubscriptionSettings {
  /** Deliveries not yet settled, at most: the credit the server holds plus what the client holds. */
  readonly prefetch: number;
  /** Lease of each delivery in milliseconds; default the queue's. */
  readonly visibilityTimeoutMs?: number | undefined;
}

/** What a subscription reports. */
export interface SubscriptionEvents {
  onMessage(m: WireIncoming): void;
  /** An error; `fatal` when the subscription stopped because of it (not retryable). */
  onError(err: RaftqError, fatal: boolean): void;
}

/**
 * The client side of a push subscription (client.proto Subscribe/Credit): keeps one
 * subscription alive on the router's current connection, subscribing again (with backoff) when
 * the connection is lost or the node ends it, and returns credit as messages are settled.
 *
 * Invariant: unsettled + credit held by the server + #creditToSend == prefetch, while subscribed.
 * On (re)subscribing the initial credit is prefetch - unsettled and #creditToSend restarts at 0,
 * so deliveries not yet settled never exceed prefetch, across reconnects too.
 */
export class ClientSubscription {
  readonly queue: string;
  readonly #router: Router;
  readonly #settings: SubscriptionSettings;
  readonly #events: SubscriptionEvents;
  /** Delivered and not yet settled. Invariant: 0 <= #unsettled <= prefetch. */
  #unsettled = 0;
  /** Credit returned by settlements and not yet sent. */
  #creditToSend = 0;
  #creditScheduled = false;
  #active: { conn: ClientConnection; id: number } | undefined;
  readonly #stopper = new AbortController();
  #done: Promise<void> = Promise.resolve();

  constructor(router: Router, queue: string, settings: SubscriptionSettings, events: SubscriptionEvents) {
    if (!Number.isInteger(settings.prefetch) || settings.prefetch < 1 || settings.prefetch > 10_000) throw new RangeError('prefetch must be an integer within 1..10000');
    this.#router = router;
    this.queue = queue;
    this.#settings = settings;
    this.#events = events;
  }

  /** Deliveries not yet settled. */
  get unsettled(): number {
    return this.#unsettled;
  }

  /** Resolves when the subscription has stopped (closed, or a fatal error). */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Starts subscribing. */
  start(): void {
    this.#done = this.#run();
  }

  /** One delivered message was acked or nacked: its credit goes back to the server. */
  settled(): void {
    this.#unsettled--;
    this.#creditToSend++;
    if (this.#creditScheduled) return;
    this.#creditScheduled = true;
    setImmediate(() => {
      this.#creditScheduled = false;
      this.#flushCredit();
    });
  }

  /**
   * Unsubscribes: no delivery starts after this resolves. Deliveries that were already on their
   * way still reach onMessage before it resolves.
   */
  async close(): Promise<void> {
    if (!this.#stopper.signal.aborted) {
      this.#stopper.abort();
      await this.#unsubscribeActive();
    }
    await this.#done;
  }

  /** Ends the active subscription on the server, then locally. */
  async #unsubscribeActive(): Promise<void> {
    const a = this.#active;
    if (a === undefined || a.conn.closed) return;
    try {
      await a.conn.request({ unsubscribe: { subscription: a.id } }, 'unsubscribe', this.#router.settings.requestTimeoutMs);
    } catch {
      // The connection is gone, and the subscription with it.
    }
    a.conn.endSubscription(a.id);
  }

  async #run(): Promise<void> {
    const signal = this.#stopper.signal;
    for (let attempt = 0; !signal.aborted && !this.#router.closed; ) {
      try {
        const err = await this.#subscribeOnce(() => {
          attempt = 0;
        });
        if (err === undefined || signal.aborted) return;
        throw err;
      } catch (e) {
        const err = asRaftqError(e);
        if (signal.aborted || this.#router.closed) return;
        const fatal = !isRetryable(err);
        this.#events.onError(err, fatal);
        if (fatal) return;
        await sleep(backoffMs(attempt++, this.#router.settings.retryDelayMs, this.#router.settings.retryDelayMsMax), signal);
      }
    }
  }

  /** Subscribes on the current connection; resolves with why the subscription ended. */
  async #subscribeOnce(onStarted: () => void): Promise<RaftqError | undefined> {
    const conn = await this.#router.connection();
    let ended!: (err: RaftqError | undefined) => void;
    const end = new Promise<RaftqError | undefined>((resolve) => (ended = resolve));
    const credit = this.#settings.prefetch - this.#unsettled;
    this.#creditToSend = 0;
    const vis = this.#settings.visibilityTimeoutMs;
    const id = await conn.subscribe(
      { subscribe: { queue: this.queue, credit, ...(vis !== undefined ? { visibilityTimeoutMs: vis } : {}) } },
      { onDelivery: (m) => this.#onDelivery(m), onEnd: (err) => ended(err) },
      this.#router.settings.requestTimeoutMs,
    );
    this.#active = { conn, id };
    onStarted();
    // close() ran while the server was accepting the subscription: end it now.
    if (this.#stopper.signal.aborted) void this.#unsubscribeActive();
    this.#flushCredit();
    try {
      return await end;
    } finally {
      this.#active = undefined;
    }
  }

  #onDelivery(m: WireIncoming): void {
    this.#unsettled++;
    if (this.#unsettled > this.#settings.prefetch) {
      this.#events.onError(new RaftqError('INTERNAL', `the server delivered beyond the credit granted (${this.#unsettled} unsettled > prefetch ${this.#settings.prefetch})`), false);
    }
    this.#events.onMessage(m);
  }

  #flushCredit(): void {
    const a = this.#active;
    if (a === undefined || a.conn.closed || this.#creditToSend === 0 || this.#stopper.signal.aborted) return;
    a.conn.post({ credit: { subscription: a.id, messages: this.#creditToSend } });
    this.#creditToSend = 0;
  }
}
