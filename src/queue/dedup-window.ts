/**
 * The deduplication window of one queue: keys seen within dedupWindowMs, each with the result
 * (payload seqs and offsets) to replay. At most `keysMax` keys; the oldest is evicted first.
 * Entries are created in clock order, so Map insertion order is both age order and the key order
 * of their dedup keys (71 05 queueId seq), which is how load() rebuilds the same order.
 */
import { assert } from '../../raft/assert.js';
import { dedupKey } from './keys.js';
import { dedupWindowMs } from './limits.js';
import { encodeDedup, type DedupRecord } from './records.js';
import type { StateWriter } from './state-store.js';

/** A dedup entry in the heap. */
export interface DedupEntry {
  /** Position of the entry in the keyspace (log position of its creation). */
  readonly seq: number;
  readonly createdAtMs: number;
  readonly seqs: readonly number[];
  readonly offsets: readonly number[];
}

/** Deduplication keys of one queue. */
export class DedupWindow {
  /** Invariant: insertion order == increasing seq == non-decreasing createdAtMs; size <= keysMax. */
  #entries = new Map<string, DedupEntry>();
  readonly #queueId: number;
  readonly #keysMax: number;

  constructor(queueId: number, keysMax: number) {
    assert(keysMax >= 1, 'dedup keysMax must be positive');
    this.#queueId = queueId;
    this.#keysMax = keysMax;
  }

  /** Number of keys held (expired ones included until expire()). */
  get size(): number {
    return this.#entries.size;
  }

  /** The entry of `key` when it is still inside the window at `nowMs`. */
  lookup(key: string, nowMs: number): DedupEntry | undefined {
    const e = this.#entries.get(key);
    return e !== undefined && e.createdAtMs + dedupWindowMs > nowMs ? e : undefined;
  }

  /** Records `key` (replacing an expired entry of the same key), evicting the oldest when full. */
  insert(w: StateWriter, key: string, entry: DedupEntry): void {
    const old = this.#entries.get(key);
    if (old !== undefined) {
      assert(old.seq < entry.seq, 'dedup seq not increasing');
      this.#entries.delete(key);
      w.del(dedupKey(this.#queueId, old.seq));
    }
    while (this.#entries.size >= this.#keysMax) this.#evictOldest(w);
    this.#entries.set(key, entry);
    const record: DedupRecord = { key, createdAtMs: entry.createdAtMs, seqs: entry.seqs, offsets: entry.offsets };
    w.put(dedupKey(this.#queueId, entry.seq), encodeDedup(record));
  }

  /** Removes entries outside the window at `nowMs`; returns how many. */
  expire(w: StateWriter, nowMs: number): number {
    let n = 0;
    for (const [key, e] of this.#entries) {
      if (e.createdAtMs + dedupWindowMs > nowMs) break;
      this.#entries.delete(key);
      w.del(dedupKey(this.#queueId, e.seq));
      n++;
    }
    return n;
  }

  /** Removes every entry (queue deleted). */
  clear(w: StateWriter): void {
    for (const e of this.#entries.values()) w.del(dedupKey(this.#queueId, e.seq));
    this.#entries.clear();
  }

  /** Adds an entry read from the keyspace during load (in key order). */
  restore(seq: number, record: DedupRecord): void {
    this.#entries.set(record.key, { seq, createdAtMs: record.createdAtMs, seqs: record.seqs, offsets: record.offsets });
  }

  #evictOldest(w: StateWriter): void {
    const first = this.#entries.entries().next();
    assert(first.done !== true, 'evict from empty window');
    const [key, e] = first.value;
    this.#entries.delete(key);
    w.del(dedupKey(this.#queueId, e.seq));
  }
}
