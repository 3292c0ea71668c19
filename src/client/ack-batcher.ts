import { RaftqError } from '../errors.js';
import type { Router } from './router.js';

/** Receipts per Ack request: the queue's limit per ack command. */
const receiptsPerAckMax = 100;

interface PendingAck {
  readonly receipt: string;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Coalesces acks issued in the same turn of the event loop into Ack requests of up to 100
 * receipts per queue: one log entry (and one fsync share) instead of one per message, which is
 * what lets a consumer keep up with many producers. Each caller still gets its own outcome.
 */
export class AckBatcher {
  readonly #router: Router;
  readonly #pending = new Map<string, PendingAck[]>();
  #scheduled = false;

  constructor(router: Router) {
    this.#router = router;
  }

  /** Acks one receipt; rejects with STALE_RECEIPT when a later delivery superseded it. */
  ack(queue: string, receipt: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let list = this.#pending.get(queue);
      if (list === undefined) this.#pending.set(queue, (list = []));
      list.push({ receipt, resolve, reject });
      if (list.length >= receiptsPerAckMax) this.#flushQueue(queue);
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    for (const queue of [...this.#pending.keys()]) this.#flushQueue(queue);
  }

  #flushQueue(queue: string): void {
    const list = this.#pending.get(queue);
    if (list === undefined) return;
    this.#pending.delete(queue);
    for (let i = 0; i < list.length; i += receiptsPerAckMax) void this.#send(queue, list.slice(i, i + receiptsPerAckMax));
  }

  async #send(queue: string, batch: PendingAck[]): Promise<void> {
    try {
      const res = await this.#router.call({ ack: { queue, receipts: batch.map((b) => b.receipt) } }, 'ack');
      batch.forEach((b, i) => {
        if (res?.outcomes[i] === 'stale') b.reject(new RaftqError('STALE_RECEIPT', `receipt of ${queue} belongs to an earlier delivery; the message was delivered again since`));
        else b.resolve();
      });
    } catch (e) {
      for (const b of batch) b.reject(e);
    }
  }
}
