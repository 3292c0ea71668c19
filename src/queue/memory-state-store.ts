/**
 * An in-memory StateWriter + StateReader for tests and tools: a sorted map of byte keys.
 * Writes are visible at once (no batching).
 */
import { compareKeys, hasPrefix } from './keys.js';
import type { StateReader, StateWriter } from './state-store.js';

function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** In-memory queue state keyspace. */
export class MemoryStateStore implements StateWriter, StateReader {
  /** Invariant: keyed by the latin1 string of the key bytes, whose UTF-16 order equals byte order. */
  #entries = new Map<string, { key: Uint8Array; value: Uint8Array }>();

  /** Sets `key` to a copy of `value`. */
  put(key: Uint8Array, value: Uint8Array): void {
    this.#entries.set(keyString(key), { key: Uint8Array.from(key), value: Uint8Array.from(value) });
  }

  /** Removes `key`. */
  del(key: Uint8Array): void {
    this.#entries.delete(keyString(key));
  }

  /** The value of `key`. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#entries.get(keyString(key))?.value;
  }

  /** Entries under `prefix` in key order (a snapshot taken when iteration starts). */
  async *iterate(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    for (const [key, value] of this.dump()) {
      if (hasPrefix(key, prefix)) yield [key, value];
    }
  }

  /** Every entry in key order. */
  dump(): Array<[Uint8Array, Uint8Array]> {
    const all = [...this.#entries.values()].sort((a, b) => compareKeys(a.key, b.key));
    return all.map((e) => [e.key, e.value]);
  }

  /** Number of keys stored. */
  get size(): number {
    return this.#entries.size;
  }

  /** A copy of this store (a snapshot). */
  clone(): MemoryStateStore {
    const copy = new MemoryStateStore();
    for (const [k, v] of this.dump()) copy.put(k, v);
    return copy;
  }

  /** A hex rendering of every entry, for equality checks in tests. */
  fingerprint(): string {
    return this.dump()
      .map(([k, v]) => `${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`)
      .join('\n');
  }
}
