import { assert } from '../../raft/assert.js';
import { RaftqError } from '../errors.js';

interface Pending<R> {
  readonly term: number;
  /** What the application's validate() decoded from the proposed bytes (see AppliedCommand). */
  readonly decoded: unknown;
  readonly resolve: (r: R) => void;
  readonly reject: (e: Error) => void;
}

/**
 * Client proposals a leader appended, keyed by log index, until their index applies. The entry
 * applied at an index decides: same term — it is ours, resolve with its result; another term —
 * ours was overwritten by a newer leader, so it definitely did not apply (UNAVAILABLE, safe to
 * retry).
 *
 * Invariant: at most one proposal per index.
 */
export class PendingProposals<R> {
  readonly #byIndex = new Map<number, Pending<R>>();

  /** Number of proposals awaiting their entry. */
  get size(): number {
    return this.#byIndex.size;
  }

  add(index: number, term: number, resolve: (r: R) => void, reject: (e: Error) => void, decoded?: unknown): void {
    assert(!this.#byIndex.has(index), () => `two proposals at index ${index}`);
    this.#byIndex.set(index, { term, decoded, resolve, reject });
  }

  /**
   * The decoded command of our proposal at `index`, if the entry applied there is ours (same
   * term); undefined otherwise — an entry of another leader must be decoded from its bytes.
   */
  decodedAt(index: number, term: number): unknown {
    const p = this.#byIndex.get(index);
    return p !== undefined && p.term === term ? p.decoded : undefined;
  }

  /** The entry at `index` with `term` applied, with `result` for a normal command. */
  settle(index: number, term: number, result: R | undefined): void {
    const p = this.#byIndex.get(index);
    if (p === undefined) return;
    this.#byIndex.delete(index);
    if (p.term === term) {
      assert(result !== undefined, () => `proposal at ${index} applied without a result`);
      p.resolve(result);
    } else {
      p.reject(new RaftqError('UNAVAILABLE', `leadership changed: the request at index ${index} was not applied; retry`));
    }
  }

  /** Fails every proposal at or below `index` (their entries were skipped by a snapshot). */
  failUpTo(index: number, err: Error): void {
    for (const [i, p] of this.#byIndex) {
      if (i <= index) {
        this.#byIndex.delete(i);
        p.reject(err);
      }
    }
  }

  /** Fails everything (shutdown). */
  failAll(err: Error): void {
    for (const p of this.#byIndex.values()) p.reject(err);
    this.#byIndex.clear();
  }
}
