import { assert } from './assert.js';
import { errCompacted, errUnavailable, RaftError } from './errors.js';
import type { ConfState, Entry, HardState, SnapshotMeta } from './types.js';
import { entryBytes } from './util.js';

/**
 * The durable log and state as the core reads them. Reads are synchronous: an implementation
 * keeps what the core may ask for (entries since the last compaction, hard state, latest
 * snapshot metadata) in memory and mirrors it to disk itself.
 *
 * Invariant: firstIndex() = snapshot().index + 1 and term(snapshot().index) is answered.
 */
export interface Storage {
  /** Hard state and membership as they were persisted. */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at least one if any exist, then only while their total size stays
   * within `maxBytes`. Throws RaftError COMPACTED if lo < firstIndex, UNAVAILABLE if hi > last+1.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of the entry at `index`; valid for [firstIndex-1, lastIndex]. Throws otherwise. */
  term(index: number): number;
  /** Index of the first entry still in the log (after the latest snapshot). */
  firstIndex(): number;
  /** Index of the last entry in the log (the snapshot index if the log is empty). */
  lastIndex(): number;
  /**
   * The most recent snapshot a leader can send. Throws RaftError
   * SNAPSHOT_TEMPORARILY_UNAVAILABLE when one cannot be produced right now.
   */
  snapshot(): SnapshotMeta;
}

/**
 * An in-memory Storage. The simulator and unit tests use it directly; the durable LevelDB
 * storage keeps one as its read cache.
 */
export class MemoryStorage implements Storage {
  #hardState: HardState = { term: 0, vote: '', commit: 0 };
  #snapshot: SnapshotMeta;
  /**
   * ents[0] is a dummy entry standing for the snapshot: ents[i].index = snapshot.index + i.
   * Invariant: ents.length >= 1 and indexes are contiguous.
   */
  #ents: Entry[];

  constructor(confState: ConfState = { voters: [], learners: [] }) {
    this.#snapshot = { index: 0, term: 0, confState };
    this.#ents = [{ index: 0, term: 0, type: 'normal', data: new Uint8Array(0) }];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.#hardState, confState: this.#snapshot.confState };
  }

  /** Replaces the persisted hard state. */
  setHardState(hs: HardState): void {
    this.#hardState = hs;
  }

  /** The persisted hard state. */
  hardState(): HardState {
    return this.#hardState;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.#dummy().index;
    if (lo <= offset) throw errCompacted(lo);
    if (hi > this.lastIndex() + 1) throw errUnavailable(hi);
    if (lo >= hi) return [];
    const slice = this.#ents.slice(lo - offset, hi - offset);
    return limitSize(slice, maxBytes);
  }

  term(index: number): number {
    const offset = this.#dummy().index;
    if (index < offset) throw errCompacted(index);
    const e = this.#ents[index - offset];
    if (e === undefined) throw errUnavailable(index);
    return e.term;
  }

  firstIndex(): number {
    return this.#dummy().index + 1;
  }

  lastIndex(): number {
    const last = this.#ents[this.#ents.length - 1];
    assert(last !== undefined, 'memory storage has no dummy entry');
    return last.index;
  }

  snapshot(): SnapshotMeta {
    return this.#snapshot;
  }

  /** Replaces the whole log with the snapshot `meta` (a follower installing a snapshot). */
  applySnapshot(meta: SnapshotMeta): void {
    if (meta.index < this.#snapshot.index) {
      throw new RaftError('COMPACTED', `snapshot ${meta.index} is older than ${this.#snapshot.index}`);
    }
    this.#snapshot = meta;
    this.#ents = [{ index: meta.index, term: meta.term, type: 'normal', data: new Uint8Array(0) }];
  }

  /**
   * Records that the state at `index` is captured by a snapshot with `confState`, keeping the
   * log. Call compact() separately to drop entries behind it.
   */
  createSnapshot(index: number, confState: ConfState): SnapshotMeta {
    if (index <= this.#snapshot.index) return this.#snapshot;
    assert(index <= this.lastIndex(), () => `snapshot ${index} beyond last index ${this.lastIndex()}`);
    this.#snapshot = { index, term: this.term(index), confState };
    return this.#snapshot;
  }

  /** Drops entries up to and including `compactIndex`. Invariant: compactIndex <= snapshot index. */
  compact(compactIndex: number): void {
    const offset = this.#dummy().index;
    if (compactIndex <= offset) return;
    assert(compactIndex <= this.#snapshot.index, () => `compact ${compactIndex} beyond snapshot ${this.#snapshot.index}`);
    const e = this.#ents[compactIndex - offset];
    assert(e !== undefined, () => `compact ${compactIndex} beyond last index ${this.lastIndex()}`);
    this.#ents = [{ index: e.index, term: e.term, type: 'normal', data: new Uint8Array(0) }, ...this.#ents.slice(compactIndex - offset + 1)];
  }

  /**
   * Appends entries, truncating any conflicting suffix. Entries already compacted are skipped.
   * Invariant: entries are contiguous and entries[0].index <= lastIndex + 1.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[entries.length - 1]!.index;
    if (last < first) return;
    let ents = entries;
    if (first > ents[0]!.index) ents = ents.slice(first - ents[0]!.index);
    const offset = ents[0]!.index - this.#dummy().index;
    assert(offset <= this.#ents.length, () => `missing log entry: last ${this.lastIndex()}, append at ${ents[0]!.index}`);
    if (offset === this.#ents.length) {
      for (const e of ents) this.#ents.push(e); // the common case: no truncation, no copy
    } else {
      this.#ents = this.#ents.slice(0, offset).concat(ents);
    }
  }

  #dummy(): Entry {
    const d = this.#ents[0];
    assert(d !== undefined, 'memory storage has no dummy entry');
    return d;
  }
}

/** Keeps a prefix of `ents` within `maxBytes`, but always at least one entry. */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length <= 1) return ents;
  let size = 0;
  for (let i = 0; i < ents.length; i++) {
    size += entryBytes(ents[i]!);
    if (i > 0 && size > maxBytes) return ents.slice(0, i);
  }
  return ents;
}
