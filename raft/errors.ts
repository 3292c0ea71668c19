/**
 * The documented sentinel errors of the Raft core. Each is an operating condition the caller
 * is expected to handle; a broken invariant is an AssertionError instead (see assert.ts).
 */

/** Every stable code of a RaftError, for exhaustive tables and tests. */
export const raftErrorCodes = [
  'PROPOSAL_DROPPED',
  'NOT_LEADER',
  'COMPACTED',
  'UNAVAILABLE',
  'SNAPSHOT_TEMPORARILY_UNAVAILABLE',
  'CONF_CHANGE_PENDING',
  'INVALID_CONF_CHANGE',
  'TRANSFER_IN_PROGRESS',
] as const;

/** A stable code of a RaftError (one of raftErrorCodes). */
export type RaftErrorCode = (typeof raftErrorCodes)[number];

/** An error from the Raft core with a stable `code`. */
export class RaftError extends Error {
  override readonly name = 'RaftError';
  constructor(
    readonly code: RaftErrorCode,
    message: string,
    /** For NOT_LEADER: the leader this node knows of, or '' if none. */
    readonly leader: string = '',
  ) {
    super(message);
  }
}

/** The entries at the requested index were compacted into a snapshot. */
export function errCompacted(index: number): RaftError {
  return new RaftError('COMPACTED', `index ${index} is compacted`);
}

/** The requested index is beyond the last index of the log. */
export function errUnavailable(index: number): RaftError {
  return new RaftError('UNAVAILABLE', `index ${index} is unavailable`);
}
