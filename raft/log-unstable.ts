import { assert } from './assert.js';
import type { Entry, SnapshotMeta } from './types.js';

/**
 * Entries (and possibly an incoming snapshot) that the core has accepted but the application
 * has not yet persisted. They are handed out in a Ready and dropped here once advance()
 * confirms they are stable.
 *
 * Invariant: entries[i].index = offset + i; if snapshot is set, offset = snapshot.index + 1.
 */
export class UnstableLog {
  snapshot: SnapshotMeta | undefined;
  entries: Entry[] = [];
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The first index known here only if a snapshot is pending. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot !== undefined ? this.snapshot.index + 1 : undefined;
  }

  /** The last index held here, if any. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.index;
  }

  /** The term at `index` if held here. */
  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      return this.snapshot !== undefined && this.snapshot.index === index ? this.snapshot.term : undefined;
    }
    const e = this.entries[index - this.offset];
    return e?.term;
  }

  /** Entries up to (index, term) were persisted: drop them. */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    // A mismatch means the entries were replaced after the Ready was handed out; keep them.
    if (t !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  /** The snapshot at `index` was persisted. */
  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.index === index) this.snapshot = undefined;
  }

  /** Replaces everything with a snapshot to install. */
  restore(s: SnapshotMeta): void {
    this.offset = s.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  /** Appends `ents`, truncating any suffix they conflict with. */
  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      this.entries.push(...ents);
    } else if (after <= this.offset) {
      // Replaces stable entries too: the storage truncates them when these are persisted.
      this.offset = after;
      this.entries = [...ents];
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
    }
    assert(this.snapshot === undefined || this.offset > this.snapshot.index, 'unstable entries overlap a pending snapshot');
  }

  /** Entries in [lo, hi) held here. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length && lo <= hi, () => `unstable slice [${lo},${hi}) out of [${this.offset},${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
