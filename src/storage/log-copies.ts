/**
 * Log-backed keys (durable-storage.ts, "Log-backed keys"): applied keys whose values copy data of
 * log entries (message bodies, src/queue/log-bodies.ts). The application writes such a copy only
 * when the log is about to drop an entry whose data is still needed, and deletes it when the
 * data is no longer needed. This class keeps the one rule that makes that consistent:
 *
 *   copies exist only for entries at or below the *floor*, the highest index the log was
 *   (or is being) compacted through.
 *
 * - A delete of a copy of an entry above the floor is dropped (filter): no copy exists, and the
 *   write would cost a LevelDB tombstone per removed message.
 * - The copies for a compaction are taken in as applied changes (the checkpoint after them makes
 *   them durable) and raise the floor at once; the compaction may pass an index only once the
 *   checkpoint carrying its copies is durable (durableThrough).
 * - At open, copies of entries above the snapshot index are deleted (clearAbove): they were
 *   written for a compaction that a crash interrupted before its snapshot meta was synced, and
 *   the log still holds their data. This also converts a layout-4 directory, whose checkpoints
 *   copied every live body.
 * - A snapshot install brings copies of everything it covers: the floor becomes its index.
 */
import { assert } from '../../raft/assert.js';
import type { Entry } from '../../raft/types.js';
import type { LogBackedKeys, SnapshotCopies } from './durable-storage-types.js';
import { appliedKey } from './keys.js';
import { clearDurably, type Db } from './level-db.js';
import type { StateWrite } from './pending-writes.js';

/** The floor of a data directory's log copies (module comment). */
export class LogCopies {
  readonly #keys: LogBackedKeys | undefined;
  /** Invariant: at least the snapshot index; copies exist (or are pending) for entries up to here only. */
  #floor: number;
  /** The highest floor whose copies are durable. Invariant: #durable <= #floor. */
  #durable: number;
  /** Copies taken in and not yet durable: their floor and the checkpoint round that carries them. */
  #pending: { readonly through: number; readonly round: number } | undefined;

  /** The rule over `keys` (none: nothing is log-backed), for a log compacted through `snapshotIndex`. */
  constructor(keys: LogBackedKeys | undefined, snapshotIndex: number) {
    this.#keys = keys;
    this.#floor = this.#durable = snapshotIndex;
  }

  /** Whether the application has log-backed keys. */
  get enabled(): boolean {
    return this.#keys !== undefined;
  }

  /** The floor: copies exist or are pending for entries up to here. */
  get floor(): number {
    return this.#floor;
  }

  /** `writes` without the deletes of copies that cannot exist (entries above the floor). */
  filter(writes: readonly StateWrite[]): readonly StateWrite[] {
    const keys = this.#keys;
    if (keys === undefined) return writes;
    let out: StateWrite[] | undefined;
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!;
      const entry = w.type === 'del' ? keys.entryOf(w.key) : undefined;
      const drop = entry !== undefined && entry > this.#floor;
      if (drop && out === undefined) out = writes.slice(0, i);
      else if (!drop && out !== undefined) out.push(w);
    }
    return out ?? writes;
  }

  /** Copies for entries up to `through` were taken in, to be carried by checkpoint `round`. */
  add(through: number, round: number): void {
    assert(this.#keys !== undefined, 'log copies without log-backed keys');
    assert(through > this.#floor, () => `copies through ${through} at or below the floor ${this.#floor}`);
    assert(this.#pending === undefined || round >= this.#pending.round, 'checkpoint rounds regress');
    this.#floor = through;
    this.#pending = { through, round };
  }

  /** The highest index whose copies are durable, given the last durable checkpoint round. */
  durableThrough(durableRound: number): number {
    if (this.#pending !== undefined && durableRound >= this.#pending.round) {
      this.#durable = this.#pending.through;
      this.#pending = undefined;
    }
    return this.#durable;
  }

  /** The collector of the copies a snapshot covering `entries` must carry (LogBackedKeys.snapshotCopies); none without log-backed keys. */
  snapshotCopies(entries: readonly Entry[]): SnapshotCopies | undefined {
    return this.#keys?.snapshotCopies(entries);
  }

  /** A snapshot at `index` replaced the state: it holds copies of everything up to it. */
  reset(index: number): void {
    this.#floor = this.#durable = index;
    this.#pending = undefined;
  }

  /**
   * Deletes the copies of entries above `index` in applied generation `gen` (module comment),
   * durably: a delete lost under a later synced write would bring back a copy that a later
   * compaction's floor covers, of a message that may be gone by then. Returns how many.
   */
  static clearAbove(db: Db, keys: LogBackedKeys, gen: number, index: number): Promise<number> {
    const r = keys.keysAfter(index);
    return clearDurably(db, { gte: appliedKey(gen, r.gte), lt: appliedKey(gen, r.lt) });
  }
}
