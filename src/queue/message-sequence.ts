/**
 * The live messages of one queue in offset order, as columns of typed arrays: offset,
 * enqueuedAtMs, payload seq, FIFO group number and a state byte. About 29 bytes per message
 * (times at most 2 for growth slack), which is what lets a node hold a backlog of millions of
 * messages whose bodies live on disk.
 *
 * Removal in the middle (an ack) leaves a tombstone; tombstones at the front are dropped at once
 * and the arrays are compacted when tombstones outnumber live entries, so the memory is bounded
 * by about twice the live count. Positions are only valid until the next mutation.
 */
import { assert } from '../../raft/assert.js';

/** State byte of a slot. */
export const slotState = {
  /** Acked / expired / moved: a tombstone. */
  removed: 0,
  /** Visible since enqueue, never delivered; no entry in the queue's special map. */
  fresh: 1,
  /** Delivered, delayed or returned: its mutable state is in the queue's special map. */
  special: 2,
} as const;

const initialCapacity = 64;

/** Live messages of a queue in increasing offset order. */
export class MessageSequence {
  #offsets = new Float64Array(initialCapacity);
  #enqueuedAtMs = new Float64Array(initialCapacity);
  #seqs = new Float64Array(initialCapacity);
  #groups = new Uint32Array(initialCapacity);
  #states = new Uint8Array(initialCapacity);
  /** Invariant: slots [#head, #tail) hold strictly increasing offsets; #states[#head] != removed unless empty. */
  #head = 0;
  #tail = 0;
  /** Invariant: live === number of non-removed slots in [#head, #tail). */
  #live = 0;
  /** Invariant: no slot in [#head, #freshCursor) is fresh. */
  #freshCursor = 0;

  /** Number of live messages. */
  get live(): number {
    return this.#live;
  }

