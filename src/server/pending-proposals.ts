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
 * Client proposals this node appended as leader, keyed by log index and term, until their
 * outcome is known. Only the entry that APPLIES at an index decides, because only that is final:
 * same term — it is ours, resolve with its result; another term — ours definitely did not apply
 * (UNAVAILABLE, safe to retry).
 *
 * Why not decide earlier. When this node's copy of index i is overwritten by another leader, or
 * this node stops leading, its entry (i, t) may still exist on other nodes and be committed by a
 * later leader that holds it (Raft paper, Figure 8): "not applied" would then be a lie. So an
 * index may carry proposals of several terms at once (leader L proposes at i in t1, L2 cuts L's
 * log back below i, L is elected again in t3 and proposes at i: issue 15, item 3 — this used to
 * end the process on "two proposals at index i"), and each waits for the entry applied at i,
 * a snapshot that skips i (failUpTo: outcome unknown), or its request deadline (forget).
 *
 * Only proposals of the newest term count as in flight (`inFlight`): older ones are no longer
 * this leader's load, so they never hold back new requests (proposalsMax).
 *
 * Invariant: at most one proposal per (index, term); every proposal is answered exactly once.
 */
export class PendingProposals<R> {
  readonly #byIndex = new Map<number, Pending<R>[]>();
  /** Proposals tracked per term. */
  readonly #perTerm = new Map<number, number>();
  #newestTerm = 0;

  /** Proposals of the newest term that await their entry. */
  get inFlight(): number {
    return this.#perTerm.get(this.#newestTerm) ?? 0;
  }

  /** Every proposal tracked, of any term. */
  get size(): number {
    let n = 0;
    for (const c of this.#perTerm.values()) n += c;
    return n;
  }

  add(index: number, term: number, resolve: (r: R) => void, reject: (e: Error) => void, decoded?: unknown): void {
    const at = this.#byIndex.get(index);
    assert(at === undefined || at.every((p) => p.term !== term), () => `two proposals at index ${index} in term ${term}`);
    const p: Pending<R> = { term, decoded, resolve, reject };
    if (at === undefined) this.#byIndex.set(index, [p]);
    else at.push(p);
    this.#perTerm.set(term, (this.#perTerm.get(term) ?? 0) + 1);
    if (term > this.#newestTerm) this.#newestTerm = term;
  }

  /**
   * The decoded command of our proposal at `index`, if the entry applied there is ours (same
   * term); undefined otherwise — an entry of another leader must be decoded from its bytes.
   */
  decodedAt(index: number, term: number): unknown {
    return this.#byIndex.get(index)?.find((p) => p.term === term)?.decoded;
  }

  /** The entry at `index` with `term` applied, with `result` for a normal command. */
  settle(index: number, term: number, result: R | undefined): void {
    const at = this.#byIndex.get(index);
    if (at === undefined) return;
    this.#byIndex.delete(index);
    for (const p of at) {
      this.#untrack(p.term);
      if (p.term === term) {
        assert(result !== undefined, () => `proposal at ${index} applied without a result`);
        p.resolve(result);
      } else {
        p.reject(new RaftqError('UNAVAILABLE', `leadership changed: another entry applied at index ${index}; the request was not applied; retry`));
      }
    }
  }

  /** Stops tracking (index, term) without answering it (its caller answered TIMEOUT). */
  forget(index: number, term: number): void {
    const at = this.#byIndex.get(index);
    const k = at?.findIndex((p) => p.term === term) ?? -1;
    if (at === undefined || k < 0) return;
    at.splice(k, 1);
    if (at.length === 0) this.#byIndex.delete(index);
    this.#untrack(term);
  }

  /** Fails every proposal at or below `index` (their entries were skipped by a snapshot). */
  failUpTo(index: number, err: Error): void {
    for (const [i, at] of this.#byIndex) {
      if (i > index) continue;
      this.#byIndex.delete(i);
      for (const p of at) {
        this.#untrack(p.term);
        p.reject(err);
      }
    }
  }

  /** Fails everything (shutdown). */
  failAll(err: Error): void {
    const all = [...this.#byIndex.values()].flat();
    this.#byIndex.clear();
    this.#perTerm.clear();
    for (const p of all) p.reject(err);
  }

  #untrack(term: number): void {
    const n = (this.#perTerm.get(term) ?? 0) - 1;
    assert(n >= 0, 'proposal count below zero');
    if (n === 0) this.#perTerm.delete(term);
    else this.#perTerm.set(term, n);
  }
}
