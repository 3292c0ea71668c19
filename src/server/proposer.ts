/**
 * The one owner of this node's client proposals (issue 17, item 5): the requests accepted as
 * leader but not yet appended (the queue), and those appended until the entry applied at their
 * index decides them (PendingProposals, pending-proposals.ts, keeps the index/term rules). The
 * runtime holds neither; it drives this class from its ready loop (flush first in every turn,
 * decodedAt while applying, settleApplied once the round is durable), from a snapshot install
 * (adoptSnapshot) and at shutdown (failAll).
 *
 * A request's life: propose() validates it through the application, refuses it past
 * proposalsMax, queues it with its deadline and kicks the ready loop; the next flush appends
 * everything queued as one batch (one append, one broadcast, one fsync) or fails it NOT_LEADER
 * when leadership moved in between; the entry applied at its index resolves it (same term) or
 * fails it UNAVAILABLE (another term: not applied); at its deadline it fails TIMEOUT and stops
 * counting toward proposalsMax (outcome unknown once appended).
 *
 * The Raft core and the application are reached through two narrow interfaces, so tests drive
 * this class with fakes (test/server/proposer.test.ts).
 */
import { assert } from '../../raft/assert.js';
import { RaftqError } from '../errors.js';
import type { ClockStamp } from './cluster-clock.js';
import { pendingWithDeadline, type Settle } from './deadline.js';
import { encodeEntry } from './entry-envelope.js';
import { toRaftqError } from './error-map.js';
import type { LeaderHint } from './membership-owner.js';
import type { NodeMetrics } from './metrics-hooks.js';
import { PendingProposals } from './pending-proposals.js';

/** What proposals need of the Raft core; RawNode has it. */
export interface ProposerRaft {
  readonly role: string;
  readonly term: number;
  /** Appends `datas` as consecutive entries; the first one's place. Throws RaftError when refused. */
  proposeBatch(datas: readonly Uint8Array[]): { index: number; term: number };
}

/** What proposals need of the application: its leader-side check (Application.validate). */
export interface ProposerApp {
  /** Throws for a command that would be refused; returns what apply gets back as `decoded`. */
  validate(payload: Uint8Array): unknown;
}

/** What Proposer needs of its node. */
export interface ProposerOptions {
  readonly raft: ProposerRaft;
  readonly app: ProposerApp;
  /** Stamps the entries a leader proposes (LeaderStamper, cluster-clock.ts). */
  readonly stamper: { stamp(term: number): ClockStamp };
  /** Proposals queued or in flight (this term) beyond which requests get UNAVAILABLE. */
  readonly proposalsMax: number;
  /** The largest command one log entry carries (size-limits.ts); larger ones are TOO_LARGE. */
  readonly commandBytesMax: number;
  /** The leader hint NOT_LEADER carries. */
  readonly leaderHint: () => LeaderHint;
  /** Wakes the ready loop once a request is queued. */
  readonly kick: () => void;
  /** Clock of the deadlines, in milliseconds. */
  readonly now: () => number;
  readonly metrics?: Pick<NodeMetrics, 'proposed'> | undefined;
}

/** A request from propose until its entry applies (or its deadline). */
interface Proposal<Result> extends Settle<Result> {
  readonly payload: Uint8Array;
  readonly decoded: unknown;
  /** Where it was appended, once flushed. Invariant: undefined exactly while it is queued. */
  at: { index: number; term: number } | undefined;
}

/** The node's client proposals: see the module comment. */
export class Proposer<Result> {
  readonly #o: ProposerOptions;
  /**
   * Requests waiting for the next ready-loop turn (batched into one append), in arrival order.
   * Invariant: queued.length + pending.inFlight <= proposalsMax.
   */
  #queued: Array<Proposal<Result>> = [];
  /** Appended proposals by index and term, until their entry applies. */
  readonly #pending = new PendingProposals<Result>();

  constructor(o: ProposerOptions) {
    assert(Number.isInteger(o.proposalsMax) && o.proposalsMax >= 1, () => `proposalsMax ${o.proposalsMax} is not a positive integer`);
    this.#o = o;
  }

  /** Requests queued, not yet appended. */
  get queued(): number {
    return this.#queued.length;
  }

  /** Appended proposals of the newest term that await their entry. */
  get inFlight(): number {
    return this.#pending.inFlight;
  }

  /** A command that could not travel in one append frame is refused before it is proposed or forwarded. */
  checkSize(command: Uint8Array): void {
    const max = this.#o.commandBytesMax;
    if (command.byteLength > max) {
      throw new RaftqError('TOO_LARGE', `request of ${command.byteLength} bytes exceeds ${max} bytes, the most one replicated log entry can carry`);
    }
  }

