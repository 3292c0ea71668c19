/**
 * Reading a consistent snapshot of the applied state for a follower (or a backup): one
 * generation of the applied keyspace streamed from a LevelDB snapshot as chunks
 * (snapshot-chunks.ts), every value verified on the way (applied-values.ts): damage is never
 * sent to a peer. The application's copies of log data the receiver needs follow the stored
 * pairs (log-copies.ts).
 */
import type { SnapshotMeta } from '../../raft/types.js';
import { assert } from '../../raft/assert.js';
import { decodeAppliedValue } from './applied-values.js';
import { appliedKeyPrefixBytes, generationPrefix } from './keys.js';
import type { Db } from './level-db.js';
import type { SnapshotCopies } from './durable-storage-types.js';
import { encodeSnapshotChunks, type StatePair } from './snapshot-chunks.js';

/** A consistent snapshot of the applied state, streamed as chunks (snapshot-chunks.ts). */
export interface SnapshotReader {
  /** index = the applied index at the moment the reader was opened, its term and conf state. */
  readonly meta: SnapshotMeta;
  /** The encoded chunks. Single use: call once. Releases the LevelDB snapshot when done. */
  chunks(): AsyncIterable<Uint8Array>;
  /** Releases the LevelDB snapshot without reading (idempotent). */
  close(): Promise<void>;
}

/** Streams one generation of the applied keyspace from a LevelDB snapshot. */
export class LevelSnapshotReader implements SnapshotReader {
  readonly meta: SnapshotMeta;
  readonly #db: Db;
  readonly #dbSnapshot: ReturnType<Db['snapshot']>;
  readonly #gen: number;
  readonly #chunkBytesMax: number;
  readonly #verify: boolean;
  readonly #copies: SnapshotCopies | undefined;
  /** Invariant: chunks() is called at most once. */
  #started = false;
  #released = false;

  /** `copies`: the copies of log data the snapshot must carry besides the stored pairs (log-copies.ts). */
  constructor(db: Db, dbSnapshot: ReturnType<Db['snapshot']>, meta: SnapshotMeta, gen: number, chunkBytesMax: number, verify: boolean, copies?: SnapshotCopies) {
    this.#db = db;
    this.#copies = copies;
    this.#verify = verify;
    this.#dbSnapshot = dbSnapshot;
    this.meta = meta;
    this.#gen = gen;
    this.#chunkBytesMax = chunkBytesMax;
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    assert(!this.#started && !this.#released, 'snapshot reader used twice');
    this.#started = true;
    try {
      yield* encodeSnapshotChunks(this.#pairs(), this.#chunkBytesMax);
    } finally {
      await this.close();
    }
  }

  /** The pairs as the state machine wrote them, each verified: damage is never sent to a peer. */
  async *#pairs(): AsyncGenerator<StatePair> {
    const range = { gte: generationPrefix(this.#gen), lt: generationPrefix(this.#gen + 1), snapshot: this.#dbSnapshot };
    const copies = this.#copies;
    for await (const [k, v] of this.#db.iterator(range)) {
      const key = k.subarray(appliedKeyPrefixBytes);
      const value = decodeAppliedValue(key, v, this.#verify);
      copies?.observe(key, value);
      yield [key, value];
    }
    if (copies !== undefined) yield* copies.finish();
  }

  async close(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.#dbSnapshot.close();
  }
}

