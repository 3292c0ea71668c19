/**
 * The deduplication window of one queue: keys seen within dedupWindowMs, each with the result
 * (payload seqs and offsets) to replay. At most `keysMax` keys; the oldest is evicted first.
 *
 * Entries are created in clock order, so Map insertion order is age order and seq order.
 *
 * Storage: entries go to pages of up to dedupPageEntriesMax (keys.ts 71 06, keyed by the seq of
 * the page's first entry) instead of one key each: an enqueue used to write one dedup key and,
 * once the window was full, delete another. The rules that keep every node's keyspace
 * byte-identical, whatever its apply batches and restarts:
 * - Only the newest page (the open page) is ever rewritten, and only to add entries; it holds
 *   every entry inserted into it, dead ones included, and is written at the end of each apply
 *   batch that changed it (flush). It is never deleted while open.
 * - A page closes when a new one opens (the open page is full); a closed page is deleted once
 *   none of its entries is alive, and is otherwise left as it is.
 * - Dead entries a page still holds are told apart at load: evicted and expired ones lie below
 *   the queue's floor seq (persisted in the queue record), a replaced key is superseded by its
 *   later entry.
 * Entries of the older one-key-per-entry layout (71 05) are read at load and deleted one by one.
 */
import { assert } from '../../raft/assert.js';
import { dedupKey, dedupPageKey } from './keys.js';
import { dedupPageEntriesMax, dedupWindowMs } from './limits.js';
import { encodeDedupPage, type DedupPageEntry, type DedupRecord } from './records.js';
import type { StateWriter } from './state-store.js';

/** A dedup entry in the heap. */
export interface DedupEntry {
  /** Position of the entry in the keyspace (log position of its creation). */
  readonly seq: number;
  readonly createdAtMs: number;
  readonly seqs: readonly number[];
  readonly offsets: readonly number[];
}

/** Where an entry is stored: the first seq of its page, or `legacy` for a 71 05 key of its own. */
type Home = number | 'legacy';

interface Held extends DedupEntry {
  readonly home: Home;
}

/** The newest page: every entry inserted into it, in order (dead ones too). */
interface OpenPage {
  readonly first: number;
  readonly entries: DedupPageEntry[];
}

/** Deduplication keys of one queue. */
export class DedupWindow {
  /** Invariant: insertion order == increasing seq == non-decreasing createdAtMs; size <= keysMax. */
  #entries = new Map<string, Held>();
  /** Live entries per stored page, by the page's first seq. Invariant: every count >= 1, except the open page's (>= 0). */
  readonly #pageLive = new Map<number, number>();
  /** Invariant: when set, its page is the newest stored (or to be stored at the next flush). */
  #open: OpenPage | undefined;
  /** The open page changed since the last flush. */
  #openDirty = false;
  /** Invariant: every live entry has seq >= #floorSeq; only grows. */
  #floorSeq: number;
  readonly #queueId: number;
  readonly #keysMax: number;
  readonly #pageEntriesMax: number;

  /** @param floorSeq the queue record's dedupFloorSeq (0 for a new queue). */
  constructor(queueId: number, keysMax: number, floorSeq = 0, pageEntriesMax = dedupPageEntriesMax) {
    assert(keysMax >= 1 && pageEntriesMax >= 1, 'dedup keysMax and pageEntriesMax must be positive');
    this.#queueId = queueId;
    this.#keysMax = keysMax;
    this.#floorSeq = floorSeq;
    this.#pageEntriesMax = pageEntriesMax;
  }

  /** Number of keys held (expired ones included until expire()). */
  get size(): number {
    return this.#entries.size;
  }

  /** Entries below this seq are gone: persisted in the queue record. */
  get floorSeq(): number {
    return this.#floorSeq;
  }

  /** The entry of `key` when it is still inside the window at `nowMs`. */
  lookup(key: string, nowMs: number): DedupEntry | undefined {
    const e = this.#entries.get(key);
    return e !== undefined && e.createdAtMs + dedupWindowMs > nowMs ? e : undefined;
  }

