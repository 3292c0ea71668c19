import { RaftqError } from '../errors.js';
import type { ReceivedMessage } from '../queue/index.js';
import { toRaftqError } from '../server/error-map.js';
import type { BinaryContext } from './binary-ops.js';
import { receiveCommand, wakeDelayMs, worthReceiving } from './long-poll-receive.js';
import { proposeCommand } from './queue-ops.js';
import { authorize } from './auth/authorize.js';
import { queueResource } from '../queue/permissions.js';

/**
 * Largest credit a subscription may hold, in messages. Credit bounds what the server may push
 * unasked (up to 1 MiB per message), so a client cannot make it buffer without limit; 10k is
 * far above any useful prefetch.
 */
export const subscriptionCreditMax = 10_000;

/** Messages per receive a subscription performs: the queue's limit per receive command. */
const receiveBatchMax = 100;

/** Where a subscription sends what it receives. */
export interface SubscriptionSink {
  /** Sends one message to the client; false when the connection is gone. */
  deliver(m: ReceivedMessage): boolean;
  /** The subscription ended on its own: `err` goes to the client as an error with its id. */
  ended(err: RaftqError): void;
}

/**
 * A push subscription (client.proto Subscribe): while it holds credit it performs receives on
 * the client's behalf, through the log like any receive, and pushes each message; it waits for
 * an enqueue (QueueApplication.waitForActivity) when the queue is empty, and for credit when it
 * has none.
 *
 * Invariant: deliveries made <= credit granted (initial + every addCredit), i.e. #credit >= 0:
 * a receive asks for at most #credit messages and each delivery uses one unit.
 */
export class ServerSubscription {
  readonly id: number;
  readonly queue: string;
  readonly #ctx: BinaryContext & { readonly consuming: true };
  readonly #visibilityTimeoutMs: number | undefined;
  readonly #sink: SubscriptionSink;
  #credit: number;
  #cancelled = false;
  /** Wakes the loop when credit arrives or the subscription is cancelled. */
  #wake: (() => void) | undefined;
  #done: Promise<void> = Promise.resolve();

  constructor(ctx: BinaryContext, id: number, queue: string, visibilityTimeoutMs: number | undefined, credit: number, sink: SubscriptionSink) {
    checkCredit(credit, 0);
    // A subscription needs `consume`; its receives, and the nacks of undelivered messages, too.
    authorize(ctx.principal, 'consume', queueResource(queue));
    this.#ctx = { ...ctx, consuming: true };
    this.id = id;
    this.queue = queue;
    this.#visibilityTimeoutMs = visibilityTimeoutMs;
    this.#credit = credit;
    this.#sink = sink;
  }

  /** Starts the receive loop. */
  start(): void {
    this.#done = this.#run();
  }

  /** Credit still unused, in messages. */
  get credit(): number {
    return this.#credit;
  }

  /** Grants `n` more deliveries. Throws INVALID_ARGUMENT beyond subscriptionCreditMax. */
  addCredit(n: number): void {
    checkCredit(n, this.#credit);
    this.#credit += n;
    this.#wake?.();
  }

  /**
   * Stops the loop; resolves once it has stopped. A receive already proposed still completes
   * and its messages are still delivered (the client settles them), so nothing is left in
   * flight unseen.
   */
  cancel(): Promise<void> {
    this.#cancelled = true;
    this.#wake?.();
    return this.#done;
  }

  async #run(): Promise<void> {
    try {
      while (!this.#cancelled && !this.#ctx.closing.aborted) {
        if (this.#credit <= 0) {
          await this.#sleep(undefined);
          continue;
        }
        if (worthReceiving(this.#ctx, this.queue)) {
          const got = await this.#receive();
          if (got > 0) continue;
        }
        await this.#sleep(this.#ctx.app.waitForActivity(this.queue, wakeDelayMs(this.#ctx, this.queue)));
      }
    } catch (e) {
      const err = toRaftqError(e);
      if (err.code === 'INTERNAL') this.#ctx.logger.error({ err: e, queue: this.queue }, 'subscription failed');
      if (!this.#cancelled) this.#sink.ended(err);
    }
  }

  /** One receive of up to #credit messages, each delivered; returns how many. */
  async #receive(): Promise<number> {
    const max = Math.min(this.#credit, receiveBatchMax);
    const res = await proposeCommand(this.#ctx, receiveCommand(this.queue, max, this.#visibilityTimeoutMs));
    if (res.messages.length > max) throw new RaftqError('INTERNAL', `receive of ${max} returned ${res.messages.length} messages`);
    const undelivered: ReceivedMessage[] = [];
    for (const m of res.messages) {
      this.#credit--;
      if (!this.#sink.deliver(m)) undelivered.push(m);
    }
    if (undelivered.length > 0) this.#release(undelivered);
    return res.messages.length;
  }

  /** Makes messages the client never got visible again at once (best effort). */
  #release(messages: readonly ReceivedMessage[]): void {
    for (const m of messages) {
      proposeCommand(this.#ctx, { type: 'changeVisibility', queue: this.queue, receipt: m.receipt, visibilityTimeoutMs: 0 }).catch((e: unknown) =>
        this.#ctx.logger.debug({ err: e, queue: this.queue }, 'could not release an undelivered message; it returns when its lease ends'),
      );
    }
  }

  /** Waits for `activity` (or forever when undefined) or until woken by credit / cancel. */
  async #sleep(activity: Promise<void> | undefined): Promise<void> {
    const woken = new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    await (activity === undefined ? woken : Promise.race([activity, woken]));
    this.#wake = undefined;
  }
}

function checkCredit(n: number, held: number): void {
  if (!Number.isInteger(n) || n < 0 || held + n > subscriptionCreditMax) {
    throw new RaftqError('INVALID_ARGUMENT', `credit must be an integer keeping a subscription's credit within 0..${subscriptionCreditMax} (held ${held}, granted ${n})`);
  }
}
