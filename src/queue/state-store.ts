/**
 * The storage interfaces of the queue state machine. apply() is synchronous and only writes;
 * the runtime collects the writes of a batch of applied entries and commits them in one LevelDB
 * batch together with the applied index. Reads (load, readMessages) are asynchronous.
 */

/** Receives the writes of apply(), in order; a later write to the same key wins. */
export interface StateWriter {
  /**
   * Sets `key` to `value`. Neither array is mutated afterwards by the state machine. `created`:
   * the key holds no value before this put (a new message or payload, whose keys are never
   * reused), so a store that defers writes may drop the put and a later delete of it together.
   */
  put(key: Uint8Array, value: Uint8Array, created?: boolean): void;
  /** Removes `key` (no-op when absent). */
  del(key: Uint8Array): void;
}

/** Reads committed state. */
export interface StateReader {
  /** The value of `key`, or undefined when absent. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** The values of `keys` in order (undefined where absent): one read for many keys, when supported. */
  getMany?(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>>;
  /** Every entry whose key starts with `prefix`, in byte order of keys. */
  iterate(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** A StateWriter that records operations, for a runtime to turn into one LevelDB batch. */
export class WriteBatch implements StateWriter {
  /** Invariant: operations in apply order. */
  readonly ops: Array<{ type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }> = [];

  /** Records a put. */
  put(key: Uint8Array, value: Uint8Array): void {
    this.ops.push({ type: 'put', key, value });
  }

  /** Records a delete. */
  del(key: Uint8Array): void {
    this.ops.push({ type: 'del', key });
  }
}