  /**
   * Proposes `payload` (this node believes it leads) and resolves with the application's result
   * once its entry applied here. Rejects with the application's validation error, UNAVAILABLE
   * past proposalsMax (overload) or when another entry applied at its index, NOT_LEADER when
   * leadership moved before the flush, TIMEOUT at `deadline` (on the `now` clock; outcome
   * unknown once appended). The size check is the caller's (checkSize).
   */
  propose(payload: Uint8Array, deadline: number): Promise<Result> {
    let decoded: unknown;
    try {
      decoded = this.#o.app.validate(payload);
    } catch (e) {
      return Promise.reject(toRaftqError(e));
    }
    const max = this.#o.proposalsMax;
    if (this.#queued.length + this.#pending.inFlight >= max) {
      return Promise.reject(new RaftqError('UNAVAILABLE', `overloaded: ${max} proposals in flight`));
    }
    let q: Proposal<Result> | undefined;
    return pendingWithDeadline<Result>(
      deadline - this.#o.now(),
      (settle) => {
        q = { payload, decoded, at: undefined, ...settle };
        this.#queued.push(q);
        this.#assertBound();
        this.#o.kick();
      },
      // At the deadline the request stops counting toward proposalsMax: it leaves the queue,
      // or stops being tracked at its index (its entry may still commit: outcome unknown).
      () => {
        const p = q!;
        if (p.at === undefined) this.#queued = this.#queued.filter((x) => x !== p);
        else this.#pending.forget(p.at.index, p.at.term);
        return new RaftqError('TIMEOUT', 'request timed out; its outcome is unknown');
      },
    );
  }

  /**
   * Proposes everything queued as one batch: one append, one broadcast, one fsync. Called first
   * in every ready-loop turn. Off the leader the batch fails NOT_LEADER; a batch the core
   * refuses fails with the core's error mapped (error-map.ts).
   */
  flush(): void {
    if (this.#queued.length === 0) return;
    const batch = this.#queued;
    this.#queued = [];
    const raft = this.#o.raft;
    if (raft.role !== 'leader') {
      const err = new RaftqError('NOT_LEADER', 'leadership changed before the request was proposed', this.#o.leaderHint());
      for (const q of batch) q.reject(err);
      return;
    }
    const stamp = this.#o.stamper.stamp(raft.term);
    let first: { index: number; term: number };
    try {
      first = raft.proposeBatch(batch.map((q) => encodeEntry(stamp, q.payload)));
    } catch (e) {
      const err = toRaftqError(e);
      for (const q of batch) q.reject(err);
      return;
    }
    batch.forEach((q, i) => {
      assert(q.at === undefined, 'a queued proposal was already appended');
      q.at = { index: first.index + i, term: first.term };
      this.#pending.add(q.at.index, q.at.term, q.resolve, q.reject, q.decoded);
    });
    this.#assertBound();
    this.#o.metrics?.proposed(batch.length);
  }

  /** What validate() decoded for our proposal at `index` if the entry applied there is ours (same term). */
  decodedAt(index: number, term: number): unknown {
    return this.#pending.decodedAt(index, term);
  }

  /**
   * The round that applied `entries` (in log order) is durable: each proposal at their indexes
   * resolves with its result from `byIndex` (same term) or fails UNAVAILABLE (another term's
   * entry applied there: not applied, safe to retry).
   */
  settleApplied(entries: ReadonlyArray<{ readonly index: number; readonly term: number }>, byIndex: ReadonlyMap<number, Result>): void {
    for (const e of entries) this.#pending.settle(e.index, e.term, byIndex.get(e.index));
  }

  /** The storage switched to a snapshot through `index`: proposals it covers fail TIMEOUT (outcome unknown). */
  adoptSnapshot(index: number): void {
    this.#pending.failUpTo(index, new RaftqError('TIMEOUT', 'a snapshot replaced the log before the request applied; outcome unknown'));
  }

  /**
   * Shutdown: queued requests fail UNAVAILABLE (never proposed), appended ones TIMEOUT (their
   * entries may still commit: outcome unknown).
   */
  failAll(): void {
    const err = new RaftqError('UNAVAILABLE', 'node is shutting down');
    const queued = this.#queued;
    this.#queued = [];
    for (const q of queued) q.reject(err);
    this.#pending.failAll(new RaftqError('TIMEOUT', 'node shut down before the request completed; outcome unknown'));
  }

  /**
   * The proposalsMax bound. It holds because a request is queued only below the bound, a flush
   * moves the queue into the newest term (older terms stop counting), and nothing else adds.
   */
  #assertBound(): void {
    const n = this.#queued.length + this.#pending.inFlight;
    assert(n <= this.#o.proposalsMax, () => `${n} proposals queued or in flight exceed proposalsMax ${this.#o.proposalsMax}`);
  }
}
