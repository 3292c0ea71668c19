import { assert } from '../assert.js';

/**
 * The append messages sent to one follower in replicate state and not yet acknowledged, as a
 * bounded window: a leader stops pipelining to a follower when `countMax` messages or
 * `bytesMax` bytes are outstanding, so a slow follower cannot make the leader buffer without
 * bound.
 *
 * Invariant: indexes are increasing; count() <= countMax.
 */
export class Inflights {
  readonly #countMax: number;
  readonly #bytesMax: number;
  /** Last entry index of each outstanding message, oldest first. */
  #indexes: number[] = [];
  #sizes: number[] = [];
  #bytes = 0;

  constructor(countMax: number, bytesMax: number) {
    assert(countMax >= 1, 'inflights countMax must be >= 1');
    this.#countMax = countMax;
    this.#bytesMax = bytesMax;
  }

  /** Records a message whose last entry is `index`, of `bytes` bytes. */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'inflights: add to a full window');
    const last = this.#indexes[this.#indexes.length - 1];
    assert(last === undefined || index > last, () => `inflights: index ${index} not above ${last}`);
    this.#indexes.push(index);
    this.#sizes.push(bytes);
    this.#bytes += bytes;
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.#indexes.length && this.#indexes[n]! <= index) {
      this.#bytes -= this.#sizes[n]!;
      n++;
    }
    if (n > 0) {
      this.#indexes = this.#indexes.slice(n);
      this.#sizes = this.#sizes.slice(n);
    }
  }

  /** Frees the oldest outstanding message. */
  freeFirst(): void {
    const first = this.#indexes[0];
    if (first !== undefined) this.freeLE(first);
  }

  /** Whether no further message may be sent. */
  full(): boolean {
    return this.#indexes.length >= this.#countMax || (this.#bytesMax > 0 && this.#bytes >= this.#bytesMax);
  }

  /** Number of outstanding messages. */
  count(): number {
    return this.#indexes.length;
  }

  /** Forgets everything (the follower changed state). */
  reset(): void {
    this.#indexes = [];
    this.#sizes = [];
    this.#bytes = 0;
  }
}
