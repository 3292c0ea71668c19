import { assert } from './assert.js';
import { RaftError } from './errors.js';
import { UnstableLog } from './log-unstable.js';
import { limitSize, type Storage } from './storage.js';
import type { Entry, SnapshotMeta } from './types.js';

/**
 * The log as the core sees it: stable entries read from Storage followed by unstable ones held
 * in memory, with the commit and apply positions.
 *
 * Invariant: applied <= committed <= lastIndex(); firstIndex() - 1 <= applied unless a
 * snapshot is pending.
 */
export class RaftLog {
  readonly storage: Storage;
  readonly unstable: UnstableLog;
  /** The highest index known to be stored on a quorum. */
  committed: number;
  /** The highest index handed to the application to apply (and confirmed by advance()). */
  applied: number;

  constructor(storage: Storage, applied: number) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new UnstableLog(last + 1);
    this.committed = first - 1;
    this.applied = Math.max(first - 1, applied);
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** The last index that the application has made durable. */
  lastStableIndex(): number {
    return this.unstable.offset - 1;
  }

  /** The term at `index`, or undefined if it was compacted or does not exist yet. */
  maybeTerm(index: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (index < dummy || index > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    try {
      return this.storage.term(index);
    } catch (e) {
      if (e instanceof RaftError && (e.code === 'COMPACTED' || e.code === 'UNAVAILABLE')) return undefined;
      throw e;
    }
  }

  /** The term at `index`; 0 when compacted or absent (no real entry has term 0). */
  termOrZero(index: number): number {
    return this.maybeTerm(index) ?? 0;
  }

  lastTerm(): number {
    const t = this.maybeTerm(this.lastIndex());
    assert(t !== undefined, 'last term unavailable');
    return t;
  }

  matchTerm(index: number, term: number): boolean {
    return this.maybeTerm(index) === term;
  }

  /**
   * Whether a log ending at (lastIndex, term) is at least as up to date as ours (Raft §5.4.1).
   */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * A follower's append: if our log matches (index, logTerm), append `ents` (truncating a
   * conflicting suffix), advance commit to min(commit, last new index) and return the last new
   * index with the first index that was rewritten (`truncatedFrom`, 0 when nothing we held was
   * replaced); otherwise undefined.
   */
  maybeAppend(index: number, logTerm: number, commit: number, ents: readonly Entry[]): { lastNew: number; truncatedFrom: number } | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastBefore = this.lastIndex();
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      // Log regression guard: a committed entry is never overwritten (Raft §5.3, Log Matching).
      assert(conflict > this.committed, () => `entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      const offset = index + 1;
      this.append(ents.slice(conflict - offset));
    }
    this.commitTo(Math.min(commit, lastNew));
    return { lastNew, truncatedFrom: conflict !== 0 && conflict <= lastBefore ? conflict : 0 };
  }

  /** Appends entries at the end of the unstable log. Returns the new last index. */
  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    assert(first.index - 1 >= this.committed, () => `append at ${first.index} would truncate committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` whose term differs from ours, or the first entry
   * we do not have; 0 if we hold them all.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term: where a leader should
   * probe next after a rejection (fast backtracking, one round trip per term).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = index;
    for (;;) {
      const t = this.maybeTerm(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
      i--;
    }
  }

  /** Entries not yet persisted. */
  unstableEntries(): Entry[] {
    return [...this.unstable.entries];
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** Committed entries not yet applied, within `maxBytes` (at least one). */
  nextCommittedEntries(maxBytes: number): Entry[] {
    if (this.hasPendingSnapshot()) return [];
    const lo = Math.max(this.applied + 1, this.firstIndex());
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, maxBytes);
  }

  hasNextCommittedEntries(): boolean {
    if (this.hasPendingSnapshot()) return false;
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** The snapshot a leader should send: a pending one, else the storage's. */
  snapshot(): SnapshotMeta {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), () => `commit ${index} is out of range [last ${this.lastIndex()}]: was the log corrupted, truncated or lost?`);
    this.committed = index;
  }

  /**
   * Commits `index` if it is in `term`. Raft §5.4.2: a leader commits only entries of its own
   * term by counting replicas; earlier entries commit indirectly. `unsafeAnyTerm` exists only for
   * the simulator's injected-bug test.
   */
  maybeCommit(index: number, term: number, unsafeAnyTerm = false): boolean {
    if (index > this.committed && (unsafeAnyTerm || this.termOrZero(index) === term)) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(index <= this.committed && index >= this.applied, () => `applied ${index} is out of range [prev applied ${this.applied}, committed ${this.committed}]`);
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** Entries from `lo` to the end, within `maxBytes` (at least one). */
  entriesFrom(lo: number, maxBytes: number): Entry[] {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi) within `maxBytes`. Throws COMPACTED if lo was compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    assert(lo <= hi, () => `invalid slice ${lo} > ${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new RaftError('COMPACTED', `index ${lo} is compacted (first ${first})`);
    assert(hi <= this.lastIndex() + 1, () => `slice [${lo},${hi}) out of bound last ${this.lastIndex()}`);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) {
      ents = this.storage.entries(lo, Math.min(hi, off), maxBytes);
      if (ents.length < Math.min(hi, off) - lo) return ents; // size-limited
    }
    if (hi > off) {
      const u = this.unstable.slice(Math.max(lo, off), hi);
      ents = ents.length > 0 ? ents.concat(u) : u;
    }
    return limitSize(ents, maxBytes);
  }

  /** Replaces the log with a snapshot (a follower installing it). */
  restore(s: SnapshotMeta): void {
    this.committed = s.index;
    this.unstable.restore(s);
  }
}
