/**
 * Recovery after storage damage: the amnesia trap.
 *
 * A node whose storage was damaged and repaired from nothing (a wiped or quarantined data
 * directory) has forgotten entries it acknowledged, its term and its vote. Counted in a quorum
 * it can undo a commit: it votes for a candidate that lacks an entry it once helped commit, or
 * votes twice in a term it already voted in, or acknowledges a stale leader's heartbeat and so
 * lets that leader serve a stale read. Until it has recovered, such a node therefore
 *
 * - never votes (vote and pre-vote requests are rejected) and never campaigns;
 * - marks every append and heartbeat response `recovering`, so the leader resets what it
 *   believed the node holds and leaves it out of every quorum (commit, ReadIndex, CheckQuorum):
 *   in effect a non-voting learner, without a membership change;
 * - asks every other voter for its current term (`termProbe`, answered with `termProbeResp`
 *   and never changing the answerer's state).
 *
 * It has recovered when (1) every other voter of its configuration has answered a probe, and
 * it has moved to the highest term they reported, recording a vote for itself there unless it
 * already had one (every vote it cast before the damage was in a term some other voter had
 * reached, since a candidate keeps its term, so it can no longer vote twice in such a term);
 * and (2) it follows a leader of its current term and holds durably that leader's commit index
 * at an entry of that term (a leader that committed an entry of its own term through a quorum
 * without the recovering node holds every entry committed before, so the node does too).
 * Condition (1) waits for every other voter, not just a majority: a vote may have gone to a
 * candidate that lost, and only that candidate knows the term. While a voter is down a
 * recovering node stays out of quorums, which is what a majority of healthy nodes must decide.
 *
 * The runtime learns of the end through Ready.recovered and clears its durable recovering
 * marker only after persisting that Ready (which holds the new term and vote).
 */
import type { NodeId } from './types.js';

/** The term probe of one recovery: who answered and the highest term seen. */
export class TermProbe {
  readonly #answered = new Map<NodeId, number>();

  /** Records `from`'s current term. */
  record(from: NodeId, term: number): void {
    const seen = this.#answered.get(from);
    if (seen === undefined || term > seen) this.#answered.set(from, term);
  }

  /** The voters other than `self` that have not answered yet, sorted. */
  missing(voters: ReadonlySet<NodeId>, self: NodeId): NodeId[] {
    return [...voters].filter((id) => id !== self && !this.#answered.has(id)).sort();
  }

  /**
   * The highest term reported once every voter other than `self` has answered, else undefined.
   * Answers from nodes that are no longer voters are ignored.
   */
  floor(voters: ReadonlySet<NodeId>, self: NodeId): number | undefined {
    let max = 0;
    for (const id of voters) {
      if (id === self) continue;
      const t = this.#answered.get(id);
      if (t === undefined) return undefined;
      max = Math.max(max, t);
    }
    return max;
  }
}
