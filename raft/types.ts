/**
 * Wire-independent types of the Raft core: log entries, persistent state, and the messages
 * peers exchange. Messages are a discriminated union keyed on `type`; the transport encodes
 * them with protobuf (src/proto), the core never sees bytes on the wire.
 */

/** A node's identity within one cluster, e.g. "n1". Never the empty string. */
export type NodeId = string;

/** The empty node id: "no leader" / "no vote". */
export const NONE: NodeId = '';

/** What an entry carries: an application command or a membership change. */
export type EntryType = 'normal' | 'conf';

/** One entry of the replicated log. Invariant: index >= 1, term >= 1. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque command bytes for `normal`; an encoded ConfChange for `conf`. Empty for no-ops. */
  readonly data: Uint8Array;
}

/** The state that must be durable before any message that depends on it leaves the node. */
export interface HardState {
  readonly term: number;
  /** The candidate voted for in `term`, or NONE. */
  readonly vote: NodeId;
  /** Invariant: commit <= last index of the durable log. */
  readonly commit: number;
}

/** Cluster membership. Invariant: voters and learners are disjoint. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/**
 * Describes a snapshot: the application state after applying every entry up to `index`.
 * The bytes themselves are the application's business and travel beside the message
 * (streamed in chunks by the transport), never through the core.
 */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** A single-server membership change. */
export type ConfChange = {
  readonly type: 'addVoter' | 'addLearner' | 'removeNode';
  readonly nodeId: NodeId;
  /**
   * Opaque to the core (applyConfChange ignores it): the application's data about the change,
   * replicated with it, e.g. the new member's addresses so every node can reach it.
   */
  readonly context?: string;
};

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term (for preVote: the term it would campaign in). */
  readonly term: number;
}

/** Leader -> follower: append `entries` after (index, logTerm); also carries commit. */
export interface AppendMessage extends Envelope {
  readonly type: 'app';
  /** Index of the entry immediately before `entries`. */
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly logTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/** Follower -> leader: the outcome of an append or a snapshot. */
export interface AppendResponseMessage extends Envelope {
  readonly type: 'appResp';
  /** On success the last index now known to match; on reject the rejected `index`. */
  readonly index: number;
  readonly reject: boolean;
  /** On reject: the follower's hint for the next probe (an index at or below `index`). */
  readonly rejectHint: number;
  /** On reject: the follower's term at `rejectHint` (0 if unknown). */
  readonly logTerm: number;
  /** The follower is recovering from storage damage (recovery.ts): count it in no quorum. */
  readonly recovering?: boolean;
}

/** Leader -> follower: liveness and commit propagation; `context` carries ReadIndex rounds. */
export interface HeartbeatMessage extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly context: Uint8Array;
}

export interface HeartbeatResponseMessage extends Envelope {
  readonly type: 'heartbeatResp';
  readonly context: Uint8Array;
  /** As AppendResponseMessage.recovering. */
  readonly recovering?: boolean;
}

/** Recovering node -> every other voter: what is your current term? (recovery.ts) */
export interface TermProbeMessage extends Envelope {
  readonly type: 'termProbe';
}

/** Answer to a TermProbe; `term` is the answerer's current term. Changes no state. */
export interface TermProbeResponseMessage extends Envelope {
  readonly type: 'termProbeResp';
}

/** Candidate (or pre-candidate) -> voters. */
export interface VoteMessage extends Envelope {
  readonly type: 'vote' | 'preVote';
  /** The candidate's last log index and term. */
  readonly index: number;
  readonly logTerm: number;
  /** True when the campaign follows a TimeoutNow: it may disturb a leader lease. */
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends Envelope {
  readonly type: 'voteResp' | 'preVoteResp';
  readonly reject: boolean;
}

/** Leader -> follower: install the snapshot described by `snapshot` (data travels beside it). */
export interface SnapshotMessage extends Envelope {
  readonly type: 'snap';
  readonly snapshot: SnapshotMeta;
}

/** Leader -> transfer target: campaign now, ignoring the election timeout. */
export interface TimeoutNowMessage extends Envelope {
  readonly type: 'timeoutNow';
}

/** Follower -> leader: request a read index for `context`. */
export interface ReadIndexMessage extends Envelope {
  readonly type: 'readIndex';
  readonly context: Uint8Array;
}

/** Leader -> follower: the read index for `context` (0 with reject when it cannot serve). */
export interface ReadIndexResponseMessage extends Envelope {
  readonly type: 'readIndexResp';
  readonly context: Uint8Array;
  readonly index: number;
  readonly reject: boolean;
}

/** Every message a Raft node sends to a peer. */
export type Message =
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage
  | TermProbeMessage
  | TermProbeResponseMessage;

/** The discriminant of every message. */
export type MessageType = Message['type'];

/** A node's role. */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state that the application may want to observe (leader changes, role). */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

/** The answer to a ReadIndex request: reads at `index` or later are linearizable. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/** A string key for a ReadIndex context, so contexts can index maps. */
export function contextKey(context: Uint8Array): string {
  let s = '';
  for (const b of context) s += b.toString(16).padStart(2, '0');
  return s;
}
