/**
 * The one error table: which catalogue code (src/errors.ts) a client sees for each error of the
 * Raft core (RaftError), the storage (StorageError) and the queue state machine (QueueError),
 * each row with its reason. toRaftqError is the only translation from those errors to the
 * client's RaftqError; anything the table does not know becomes INTERNAL, keeping the original
 * as `cause` (never dropped).
 */
import { RaftError, type RaftErrorCode } from '../../raft/errors.js';
import { RaftqError, type ErrorCode } from '../errors.js';
import { QueueError, type QueueErrorCode } from '../queue/errors.js';
import { StorageError, type StorageErrorCode } from '../storage/errors.js';

/** One row of the table: the catalogue code a client sees, and why. */
export interface ErrorRow {
  readonly code: ErrorCode;
  /** For an error that names a leader (RaftError NOT_LEADER): the code when it names none. */
  readonly codeWithoutLeader?: ErrorCode;
  readonly reason: string;
}

/** The table, one section per source, exhaustive over each source's codes. */
export interface ErrorTable {
  readonly raft: { readonly [C in RaftErrorCode]: ErrorRow };
  readonly storage: { readonly [C in StorageErrorCode]: ErrorRow };
  readonly queue: { readonly [C in QueueErrorCode]: ErrorRow };
}

/** The one error table (README "Error codes" documents the catalogue codes it maps to). */
export const errorTable: ErrorTable = {
  raft: {
    NOT_LEADER: { code: 'NOT_LEADER', codeWithoutLeader: 'NO_LEADER', reason: 'this node is not the leader: retry at the leader it names, or with backoff while none is known' },
    PROPOSAL_DROPPED: { code: 'UNAVAILABLE', reason: 'the leader refused the proposal for now (transfer in progress, removed, uncommitted log or read queue full): retry' },
    TRANSFER_IN_PROGRESS: { code: 'UNAVAILABLE', reason: 'a leadership transfer is under way: retry once it ends' },
    CONF_CHANGE_PENDING: { code: 'UNAVAILABLE', reason: 'another membership change is not applied yet: retry when it is (README "Operations")' },
    INVALID_CONF_CHANGE: { code: 'INVALID_ARGUMENT', reason: 'the membership change (or transfer target) makes no sense for the current configuration' },
    COMPACTED: { code: 'INTERNAL', reason: 'a log read below the snapshot: the runtime handles it, so reaching a client is a bug' },
    UNAVAILABLE: { code: 'INTERNAL', reason: 'a log read beyond the last index (not the client UNAVAILABLE): reaching a client is a bug' },
    SNAPSHOT_TEMPORARILY_UNAVAILABLE: { code: 'INTERNAL', reason: 'handled inside the core (the snapshot is sent later): reaching a client is a bug' },
  },
  storage: {
    DATA_DIR_LOCKED: { code: 'INTERNAL', reason: 'a start-up failure of the node, never a request outcome' },
    CLUSTER_MISMATCH: { code: 'INTERNAL', reason: 'a start-up failure of the node, never a request outcome' },
    STORAGE_FORMAT: { code: 'INTERNAL', reason: 'a start-up failure of the node, never a request outcome' },
    STORAGE_CORRUPT: { code: 'INTERNAL', reason: 'stored data failed verification: the read fails rather than return damage; an operator must look' },
    SNAPSHOT_MALFORMED: { code: 'INTERNAL', reason: 'a bad snapshot chunk from a peer: a replication failure, not a request outcome' },
    STORAGE_FULL: { code: 'INTERNAL', reason: 'the disk is full: the node stops (fatal-exit.ts) and the write was never acknowledged' },
    STORAGE_IO: { code: 'INTERNAL', reason: 'the disk failed (EIO): the node stops (fatal-exit.ts) and the write was never acknowledged' },
    LOG_COMPACTED: { code: 'INTERNAL', reason: 'handled by the Raft storage adapter; reaching a client is a bug' },
  },
  queue: {
    QUEUE_NOT_FOUND: { code: 'QUEUE_NOT_FOUND', reason: 'the queue state machine speaks catalogue codes: passed through' },
    QUEUE_EXISTS: { code: 'QUEUE_EXISTS', reason: 'the queue state machine speaks catalogue codes: passed through' },
    INVALID_ARGUMENT: { code: 'INVALID_ARGUMENT', reason: 'the queue state machine speaks catalogue codes: passed through' },
    TOO_LARGE: { code: 'TOO_LARGE', reason: 'the queue state machine speaks catalogue codes: passed through' },
    STALE_RECEIPT: { code: 'STALE_RECEIPT', reason: 'the queue state machine speaks catalogue codes: passed through' },
    NOT_FOUND: { code: 'NOT_FOUND', reason: 'no such user or token (principals.ts): passed through' },
  },
};

/** The row of `e` in the table, or undefined when the table does not know `e`. */
function rowOf(e: unknown): ErrorRow | undefined {
  if (e instanceof RaftError) return rowIn(errorTable.raft, e.code);
  if (e instanceof StorageError) return rowIn(errorTable.storage, e.code);
  if (e instanceof QueueError) return rowIn(errorTable.queue, e.code);
  return undefined;
}

/** The row of `code` in `section`; undefined for a code the types allow but the table lacks. */
function rowIn<C extends string>(section: { readonly [K in C]: ErrorRow }, code: C): ErrorRow | undefined {
  return Object.hasOwn(section, code) ? section[code] : undefined;
}

/**
 * `e` as the RaftqError a client sees: a RaftqError as is, a core, storage or queue error by the
 * table (same message, `e` as cause), anything else INTERNAL with `e` as cause.
 */
export function toRaftqError(e: unknown): RaftqError {
  if (e instanceof RaftqError) return e;
  const row = rowOf(e);
  const message = e instanceof Error ? e.message : String(e);
  if (row === undefined) return new RaftqError('INTERNAL', message, { cause: e });
  const leaderless = e instanceof RaftError && e.leader === '';
  return new RaftqError(leaderless && row.codeWithoutLeader !== undefined ? row.codeWithoutLeader : row.code, message, { cause: e });
}
