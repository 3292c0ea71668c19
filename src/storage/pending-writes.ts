/**
 * The applied-state writes since the last checkpoint, kept in memory and coalesced: a later
 * write to a key replaces an earlier one, and a key created since the checkpoint (a put marked
 * `created`: a new message, a new payload) and deleted again leaves nothing at all. A queue
 * that drains as fast as it fills therefore writes next to nothing to LevelDB: the Raft log
 * (durable in segments) is what makes those changes survive a crash, replayed after the
 * checkpoint at open (durable-storage.ts, "Checkpoints").
 */
import type { BatchOp } from './level-db.js';

/** A change to the applied state; keys are the state machine's, without the storage prefix. */
export type StateWrite =
  | {
      readonly type: 'put';
      readonly key: Uint8Array;
      readonly value: Uint8Array;
      /** The key holds no value before this put (the writer knows: a new message or payload). */
      readonly created?: boolean;
    }
  | { readonly type: 'del'; readonly key: Uint8Array };

interface Pending {
  readonly key: Uint8Array;
  /** The value to write, or undefined for a delete. */
  value: Uint8Array | undefined;
  /** The key held no value at the checkpoint: a delete of it writes nothing. */
  readonly created: boolean;
}

/** Bytes accounted per pending key besides key and value (map entry, object). */
const perKeyOverheadBytes = 64;

/** Applied-state writes since the last checkpoint (module comment). */
export class PendingWrites {
  readonly #byKey = new Map<string, Pending>();
  #bytes = 0;

  /** Number of pending keys. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Approximate memory the pending writes take, in bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Merges `writes`, in order. */
  merge(writes: readonly StateWrite[]): void {
    for (const w of writes) {
      const id = keyId(w.key);
      const old = this.#byKey.get(id);
      if (old !== undefined) this.#bytes -= entryBytes(old);
      if (w.type === 'put') {
        const p: Pending = { key: w.key, value: w.value, created: old?.created ?? w.created === true };
        this.#byKey.set(id, p);
        this.#bytes += entryBytes(p);
      } else if (old?.created === true) {
        this.#byKey.delete(id);
      } else {
        const p: Pending = { key: w.key, value: undefined, created: false };
        this.#byKey.set(id, p);
        this.#bytes += entryBytes(p);
      }
    }
  }

  /**
   * The pending value of `key`: `{ value }` when a write is pending (value undefined: a
   * pending delete), undefined when the checkpoint's value stands.
   */
  lookup(key: Uint8Array): { readonly value: Uint8Array | undefined } | undefined {
    const p = this.#byKey.get(keyId(key));
    return p === undefined ? undefined : { value: p.value };
  }

  /** The writes as LevelDB operations, with `toKey` mapping a state key to its stored key and `encode` its value. */
  ops(toKey: (key: Uint8Array) => Uint8Array, encode: (key: Uint8Array, value: Uint8Array) => Uint8Array): BatchOp[] {
    const out: BatchOp[] = [];
    for (const p of this.#byKey.values()) {
      out.push(p.value === undefined ? { type: 'del', key: toKey(p.key) } : { type: 'put', key: toKey(p.key), value: encode(p.key, p.value) });
    }
    return out;
  }

  /** Forgets everything (written by a checkpoint, or replaced by a snapshot). */
  clear(): void {
    this.#byKey.clear();
    this.#bytes = 0;
  }
}

function keyId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

function entryBytes(p: Pending): number {
  return perKeyOverheadBytes + 2 * p.key.length + (p.value?.length ?? 0);
}
