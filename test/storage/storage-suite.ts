/**
 * The compliance suite of raft's `Storage` contract (raft/storage.ts), run against every
 * implementation: MemoryStorage and DurableStorage (which reopens from disk before checking).
 */
import { describe, expect, it } from 'vitest';
import type { Storage } from '../../raft/storage.js';
import type { ConfState, Entry, HardState, SnapshotMeta } from '../../raft/types.js';
import { entries, expectRaftError } from './helpers.js';

/** Drives one storage instance through the writes its implementation offers. */
export interface StorageHarness {
  /** The storage to read; may be a new object after reopen(). */
  readonly storage: Storage;
  append(entries: readonly Entry[]): Promise<void>;
  setHardState(hs: HardState): Promise<void>;
  /** Records a snapshot at `index` and drops the log up to it. */
  compact(index: number, confState: ConfState): Promise<void>;
  /** Replaces the log with an (empty-state) snapshot. */
  applySnapshot(meta: SnapshotMeta): Promise<void>;
  /** Durable implementations close and reopen from disk; memory ones do nothing. */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

/** Creates a harness over an empty storage with `confState` as its initial membership. */
export type HarnessFactory = (confState: ConfState) => Promise<StorageHarness>;

const cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };
const cs2: ConfState = { voters: ['n1', 'n2'], learners: ['n4'] };
const unlimitedBytes = Number.MAX_SAFE_INTEGER;

/** Plain comparable view of entries (Buffers vs Uint8Arrays). */
function plain(ents: readonly Entry[]): unknown[] {
  return ents.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Array.from(e.data) }));
}

/** Registers the compliance tests for `name` against storages made by `factory`. */
export function registerStorageSuite(name: string, factory: HarnessFactory): void {
  async function withHarness(fn: (h: StorageHarness) => Promise<void>): Promise<void> {
    const h = await factory(cs);
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  }

  describe(`Storage compliance: ${name}`, () => {
    it('starts empty with the initial membership', () =>
      withHarness(async (h) => {
        await h.reopen();
        const s = h.storage;
        expect([s.firstIndex(), s.lastIndex(), s.term(0)]).toEqual([1, 0, 0]);
        expect(s.initialState()).toEqual({ hardState: { term: 0, vote: '', commit: 0 }, confState: cs });
        expect(s.snapshot()).toEqual({ index: 0, term: 0, confState: cs });
        expect(s.entries(1, 1, unlimitedBytes)).toEqual([]);
      }));

    it('appends and reads back entries, limited by maxBytes but at least one', () =>
      withHarness(async (h) => {
        const ents = entries(1, 5, (i) => Math.ceil(i / 2));
        await h.append(ents);
        await h.reopen();
        const s = h.storage;
        expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 5]);
        expect(plain(s.entries(1, 6, unlimitedBytes))).toEqual(plain(ents));
        expect(plain(s.entries(2, 4, unlimitedBytes))).toEqual(plain(ents.slice(1, 3)));
        expect(s.entries(1, 6, 0)).toHaveLength(1);
        expect([1, 2, 3, 4, 5].map((i) => s.term(i))).toEqual([1, 1, 2, 2, 3]);
      }));

    it('truncates a conflicting suffix on append (§5.3)', () =>
      withHarness(async (h) => {
        await h.append(entries(1, 5));
        await h.append(entries(3, 4, () => 2));
        await h.reopen();
        expect(h.storage.lastIndex()).toBe(4);
        expect([1, 2, 3, 4].map((i) => h.storage.term(i))).toEqual([1, 1, 2, 2]);
        expectRaftError(() => h.storage.entries(5, 6, unlimitedBytes), 'UNAVAILABLE');
        await h.append(entries(5, 5, () => 2));
        await h.reopen();
        expect(h.storage.lastIndex()).toBe(5);
      }));

    it('compacts the log behind a snapshot and skips compacted entries on append (§7)', () =>
      withHarness(async (h) => {
        await h.append(entries(1, 6, (i) => (i <= 3 ? 1 : 2)));
        await h.compact(3, cs2);
        await h.compact(2, cs); // older: no-op
        await h.reopen();
        const s = h.storage;
        expect([s.firstIndex(), s.lastIndex(), s.term(3), s.term(4)]).toEqual([4, 6, 1, 2]);
        expect(s.snapshot()).toEqual({ index: 3, term: 1, confState: cs2 });
        await h.append(entries(2, 7, (i) => (i <= 3 ? 1 : 2)));
        await h.reopen();
        expect([h.storage.firstIndex(), h.storage.lastIndex()]).toEqual([4, 7]);
      }));

    it('replaces the log when applying a snapshot; an older one is COMPACTED', () =>
      withHarness(async (h) => {
        await h.append(entries(1, 5));
        await h.applySnapshot({ index: 10, term: 4, confState: cs2 });
        await h.reopen();
        const s = h.storage;
        expect([s.firstIndex(), s.lastIndex(), s.term(10)]).toEqual([11, 10, 4]);
        expect(s.snapshot()).toEqual({ index: 10, term: 4, confState: cs2 });
        expectRaftError(() => s.term(9), 'COMPACTED');
        await expect(h.applySnapshot({ index: 5, term: 1, confState: cs })).rejects.toMatchObject({ code: 'COMPACTED' });
        await h.append(entries(11, 11, () => 4));
        await h.reopen();
        expect(h.storage.lastIndex()).toBe(11);
      }));

    it('persists the hard state', () =>
      withHarness(async (h) => {
        await h.append(entries(1, 3));
        const hs: HardState = { term: 3, vote: 'n2', commit: 2 };
        await h.setHardState(hs);
        await h.reopen();
        expect(h.storage.initialState().hardState).toEqual(hs);
      }));

    it('rejects reads outside the log with COMPACTED or UNAVAILABLE', () =>
      withHarness(async (h) => {
        await h.append(entries(1, 5));
        await h.compact(2, cs);
        await h.reopen();
        const s = h.storage;
        const bad: Array<[string, () => unknown, 'COMPACTED' | 'UNAVAILABLE']> = [
          ['entries from the snapshot index', () => s.entries(2, 4, unlimitedBytes), 'COMPACTED'],
          ['entries from before the snapshot', () => s.entries(1, 3, unlimitedBytes), 'COMPACTED'],
          ['entries past last + 1', () => s.entries(3, 7, unlimitedBytes), 'UNAVAILABLE'],
          ['term before the snapshot', () => s.term(1), 'COMPACTED'],
          ['term past the last index', () => s.term(6), 'UNAVAILABLE'],
        ];
        for (const [, fn, code] of bad) expectRaftError(fn, code);
        expect(s.term(2)).toBe(1);
      }));
  });
}
