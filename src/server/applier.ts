/**
 * The apply step of the ready loop (issue 17, item 5). `apply` hands one Ready's committed
 * entries, in order, to the membership (conf entries) and the application (normal entries with
 * data, each with the cluster time its stamp brings), in memory: their state writes, with the
 * applied index and configuration, ride the Ready's save (persist-ready.ts). `settle` completes
 * what they decided once that save is durable: the proposals and the membership changes.
 *
 * Every part is reached through a narrow interface, so tests drive this class with fakes
 * (test/server/applier.test.ts).
 */
import { assert } from '../../raft/assert.js';
import type { ConfState, Entry } from '../../raft/types.js';
import type { AppliedChanges, StateWrite } from '../storage/index.js';
import type { AppliedCommand } from './application.js';
import type { ClockStamp } from './cluster-clock.js';
import { decodeEntry } from './entry-envelope.js';
import type { NodeMetrics } from './metrics-hooks.js';

/** One Ready's applied entries: the state writes to persist, then what to complete. */
export interface AppliedRound<Result> {
  readonly changes: AppliedChanges;
  readonly entries: readonly Entry[];
  /** The application's result per applied command, by log index. */
  readonly byIndex: ReadonlyMap<number, Result>;
  readonly confApplied: ReadonlyArray<{ index: number; term: number }>;
}

/** What applying needs of the membership owner (membership-owner.ts). */
export interface ApplierMembership {
  /** The applied configuration (after the conf entries applied so far). */
  readonly confState: ConfState;
  /** Applies a conf entry in memory: the write that stores the new address book. */
  applyConfEntry(e: Entry): { readonly write: StateWrite; readonly memberAdded: boolean };
  /** The conf entries at these places are durable: complete their changes. */
  settleApplied(applied: ReadonlyArray<{ readonly index: number; readonly term: number }>): void;
}

/** What applying needs of the proposer (proposer.ts). */
export interface ApplierProposer<Result> {
  /** What validate() decoded for the proposal at this place, if this node proposed it. */
  decodedAt(index: number, term: number): unknown;
  /** These entries applied durably with these results: complete their proposals. */
  settleApplied(entries: ReadonlyArray<{ readonly index: number; readonly term: number }>, byIndex: ReadonlyMap<number, Result>): void;
}

/** What applying needs of cluster time (ClusterClock, cluster-clock.ts). */
export interface ApplierClusterClock {
  /** Advances cluster time by an entry's stamp; the cluster time after it. */
  apply(term: number, stamp: ClockStamp | { readonly legacyWallMs: number }): number;
  /** The write that stores cluster time, if it changed since the last call. */
  takeWrite(): StateWrite | undefined;
}

/** What Applier needs of its node. */
export interface ApplierOptions<Result> {
  readonly membership: ApplierMembership;
  readonly proposer: ApplierProposer<Result>;
  readonly clusterClock: ApplierClusterClock;
  /** The state machine (Application.apply). */
  readonly app: { apply(commands: readonly AppliedCommand[], writes: StateWrite[]): Result[] };
  /** An applied conf entry added a member: the log must be compacted through it (compactor.ts). */
  readonly memberAdded: () => void;
  readonly metrics?: Pick<NodeMetrics, 'applied'> | undefined;
}

/** Applies committed entries and settles them once durable: see the module comment. */
export class Applier<Result> {
  readonly #o: ApplierOptions<Result>;

  constructor(opts: ApplierOptions<Result>) {
    this.#o = opts;
  }

  /** Applies `entries` (non-empty, in log order) in memory; `settle` completes them once written. */
  apply(entries: readonly Entry[]): AppliedRound<Result> {
    const o = this.#o;
    assert(entries.length > 0, 'apply needs at least one entry');
    const commands: AppliedCommand[] = [];
    const writes: StateWrite[] = [];
    const confApplied: Array<{ index: number; term: number }> = [];
    for (const e of entries) {
      if (e.type === 'conf') {
        const { write, memberAdded } = o.membership.applyConfEntry(e);
        // A new member must be brought up by a snapshot (it knows no membership): compact the
        // log through this entry so no leader can replay the log to it from index 1.
        if (memberAdded) o.memberAdded();
        writes.push(write);
        confApplied.push({ index: e.index, term: e.term });
      } else if (e.data.byteLength > 0) {
        const { stamp, payload } = decodeEntry(e.data);
        const nowMs = o.clusterClock.apply(e.term, stamp);
        const decoded = o.proposer.decodedAt(e.index, e.term);
        commands.push(decoded === undefined ? { index: e.index, nowMs, payload } : { index: e.index, nowMs, payload, decoded });
      }
    }
    const clockWrite = o.clusterClock.takeWrite();
    if (clockWrite !== undefined) writes.push(clockWrite);
    const results = commands.length > 0 ? o.app.apply(commands, writes) : [];
    assert(results.length === commands.length, 'application returned a result count different from its command count');
    const byIndex = new Map<number, Result>();
    commands.forEach((c, i) => byIndex.set(c.index, results[i]!));
    return { changes: { writes, appliedIndex: entries[entries.length - 1]!.index, confState: o.membership.confState }, entries, byIndex, confApplied };
  }

  /** Completes the proposals and membership changes of a round whose state is durable. */
  settle({ entries, byIndex, confApplied }: AppliedRound<Result>): void {
    this.#o.metrics?.applied(entries.length);
    this.#o.proposer.settleApplied(entries, byIndex);
    this.#o.membership.settleApplied(confApplied);
  }
}
