import { assert } from '../assert.js';
import { Inflights } from './inflights.js';

/**
 * How the leader replicates to one follower:
 * - probe: one append per heartbeat interval until the match point is found;
 * - replicate: optimistic pipelining of appends, bounded by the inflights window;
 * - snapshot: a snapshot is in flight; appends pause until it is reported.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The leader's view of one follower's log. */
export class Progress {
  /** Invariant: match < next. */
  match = 0;
  next = 1;
  state: ProgressState = 'probe';
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Whether the follower was heard from since the last CheckQuorum round. */
  recentActive = false;
  /** In probe state: an append was sent and no further one goes out until a heartbeat response. */
  probeSent = false;
  /**
   * The highest commit index sent to the follower (in an append or heartbeat). It regresses to
   * at most next - 1 when the leader starts probing again or the follower rejects an append;
   * in snapshot state it is the snapshot index. Lets the leader tell whether an append that
   * carries only the commit index would tell the follower anything new.
   */
  sentCommit = 0;
  /** The follower says it is recovering from storage damage (raft/recovery.ts): in no quorum. */
  recovering = false;
  readonly isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: number, isLearner: boolean, inflightCountMax: number, inflightBytesMax: number) {
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(inflightCountMax, inflightBytesMax);
  }

  #reset(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Back to probing from just after the match point (or after a sent snapshot). */
  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.#reset('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.#reset('probe');
      this.next = this.match + 1;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  /** Start pipelining from just after the match point. */
  becomeReplicate(): void {
    this.#reset('replicate');
    this.next = this.match + 1;
  }

  /** A snapshot at `snapshotIndex` is being sent. */
  becomeSnapshot(snapshotIndex: number): void {
    this.#reset('snapshot');
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
    this.sentCommit = snapshotIndex;
  }

  /** A message carrying commit index `commit` was sent to the follower. */
  sentCommitTo(commit: number): void {
    this.sentCommit = commit;
  }

  /**
   * Whether sending commit index `commit` may advance the follower's commit: it is above what
   * was sent, and what was sent does not already cover everything up to next - 1.
   */
  canBumpCommit(commit: number): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /** Records that entries up to `last` were sent (optimistically advances next in replicate). */
  sentEntries(last: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (last >= this.next) {
        this.next = last + 1;
        this.inflights.add(last, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    } else {
      assert(false, () => `sending entries to a follower in ${this.state} state`);
    }
  }

  /**
   * The follower acknowledged entries up to `index`. Returns false if the ack is stale.
   * Invariant kept: match < next.
   */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * The follower rejected an append at `rejected`; `matchHint` is the next index to probe.
   * Returns false if the rejection is stale (an out-of-order response).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.next - 1);
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.probeSent = false;
    return true;
  }

  /** Whether sending appends is paused for this follower. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
