/**
 * ReceiveRequestAttemptId of FIFO queues: a ReceiveMessage retried with the same attempt id
 * (say, after a lost response) returns the same messages and receipt handles while their
 * visibility timeout lasts, instead of leasing the next ones. Node-local: a retry that reaches
 * another node, or this node after a restart, receives afresh, as SQS's own retry window does
 * after the visibility timeout; the messages of the lost response then come back when their
 * lease runs out, so nothing is lost either way.
 */

/** Attempts remembered at most; the oldest goes first. */
export const receiveAttemptsMax = 10_000;
/** Longest a receive attempt is remembered (SQS: 5 minutes). */
export const receiveAttemptTtlMs = 5 * 60_000;

interface Attempt {
  readonly expiresAtMs: number;
  readonly output: Record<string, unknown>;
}

/** Remembered receive responses by queue and attempt id. */
export class ReceiveAttempts {
  readonly #byKey = new Map<string, Attempt>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The response of an earlier attempt `attemptId` on `queue`, while it lasts. */
  get(queue: string, attemptId: string): Record<string, unknown> | undefined {
    const key = `${queue}\u0000${attemptId}`;
    const a = this.#byKey.get(key);
    if (a === undefined) return undefined;
    if (a.expiresAtMs <= this.#now()) {
      this.#byKey.delete(key);
      return undefined;
    }
    return a.output;
  }

  /** Remembers `output` for attempt `attemptId` on `queue` for `ttlMs` (capped at receiveAttemptTtlMs). */
  put(queue: string, attemptId: string, output: Record<string, unknown>, ttlMs: number): void {
    const key = `${queue}\u0000${attemptId}`;
    this.#byKey.delete(key);
    if (ttlMs <= 0) return;
    this.#byKey.set(key, { expiresAtMs: this.#now() + Math.min(ttlMs, receiveAttemptTtlMs), output });
    while (this.#byKey.size > receiveAttemptsMax) this.#byKey.delete(this.#byKey.keys().next().value!);
  }
}
