import type { NodeId } from '../types.js';

/** The outcome of counting votes. */
export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * The largest index that a majority of `voters` have acknowledged, given each voter's acked
 * index. An empty configuration returns +Infinity (every index is trivially acknowledged);
 * callers never commit with zero voters.
 */
export function committedIndex(voters: ReadonlySet<NodeId>, acked: (id: NodeId) => number): number {
  if (voters.size === 0) return Number.POSITIVE_INFINITY;
  const values: number[] = [];
  for (const id of voters) values.push(acked(id));
  values.sort((a, b) => b - a);
  // The (n/2+1)-th largest value is held by a majority.
  return values[Math.floor(voters.size / 2)]!;
}

/** Whether a majority of `voters` granted, rejected, or the election is still open. */
export function voteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return 'won';
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}

/** Size of a majority of `n` voters. */
export function quorumSize(n: number): number {
  return Math.floor(n / 2) + 1;
}
