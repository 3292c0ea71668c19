import type { RaftqError } from '../errors.js';
import { Message, type Settler } from './message.js';
import type { Router } from './router.js';
import { ClientSubscription } from './subscription.js';
import type { MessagesOptions } from './types.js';

/**
 * The async-iterator form of a push subscription: `for await (const m of client.messages(q))`.
 * Each message must be acked or nacked; settling it returns its credit, so at most `prefetch`
 * messages are delivered and not yet settled. Leaving the loop (break, return, throw) or
 * close() unsubscribes and nacks what was delivered but not yet yielded.
 */
export class MessageStream implements AsyncIterableIterator<Message> {
  /** The queue consumed. */
  readonly queue: string;
  readonly #sub: ClientSubscription;
  readonly #settler: Settler;
  readonly #buffer: Message[] = [];
  #waiter: ((r: IteratorResult<Message>) => void) | undefined;
  #failer: ((e: unknown) => void) | undefined;
  #error: RaftqError | undefined;
  #stopped = false;

  /** @internal use Client.messages(). */
  constructor(router: Router, settler: Omit<Settler, 'settled'>, queue: string, options: MessagesOptions) {
    this.queue = queue;
    this.#sub = new ClientSubscription(
      router,
      queue,
      { prefetch: options.prefetch ?? 10, visibilityTimeoutMs: options.visibilityTimeoutMs },
      {
        onMessage: (w) => {
          const m = new Message(queue, w, this.#settler);
          if (this.#stopped) void m.nack().catch(() => {});
          else if (this.#waiter !== undefined) this.#wake({ value: m, done: false });
          else this.#buffer.push(m);
        },
        onError: (err, fatal) => {
          if (!fatal) return;
          this.#error = err;
          this.#stopped = true;
          this.#fail(err);
        },
      },
    );
    this.#settler = { ...settler, settled: () => this.#sub.settled() };
    this.#sub.start();
    // The router closed (client.close()): end the iteration.
    void this.#sub.done.then(() => {
      this.#stopped = true;
      this.#wake({ value: undefined, done: true });
    });
  }

  /** Resolves once the subscription has stopped (closed, or ended by an error). */
  get finished(): Promise<void> {
    return this.#sub.done;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next message; waits for one. Rejects with the error that ended the subscription. */
  next(): Promise<IteratorResult<Message>> {
    const m = this.#buffer.shift();
    if (m !== undefined) return Promise.resolve({ value: m, done: false });
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#stopped) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== undefined) return Promise.reject(new TypeError('MessageStream: next() called again before the previous call resolved'));
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failer = reject;
    });
  }

  /** Ends the iteration (called by `break`): like close(). */
  async return(): Promise<IteratorResult<Message>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Unsubscribes and nacks messages delivered but not yet yielded. */
  async close(): Promise<void> {
    this.#stopped = true;
    await this.#sub.close();
    await Promise.all(this.#buffer.splice(0).map((m) => m.nack().catch(() => {})));
    this.#wake({ value: undefined, done: true });
  }

  #wake(r: IteratorResult<Message>): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    this.#failer = undefined;
    w?.(r);
  }

  #fail(e: unknown): void {
    const f = this.#failer;
    this.#waiter = undefined;
    this.#failer = undefined;
    f?.(e);
  }
}
