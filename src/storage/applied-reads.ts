/**
 * Reads of the applied state (DurableStorage's StateReader): the newest value of a key is the
 * pending change, else the one of the checkpoint being written (checkpointer.ts), else LevelDB's
 * in the live generation. Every stored value is verified (applied-values.ts): damage is never
 * returned.
 */
import { assert } from '../../raft/assert.js';
import { decodeAppliedValue } from './applied-values.js';
import type { Checkpointer } from './checkpointer.js';
import { appliedKey, appliedKeyPrefixBytes, prefixEnd } from './keys.js';
import type { Db } from './level-db.js';

/** Pairs read per native call when iterating. */
const iterateBatchEntries = 1024;

/** The applied-state reads of one data directory (module comment). */
export class AppliedReads {
  readonly #db: Db;
  readonly #cp: Checkpointer;
  /** False only for the skip-checksums negative control. */
  readonly #verify: boolean;

  constructor(db: Db, cp: Checkpointer, verify: boolean) {
    this.#db = db;
    this.#cp = cp;
    this.#verify = verify;
  }

  /** The applied value at `key`, or undefined. A damaged value: StorageCorruptionError. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const pending = this.#cp.lookup(key);
    if (pending !== undefined) return pending.value;
    const stored = await this.#db.get(appliedKey(this.#cp.applied.generation, key));
    return stored === undefined ? undefined : decodeAppliedValue(key, stored, this.#verify);
  }

  /** The applied values at `keys`, in order (undefined where absent), in one LevelDB multi-get. */
  async getMany(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    if (keys.length === 0) return [];
    const out: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(keys.length);
    const missed: number[] = [];
    keys.forEach((k, i) => {
      const pending = this.#cp.lookup(k);
      if (pending === undefined) missed.push(i);
      else out[i] = pending.value;
    });
    if (missed.length === 0) return out;
    const gen = this.#cp.applied.generation;
    const stored = await this.#db.getMany(missed.map((i) => appliedKey(gen, keys[i]!)));
    stored.forEach((v, j) => {
      const i = missed[j]!;
      out[i] = v === undefined ? undefined : decodeAppliedValue(keys[i]!, v, this.#verify);
    });
    return out;
  }

  /**
   * Applied pairs under `prefix`, in key order, from the moment iteration starts; the pairs
   * before a damaged value were sound.
   */
  async *iterate(prefix: Uint8Array): AsyncGenerator<[Uint8Array, Uint8Array]> {
    // Read at load only (open, after an install), when nothing is pending: LevelDB is the state.
    assert(!this.#cp.dirty, 'iterate with changes pending since the checkpoint');
    const gte = appliedKey(this.#cp.applied.generation, prefix);
    const lt = prefixEnd(gte);
    assert(lt !== null, 'applied keys never start with 0xff');
    // nextv in batches: a restart loads every message record through here, and one native
    // call per record (the async iterator's next) costs more than the record's decoding.
    const it = this.#db.iterator({ gte, lt });
    try {
      for (;;) {
        const batch = await it.nextv(iterateBatchEntries);
        if (batch.length === 0) break;
        for (const [k, v] of batch) {
          const key = k.subarray(appliedKeyPrefixBytes);
          yield [key, decodeAppliedValue(key, v, this.#verify)];
        }
      }
    } finally {
      await it.close();
    }
  }
}
