/**
 * Checkpoints of the applied state (durable-storage.ts, "Checkpoints"): the state machine's
 * changes since the last checkpoint stay in memory (pending-writes.ts), and a checkpoint writes
 * them with the applied index and membership in one synced LevelDB batch.
 *
 * A checkpoint that falls due during a save is written in the *background*: the pending writes
 * are handed to the flush and a fresh set takes the next changes, so the ready loop never waits
 * for it (a 4 MiB batch and its fsync would stall every request behind it). At most one flush
 * is in flight; each is a delta on the one before, and LevelDB applies writes in the order they
 * were submitted. Reads see the newest value: the pending writes, then the flush in flight, then
 * LevelDB. `applied` (the durable checkpoint) moves only when a flush has completed. A failed
 * flush fails the checkpointer: every later call throws its error (the node stops).
 */
import { assert } from '../../raft/assert.js';
import type { ConfState } from '../../raft/types.js';
import { encodeAppliedValue } from './applied-values.js';
import { type AppliedMeta, encodeRecord } from './codec.js';
import { appliedKey, appliedMetaKey } from './keys.js';
import type { BatchOp, Db } from './level-db.js';
import { PendingWrites, type StateWrite } from './pending-writes.js';

/** When a checkpoint falls due. */
export interface CheckpointThresholds {
  /** Entries applied since the last checkpoint. */
  readonly entries: number;
  /** Bytes of log those entries take. */
  readonly logBytes: number;
  /** Memory the pending changes take. */
  readonly pendingBytes: number;
}

/** Defaults: small enough that one checkpoint batch costs milliseconds, large enough to coalesce. */
export const checkpointThresholdsDefault: CheckpointThresholds = { entries: 1_000, logBytes: 1024 * 1024, pendingBytes: 1024 * 1024 };

/** The applied state's checkpoints (module comment). */
export class Checkpointer {
  readonly #db: Db;
  readonly #at: CheckpointThresholds;
  /** The durable checkpoint. Invariant: #applied.index <= the flush's index <= #live.index. */
  #applied: AppliedMeta;
  #live: { index: number; confState: ConfState };
  #pending = new PendingWrites();
  #since = { entries: 0, logBytes: 0 };
  /** The flush in flight: its writes (still readable) and its completion. */
  #flushing: { readonly writes: PendingWrites; readonly done: Promise<void> } | undefined;
  #failed: unknown;
  /** Checkpoints started and completed. Invariant: #completed <= #started <= #completed + 1. */
  #started = 0;
  #completed = 0;
  /** A checkpoint was requested while one was in flight: start the next when it completes. */
  #requested = false;

  constructor(db: Db, applied: AppliedMeta, thresholds: CheckpointThresholds) {
    this.#db = db;
    this.#applied = applied;
    this.#live = { index: applied.index, confState: applied.confState };
    this.#at = thresholds;
  }

  /** The durable checkpoint. */
  get applied(): AppliedMeta {
    return this.#applied;
  }

  /** The applied index and membership the state machine reflects. */
  get live(): { readonly index: number; readonly confState: ConfState } {
    return this.#live;
  }

  /** The number of the checkpoint that will carry the changes taken now (they are durable once durableRound reaches it). */
  get pendingRound(): number {
    return this.#started + 1;
  }

  /** The number of the last durable checkpoint. */
  get durableRound(): number {
    return this.#completed;
  }

  /** Whether anything was applied since the durable checkpoint. */
  get dirty(): boolean {
    return this.#live.index !== this.#applied.index || this.#pending.size > 0 || this.#flushing !== undefined;
  }

  /**
   * Takes the changes of entries applied up to `index` (`logBytes` of log) and, when a checkpoint
   * is due and none is in flight, starts one in the background.
   */
  take(writes: readonly StateWrite[], index: number, confState: ConfState, logBytes: number): void {
    this.#checkUsable();
    assert(index >= this.#live.index, () => `applied index regresses: ${this.#live.index} -> ${index}`);
    this.#since.entries += index - this.#live.index;
    this.#since.logBytes += logBytes;
    this.#pending.merge(writes);
    this.#live = { index, confState };
    const due = this.#since.entries >= this.#at.entries || this.#since.logBytes >= this.#at.logBytes || this.#pending.bytes >= this.#at.pendingBytes;
    if (due && this.#flushing === undefined) this.#startFlush();
  }

  /** The newest value of `key` if a change is pending or being flushed (`value` undefined: deleted). */
  lookup(key: Uint8Array): { readonly value: Uint8Array | undefined } | undefined {
    return this.#pending.lookup(key) ?? this.#flushing?.writes.lookup(key);
  }

  /** Starts a checkpoint of everything taken so far, in the background: now, or once the one in flight completes. */
  request(): void {
    this.#checkUsable();
    if (this.#flushing === undefined) this.#startFlush();
    else this.#requested = true;
  }

  /** Writes a checkpoint of everything applied, and resolves once it is durable. */
  async flushNow(): Promise<void> {
    await this.settle();
    if (this.#live.index === this.#applied.index && this.#pending.size === 0) return;
    this.#startFlush();
    await this.settle();
  }

  /** Resolves once no flush is in flight (rethrows a failed one). */
  async settle(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing.done;
    this.#checkUsable();
  }

  /** Forgets everything pending: the state was replaced (a snapshot installed) at `meta`. Call after settle(). */
  reset(meta: AppliedMeta): void {
    assert(this.#flushing === undefined, 'reset while a checkpoint is being written');
    this.#pending = new PendingWrites();
    this.#since = { entries: 0, logBytes: 0 };
    this.#live = { index: meta.index, confState: meta.confState };
    this.#applied = meta;
    this.#completed = this.#started;
  }

  #startFlush(): void {
    const writes = this.#pending;
    const gen = this.#applied.generation;
    const meta: AppliedMeta = { index: this.#live.index, confState: this.#live.confState, generation: gen };
    const ops: BatchOp[] = writes.ops((k) => appliedKey(gen, k), encodeAppliedValue);
    ops.push({ type: 'put', key: appliedMetaKey, value: encodeRecord(meta) });
    this.#pending = new PendingWrites();
    this.#since = { entries: 0, logBytes: 0 };
    const round = ++this.#started;
    this.#requested = false;
    const done = this.#db.batch(ops, { sync: true }).then(
      () => {
        assert(meta.index >= this.#applied.index, () => `checkpoint ${meta.index} below ${this.#applied.index}`);
        this.#applied = meta;
        this.#completed = round;
        this.#flushing = undefined;
        if (this.#requested) this.#startFlush();
      },
      (err: unknown) => {
        this.#failed ??= err;
        this.#flushing = undefined;
      },
    );
    this.#flushing = { writes, done };
  }

  #checkUsable(): void {
    if (this.#failed !== undefined) throw this.#failed;
  }
}
