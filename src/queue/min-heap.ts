/**
 * A binary min-heap of (key, value) number pairs in growable Float64Arrays: 16 bytes per entry
 * and no per-entry objects, so a heap of a million deadlines costs 16 MB, not 100. Ties on key
 * are broken by value, so the pop order is a pure function of the pairs pushed.
 */
import { assert } from '../../raft/assert.js';

const initialCapacity = 16;

/** Min-heap ordered by key, then value. */
export class MinHeap {
  /** Invariant: entries [0, #size) form a heap on (key, value). */
  #keys = new Float64Array(initialCapacity);
  #values = new Float64Array(initialCapacity);
  #size = 0;

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** Adds a pair. */
  push(key: number, value: number): void {
    if (this.#size === this.#keys.length) this.#grow();
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(key, value, this.#keys[parent]!, this.#values[parent]!)) break;
      this.#keys[i] = this.#keys[parent]!;
      this.#values[i] = this.#values[parent]!;
      i = parent;
    }
    this.#keys[i] = key;
    this.#values[i] = value;
  }

  /** The smallest key, or Infinity when empty. */
  peekKey(): number {
    return this.#size === 0 ? Infinity : this.#keys[0]!;
  }

  /** The value of the smallest pair; the heap must not be empty. */
  peekValue(): number {
    assert(this.#size > 0, 'peek on empty heap');
    return this.#values[0]!;
  }

  /** Removes the smallest pair. */
  pop(): void {
    assert(this.#size > 0, 'pop on empty heap');
    const last = --this.#size;
    const key = this.#keys[last]!;
    const value = this.#values[last]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child = right < last && this.#less(this.#keys[right]!, this.#values[right]!, this.#keys[left]!, this.#values[left]!) ? right : left;
      if (!this.#less(this.#keys[child]!, this.#values[child]!, key, value)) break;
      this.#keys[i] = this.#keys[child]!;
      this.#values[i] = this.#values[child]!;
      i = child;
    }
    if (last > 0) {
      this.#keys[i] = key;
      this.#values[i] = value;
    }
  }

  /** Removes every entry. */
  clear(): void {
    this.#size = 0;
    if (this.#keys.length > initialCapacity * 64) {
      this.#keys = new Float64Array(initialCapacity);
      this.#values = new Float64Array(initialCapacity);
    }
  }

  #less(ka: number, va: number, kb: number, vb: number): boolean {
    return ka < kb || (ka === kb && va < vb);
  }

  #grow(): void {
    const keys = new Float64Array(this.#keys.length * 2);
    const values = new Float64Array(this.#values.length * 2);
    keys.set(this.#keys);
    values.set(this.#values);
    this.#keys = keys;
    this.#values = values;
  }
}
