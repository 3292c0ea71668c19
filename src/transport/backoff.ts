/**
 * Reconnect delays: exponential backoff with "equal jitter" (half the delay fixed, half random),
 * so a cluster restarting together does not redial in lockstep, and no delay is ever zero.
 */
import { assert } from '../../raft/assert.js';

/**
 * Default first reconnect delay: 50 ms. Long enough not to spin on a refused port, short
 * enough that a peer restarted within an election timeout is reached again before it matters.
 */
export const reconnectDelayMsInitialDefault = 50;

/**
 * Default cap on reconnect delays: 2 s (reached after 6 doublings). Once a peer came back, the
 * dialer notices within about 2 s, a small multiple of the election timeout; a dead peer costs
 * one failed dial every 1-2 s.
 */
export const reconnectDelayMsMaxDefault = 2000;

/** A random number in [0, 1); injected so tests are deterministic. */
export type Rng = () => number;

/** The delay schedule of one peer's reconnects. */
export class Backoff {
  readonly #rng: Rng;
  readonly #delayMsInitial: number;
  readonly #delayMsMax: number;
  /** Failed attempts since the last reset. Invariant: >= 0. */
  #attempts = 0;

  constructor(rng: Rng, delayMsInitial: number = reconnectDelayMsInitialDefault, delayMsMax: number = reconnectDelayMsMaxDefault) {
    assert(delayMsInitial > 0 && delayMsMax >= delayMsInitial, 'backoff bounds must satisfy 0 < initial <= max');
    this.#rng = rng;
    this.#delayMsInitial = delayMsInitial;
    this.#delayMsMax = delayMsMax;
  }

  /** The delay before the next attempt in milliseconds, within [ceiling/2, ceiling). */
  nextDelayMs(): number {
    const ceilingMs = Math.min(this.#delayMsMax, this.#delayMsInitial * 2 ** Math.min(this.#attempts, 30));
    this.#attempts += 1;
    const r = this.#rng();
    assert(r >= 0 && r < 1, () => `rng returned ${r}`);
    return ceilingMs / 2 + (r * ceilingMs) / 2;
  }

  /** Starts over from the initial delay (after a successful handshake). */
  reset(): void {
    this.#attempts = 0;
  }
}
