import { assert } from '../assert.js';
import { committedIndex, voteResult, type VoteResult } from '../quorum/majority.js';
import type { ConfState, NodeId } from '../types.js';
import { Progress } from './progress.js';

/** Flow-control bounds applied to each follower's inflights window. */
export interface InflightLimits {
  readonly countMax: number;
  readonly bytesMax: number;
}

/**
 * The membership (voters and learners), the leader's replication progress per member, and the
 * votes of the current election.
 *
 * Invariant: voters and learners are disjoint; every member has a Progress.
 */
export class ProgressTracker {
  #voters = new Set<NodeId>();
  #learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  readonly #limits: InflightLimits;

  constructor(limits: InflightLimits) {
    this.#limits = limits;
  }

  /** The voters of the current configuration. */
  get voters(): ReadonlySet<NodeId> {
    return this.#voters;
  }

  /** The learners of the current configuration. */
  get learners(): ReadonlySet<NodeId> {
    return this.#learners;
  }

  /** The configuration as a ConfState (sorted, so equal configurations compare equal). */
  confState(): ConfState {
    return { voters: [...this.#voters].sort(), learners: [...this.#learners].sort() };
  }

  /** Replaces the configuration; progress of kept members is preserved, new ones start at `next`. */
  applyConfState(cs: ConfState, next: number): void {
    const voters = new Set(cs.voters);
    const learners = new Set(cs.learners);
    for (const l of learners) assert(!voters.has(l), () => `${l} is both voter and learner`);
    for (const id of [...this.progress.keys()]) {
      if (!voters.has(id) && !learners.has(id)) this.progress.delete(id);
    }
    for (const id of [...voters, ...learners]) {
      const isLearner = learners.has(id);
      const pr = this.progress.get(id);
      if (pr === undefined || pr.isLearner !== isLearner) {
        const fresh = new Progress(next, isLearner, this.#limits.countMax, this.#limits.bytesMax);
        if (pr !== undefined) {
          fresh.recovering = pr.recovering;
          fresh.match = pr.match;
          fresh.next = pr.next;
          fresh.recentActive = pr.recentActive;
        }
        this.progress.set(id, fresh);
      }
    }
    this.#voters = voters;
    this.#learners = learners;
  }

  /** Whether `id` is a voter. */
  isVoter(id: NodeId): boolean {
    return this.#voters.has(id);
  }

  /** The largest index replicated on a quorum of voters (a recovering voter holds nothing). */
  committed(): number {
    return committedIndex(this.#voters, (id) => {
      const pr = this.progress.get(id);
      return pr === undefined || pr.recovering ? 0 : pr.match;
    });
  }

  /** Clears the votes of the last election. */
  resetVotes(): void {
    this.votes.clear();
  }

  /** Records `id`'s vote, keeping the first one seen. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Counts the votes of voters. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.#voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      if (v === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.#voters, this.votes) };
  }

  /** Whether a quorum of voters (counting `self`) was recently active. */
  quorumActive(self: NodeId): boolean {
    const active = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      active.set(id, id === self || (pr.recentActive && !pr.recovering));
    }
    return voteResult(this.#voters, active) === 'won';
  }
}
