import type { Entry } from '../../raft/types.js';
import type { LogBackedKeys, StateReader, StateWrite } from '../storage/index.js';
import type { ReplyEncoding } from './reply-encoding.js';

/** What an application reads: the applied state, and the log it was applied from (DurableStorage has both). */
export interface AppStateReader extends StateReader {
  firstIndex(): number;
  lastIndex(): number;
  entries(lo: number, hi: number, maxBytes: number): Entry[];
}

/** A committed command handed to the application, with cluster time. */
export interface AppliedCommand<Decoded = unknown> {
  readonly index: number;
  /** Cluster time after this entry (cluster-clock.ts): whole ms, never decreasing. */
  readonly nowMs: number;
  readonly payload: Uint8Array;
  /**
   * On the leader that proposed it: what validate() decoded from exactly these payload bytes,
   * so apply need not decode them again. Absent on other nodes and after a restart.
   */
  readonly decoded?: Decoded;
}

/**
 * The replicated state machine a node runs. Deterministic: the same commands give the same
 * results and the same writes on every node. The runtime persists the writes together with the
 * applied index.
 *
 * `Result` is what apply computes on every node; `Reply` is what the node that served the
 * request returns to its client (e.g. a result with message bodies read back from disk).
 */
export interface Application<Result, Reply, Decoded = unknown> {
  /** Applies committed commands in order; never throws for a command that passed validation. */
  apply(commands: readonly AppliedCommand<Decoded>[], writes: StateWrite[]): Result[];
  /** Turns a result into the client's reply, after the writes are stored (may read state). */
  reply(result: Result): Promise<Reply>;
  /**
   * Like reply, for a reply whose encoding as `encoding` (the runtime's replyCodecs) must not
   * exceed `bytesMax` bytes: a larger one is cut (e.g. fewer messages of a receive), and
   * `release` holds the commands that undo what was cut (the runtime proposes them after
   * replying). `command` is the payload whose result this is.
   */
  replyWithin(result: Result, command: Uint8Array, bytesMax: number, encoding: ReplyEncoding): Promise<{ reply: Reply; release: readonly Uint8Array[] }>;
  /** Rebuilds in-memory indexes from the stored state (startup, snapshot install). */
  reload(reader: AppStateReader): Promise<void>;
  /**
   * The applied keys that copy log data (DurableStorageOptions.logBacked): when set, the log is
   * compacted only after coldWrites() copied what the state still needs of the entries dropped.
   */
  readonly logBacked?: LogBackedKeys;
  /**
   * The copies of log data the state as applied now needs of entries from `from` on, before the
   * log drops them (written with the next checkpoint): up to `through`, or fewer entries once
   * the copies reach about `bytesMax` bytes; `through` in the result is the last entry covered.
   * Required with logBacked.
   */
  coldWrites?(from: number, through: number, bytesMax: number): { readonly writes: StateWrite[]; readonly through: number };
  /**
   * Checks a command against current state before it is proposed (leader side); throws a
   * RaftqError for a command that would be refused. Returns the command decoded from `payload`
   * (handed back to apply on this node).
   */
  validate(payload: Uint8Array): Decoded;
  /**
   * A housekeeping command the leader should propose now, if any (e.g. retention expiry).
   * `monoMs` is the node's monotonic clock, for pacing only.
   */
  housekeeping(monoMs: number): Uint8Array | undefined;
}