  /**
   * Records `key` (replacing an expired entry of the same key), evicting the oldest when full.
   * The page is written by flush(); the caller flushes with the queue record.
   */
  insert(w: StateWriter, key: string, entry: DedupEntry): void {
    const old = this.#entries.get(key);
    if (old !== undefined) {
      assert(old.seq < entry.seq, 'dedup seq not increasing');
      this.#entries.delete(key);
      this.#release(w, old);
    }
    while (this.#entries.size >= this.#keysMax) this.#evictOldest(w);
    if (this.#open === undefined || this.#open.entries.length >= this.#pageEntriesMax) this.#openPage(w, entry.seq);
    const page = this.#open!;
    assert(page.entries.length === 0 || page.entries[page.entries.length - 1]!.seq < entry.seq, 'dedup page seqs not increasing');
    page.entries.push({ seq: entry.seq, record: { key, createdAtMs: entry.createdAtMs, seqs: entry.seqs, offsets: entry.offsets } });
    this.#pageLive.set(page.first, (this.#pageLive.get(page.first) ?? 0) + 1);
    this.#openDirty = true;
    this.#entries.set(key, { ...entry, home: page.first });
  }

  /** Writes the open page if it changed (at the end of an apply batch, with the queue record). */
  flush(w: StateWriter): void {
    if (!this.#openDirty || this.#open === undefined) return;
    this.#openDirty = false;
    w.put(dedupPageKey(this.#queueId, this.#open.first), encodeDedupPage(this.#open.entries));
  }

  /** Removes entries outside the window at `nowMs`; returns how many (the floor moved if any). */
  expire(w: StateWriter, nowMs: number): number {
    let n = 0;
    for (const [key, e] of this.#entries) {
      if (e.createdAtMs + dedupWindowMs > nowMs) break;
      this.#entries.delete(key);
      this.#raiseFloor(e);
      this.#release(w, e);
      n++;
    }
    return n;
  }

  /** Removes every entry and stored page (queue deleted). */
  clear(w: StateWriter): void {
    for (const e of this.#entries.values()) if (e.home === 'legacy') w.del(dedupKey(this.#queueId, e.seq));
    const pages = new Set(this.#pageLive.keys());
    if (this.#open !== undefined) pages.add(this.#open.first);
    for (const first of pages) w.del(dedupPageKey(this.#queueId, first));
    this.#entries.clear();
    this.#pageLive.clear();
    this.#open = undefined;
    this.#openDirty = false;
  }

  /** Load, older layout: an entry stored under its own 71 05 key (read in key order, before pages). */
  restoreLegacy(seq: number, record: DedupRecord): void {
    if (seq < this.#floorSeq) return;
    this.#restoreEntry(record.key, { seq, createdAtMs: record.createdAtMs, seqs: record.seqs, offsets: record.offsets, home: 'legacy' });
  }

  /** Load: a page read from the keyspace (in key order); the last one read is the open page. */
  restorePage(first: number, entries: readonly DedupPageEntry[]): void {
    assert(entries.length > 0 && entries[0]!.seq === first, () => `dedup page ${first} does not start with its own seq`);
    assert(this.#open === undefined || this.#open.first < first, 'dedup pages restored out of order');
    this.#pageLive.set(first, 0);
    for (const { seq, record } of entries) {
      if (seq < this.#floorSeq) continue;
      this.#restoreEntry(record.key, { seq, createdAtMs: record.createdAtMs, seqs: record.seqs, offsets: record.offsets, home: first });
    }
    // The previous page is closed now: a closed page without live entries would have been deleted.
    if (this.#open !== undefined) assert((this.#pageLive.get(this.#open.first) ?? 0) > 0, () => `dedup page ${this.#open?.first} is closed and empty but stored`);
    this.#open = { first, entries: [...entries] };
  }

  #restoreEntry(key: string, held: Held): void {
    const old = this.#entries.get(key);
    if (old !== undefined) {
      // A replaced key: its later entry supersedes it (and takes the end of the age order).
      this.#entries.delete(key);
      if (old.home !== 'legacy') this.#pageLive.set(old.home, this.#pageLive.get(old.home)! - 1);
    }
    this.#entries.set(key, held);
    if (held.home !== 'legacy') this.#pageLive.set(held.home, this.#pageLive.get(held.home)! + 1);
  }

  /** Starts a new open page at `first`, closing the current one (deleted if nothing in it lives). */
  #openPage(w: StateWriter, first: number): void {
    const old = this.#open;
    if (old !== undefined) {
      this.flush(w);
      if ((this.#pageLive.get(old.first) ?? 0) === 0) {
        this.#pageLive.delete(old.first);
        w.del(dedupPageKey(this.#queueId, old.first));
      }
    }
    this.#open = { first, entries: [] };
    this.#pageLive.set(first, 0);
  }

  /** Forgets the storage of a dead entry: its own key, or one live entry less on its page. */
  #release(w: StateWriter, e: Held): void {
    if (e.home === 'legacy') {
      w.del(dedupKey(this.#queueId, e.seq));
      return;
    }
    const live = this.#pageLive.get(e.home)! - 1;
    assert(live >= 0, () => `dedup page ${e.home} live count below zero`);
    if (live > 0 || this.#open?.first === e.home) {
      this.#pageLive.set(e.home, live);
      return;
    }
    this.#pageLive.delete(e.home);
    w.del(dedupPageKey(this.#queueId, e.home));
  }

  #raiseFloor(e: Held): void {
    if (e.seq + 1 > this.#floorSeq) this.#floorSeq = e.seq + 1;
  }

  #evictOldest(w: StateWriter): void {
    const first = this.#entries.entries().next();
    assert(first.done !== true, 'evict from empty window');
    const [key, e] = first.value;
    this.#entries.delete(key);
    this.#raiseFloor(e);
    this.#release(w, e);
  }
}