  /** Appends a message with an offset above every other. */
  append(offset: number, enqueuedAtMs: number, seq: number, group: number, state: number): void {
    assert(state !== slotState.removed, 'append of a removed slot');
    if (this.#tail > this.#head) {
      assert(offset > this.#offsets[this.#tail - 1]!, () => `offset ${offset} not increasing`);
      assert(enqueuedAtMs >= this.#lastEnqueuedAtMs(), () => `enqueuedAtMs ${enqueuedAtMs} not monotonic`);
    }
    if (this.#tail === this.#offsets.length) this.#makeRoom();
    const i = this.#tail++;
    this.#offsets[i] = offset;
    this.#enqueuedAtMs[i] = enqueuedAtMs;
    this.#seqs[i] = seq;
    this.#groups[i] = group;
    this.#states[i] = state;
    this.#live++;
  }

  #lastEnqueuedAtMs(): number {
    for (let i = this.#tail - 1; i >= this.#head; i--) {
      if (this.#states[i] !== slotState.removed) return this.#enqueuedAtMs[i]!;
    }
    return -Infinity;
  }

  /** The slot of `offset`, or -1 when it is not live. */
  find(offset: number): number {
    let lo = this.#head;
    let hi = this.#tail - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const o = this.#offsets[mid]!;
      if (o === offset) return this.#states[mid] === slotState.removed ? -1 : mid;
      if (o < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Slot accessors. */
  offsetAt(slot: number): number {
    return this.#offsets[slot]!;
  }
  /** When the message in `slot` entered the queue. */
  enqueuedAtMsAt(slot: number): number {
    return this.#enqueuedAtMs[slot]!;
  }
  /** Payload seq of the message in `slot`. */
  seqAt(slot: number): number {
    return this.#seqs[slot]!;
  }
  /** FIFO group number of the message in `slot`. */
  groupAt(slot: number): number {
    return this.#groups[slot]!;
  }
  /** State byte of `slot`. */
  stateAt(slot: number): number {
    return this.#states[slot]!;
  }

  /** Marks a fresh slot special (its state moved into the special map). */
  markSpecial(slot: number): void {
    assert(this.#states[slot] === slotState.fresh, 'markSpecial of a non-fresh slot');
    this.#states[slot] = slotState.special;
  }

  /** Removes the live message in `slot`. */
  remove(slot: number): void {
    assert(slot >= this.#head && slot < this.#tail && this.#states[slot] !== slotState.removed, () => `remove of slot ${slot}`);
    this.#states[slot] = slotState.removed;
    this.#live--;
    while (this.#head < this.#tail && this.#states[this.#head] === slotState.removed) this.#head++;
    if (this.#head === this.#tail) {
      this.#head = this.#tail = this.#freshCursor = 0;
    } else if (this.#tail - this.#head > 2 * this.#live + initialCapacity) {
      this.#compact();
    }
    if (this.#freshCursor < this.#head) this.#freshCursor = this.#head;
  }

  /** The first live slot, or -1 when empty. */
  firstSlot(): number {
    return this.#head < this.#tail ? this.#head : -1;
  }

  /** The lowest fresh slot, or -1. Advances the fresh cursor past non-fresh slots. */
  firstFreshSlot(): number {
    while (this.#freshCursor < this.#tail && this.#states[this.#freshCursor] !== slotState.fresh) this.#freshCursor++;
    return this.#freshCursor < this.#tail ? this.#freshCursor : -1;
  }

  /** Offsets of all live messages in order (a copy, safe across mutations). */
  liveOffsets(): number[] {
    const out: number[] = [];
    for (let i = this.#head; i < this.#tail; i++) if (this.#states[i] !== slotState.removed) out.push(this.#offsets[i]!);
    return out;
  }

  /** Calls `fn` with the seq and enqueue time of each live message whose seq is in [lo, hi) (a tight scan: compactions run it over whole backlogs). */
  forEachSeqIn(lo: number, hi: number, fn: (seq: number, enqueuedAtMs: number) => void): void {
    const seqs = this.#seqs;
    const states = this.#states;
    for (let i = this.#head; i < this.#tail; i++) {
      const seq = seqs[i]!;
      if (seq >= lo && seq < hi && states[i] !== slotState.removed) fn(seq, this.#enqueuedAtMs[i]!);
    }
  }

  /** Calls `fn` with each live slot in order; `fn` must not mutate the sequence. */
  forEachLive(fn: (slot: number) => void): void {
    for (let i = this.#head; i < this.#tail; i++) if (this.#states[i] !== slotState.removed) fn(i);
  }

  /** Drops everything. */
  clear(): void {
    this.#head = this.#tail = this.#live = this.#freshCursor = 0;
    if (this.#offsets.length > initialCapacity * 1024) this.#resize(initialCapacity);
  }

  #makeRoom(): void {
    if (this.#tail - this.#head <= this.#offsets.length / 2 && this.#head > 0) this.#compact();
    else this.#resize(this.#offsets.length * 2);
  }

  /** Moves live slots to the front, keeping order; the fresh cursor keeps its meaning. */
  #compact(): void {
    let out = 0;
    let cursor = -1;
    for (let i = this.#head; i < this.#tail; i++) {
      if (i === this.#freshCursor) cursor = out;
      if (this.#states[i] === slotState.removed) continue;
      this.#offsets[out] = this.#offsets[i]!;
      this.#enqueuedAtMs[out] = this.#enqueuedAtMs[i]!;
      this.#seqs[out] = this.#seqs[i]!;
      this.#groups[out] = this.#groups[i]!;
      this.#states[out] = this.#states[i]!;
      out++;
    }
    this.#freshCursor = cursor === -1 ? out : cursor;
    this.#head = 0;
    this.#tail = out;
    assert(out === this.#live, 'compaction lost messages');
  }

  #resize(capacity: number): void {
    const n = this.#tail - this.#head;
    assert(capacity >= n, 'resize below size');
    const move = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (c: number) => T): T => {
      const b = make(capacity);
      b.set(a.subarray(this.#head, this.#tail));
      return b;
    };
    this.#offsets = move(this.#offsets, (c) => new Float64Array(c));
    this.#enqueuedAtMs = move(this.#enqueuedAtMs, (c) => new Float64Array(c));
    this.#seqs = move(this.#seqs, (c) => new Float64Array(c));
    this.#groups = move(this.#groups, (c) => new Uint32Array(c));
    this.#states = move(this.#states, (c) => new Uint8Array(c));
    this.#freshCursor = Math.max(0, this.#freshCursor - this.#head);
    this.#head = 0;
    this.#tail = n;
  }
}
