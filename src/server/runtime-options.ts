/**
 * The node runtime's settings, start options and status view (node-runtime.ts re-exports them),
 * in a file of their own so config.ts and the APIs need not import the runtime for its types.
 */
import type { Logger } from 'pino';
import type { TestingKnobs } from '../../raft/raft.js';
import type { ConfState, NodeId } from '../../raft/types.js';
import type { DurableStorageOptions } from '../storage/index.js';
import type { TlsCredentials } from '../transport/index.js';
import type { Application } from './application.js';
import type { NodeMetrics } from './metrics-hooks.js';
import type { PeerConfig } from './peer-config.js';
import type { ReplyCodecs } from './reply-encoding.js';

/** Settings of the node runtime (validated by config.ts before they get here). */
export interface NodeRuntimeConfig {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly dataDir: string;
  /**
   * Every member of the initial cluster, this node included (on a running node: the current
   * members with their addresses, see membership.ts).
   */
  readonly peers: Readonly<Record<NodeId, PeerConfig>>;
  /**
   * Start as a joining node (`raftq server --join`): a brand-new data directory is bootstrapped
   * with NO membership instead of --peers, so the node is not a voter (it never campaigns) and
   * learns the membership only from the snapshot the leader sends once `raftq member add`
   * added it. Ignored when the data directory already exists.
   */
  readonly join?: boolean;
  /** Address to accept peer connections on (host); the port comes from peers[nodeId]. */
  readonly listenHost: string;
  /** Milliseconds per Raft tick. */
  readonly tickMs: number;
  /** Election timeout in ticks (jittered up to twice that). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Compact the log once this many applied entries lie behind the last snapshot. */
  readonly snapshotEntries: number;
  /** Entries kept behind a compaction so briefly lagging followers need no snapshot. */
  readonly compactionTrailingEntries: number;
  /** Compact the log once its stored entries take this many bytes (it is held in memory too). */
  readonly snapshotBytes: number;
  /** At most this many bytes of entries are kept behind a compaction (with compactionTrailingEntries). */
  readonly compactionTrailingBytes: number;
  /** Largest segment file of the Raft log in bytes (default 64 MiB: segment-log-options.ts). */
  readonly segmentBytes?: number;
  /** How long a client request may take end to end before TIMEOUT. */
  readonly requestTimeoutMs: number;
  /** How long a request waits for a leader to be elected before NO_LEADER. */
  readonly leaderWaitMs: number;
  /** Proposals queued or in flight on a leader beyond which requests get UNAVAILABLE. */
  readonly proposalsMax: number;
}

/** Options of NodeRuntime.start. */
export interface NodeRuntimeOptions<Result, Reply> {
  readonly config: NodeRuntimeConfig;
  readonly logger: Logger;
  readonly app: Application<Result, Reply>;
  /**
   * Encode a reply for a follower that forwarded the request, and decode it there: JSON for
   * followers of the previous release, binary for those that ask for it (reply-encoding.ts).
   */
  readonly replyCodecs: ReplyCodecs<Reply>;
  /**
   * Wall clock in milliseconds (default Date.now); injectable for clock-fault tests. Entries
   * carry it only as a slew target of cluster time (cluster-clock.ts).
   */
  readonly now?: () => number;
  /** Monotonic clock in milliseconds (default performance.now): what advances cluster time. */
  readonly monoNow?: () => number;
  /** Called when the node cannot go on (storage failure, broken invariant). Default: exit. */
  readonly onFatal?: (err: unknown) => void;
  readonly metrics?: NodeMetrics;
  /** Seed for election jitter; default derives from the clock. */
  readonly seed?: number;
  /** Test-only hooks that break Raft on purpose (negative controls); never in production. */
  readonly testingKnobs?: TestingKnobs;
  /** Opens the LevelDB (test mode's skip-fsync, skip-dir-fsync and skip-checksums negative controls); default level-db.ts openDb. */
  readonly openDb?: DurableStorageOptions['openDb'];
  /** TEST ONLY: a sync step the segment log skips (test mode's negative controls). */
  readonly unsafeSegmentLog?: DurableStorageOptions['unsafeSegmentLog'];
  /** Test mode's skip-checksums negative control: storage neither verifies nor repairs (repair.ts). */
  readonly skipChecksums?: boolean;
  /** Mutual TLS on the peer port (src/transport/tls-credentials.ts); absent: plain TCP. */
  readonly tls?: TlsCredentials;
}

/** What /v1/cluster and `raftq status` show about one node. */
export interface NodeStatus {
  readonly id: NodeId;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeId;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly confState: ConfState;
  readonly progress: Record<NodeId, { match: number; next: number; state: string; active: boolean }>;
  readonly peersConnected: Record<NodeId, boolean>;
  /** Set while recovering from storage damage (raft/recovery.ts): why, and since when. */
  readonly recovering?: { readonly reason: string; readonly since: string };
}
