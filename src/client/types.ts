/**
 * Public types of the raftq client. Times are milliseconds; sizes are bytes.
 */
import type { Message } from './message.js';
import type { ClientTlsOptions } from './tls-options.js';

export type { ClientTlsOptions } from './tls-options.js';

/** Options of connect(). */
export interface ClientOptions {
  /**
   * Binary client addresses ("host:port") of any subset of the cluster's nodes, e.g.
   * ['127.0.0.1:7001', '127.0.0.1:7002']. The client finds the leader from there.
   */
  readonly nodes: readonly string[];
  /** Milliseconds to open a connection to one node (TCP and hello). Default 3000. */
  readonly connectTimeoutMs?: number;
  /**
   * Milliseconds one attempt of a request may take before the client gives up on it (TIMEOUT)
   * and retries. Default 15000, above the server's own 10 s request timeout; a long-poll
   * receive adds its waitMs.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Milliseconds an operation keeps retrying after retryable failures (connection loss, no
   * leader, leader change, overload, timeout) before it fails with the last error. Default 30000.
   */
  readonly retryTimeoutMs?: number;
  /** First retry delay ceiling in milliseconds; doubles per attempt, with full jitter. Default 50. */
  readonly retryDelayMs?: number;
  /** Largest retry delay ceiling in milliseconds. Default 2000. */
  readonly retryDelayMsMax?: number;
  /**
   * Milliseconds of silence after which the client pings the node; a node silent for twice
   * that is presumed dead and the client moves to another. Default 10000 (the server closes
   * connections silent for 30 s).
   */
  readonly keepAliveMs?: number;
  /** Producer id for idempotent sends. Default: a random UUID per client instance. */
  readonly producerId?: string;
  /** A name for this client, reported to the server. Default "raftq-client". */
  readonly name?: string;
  /** Connect with TLS, verifying each node (e.g. `{ ca: readFileSync('data/tls/ca.pem') }`); absent: plain TCP. */
  readonly tls?: ClientTlsOptions;
  /**
   * The token to authenticate with (a node started with `--auth required`), sent in each
   * connection's Hello; a missing or bad one fails calls with UNAUTHENTICATED.
   */
  readonly token?: string;
}

/** Attributes of a queue, as given to createQueue / setQueueAttributes (all optional). */
export interface QueueAttributes {
  /** How long a received message stays invisible, in milliseconds (0..12 h, default 30 s). */
  readonly visibilityTimeoutMs?: number;
  /** Delay before a new message becomes visible, in milliseconds (0..15 min, default 0). */
  readonly delayMs?: number;
  /** How long a message is kept, in milliseconds (1 min..14 days, default 4 days). */
  readonly retentionMs?: number;
  /** Largest message body, in bytes (1..1 MiB, default 256 KiB). */
  readonly maxMessageBytes?: number;
  /** Receives after which a message moves to deadLetterQueue (1..1000); needs deadLetterQueue. */
  readonly maxReceiveCount?: number;
  /** Dead-letter queue name; needs maxReceiveCount. */
  readonly deadLetterQueue?: string;
  /** A FIFO queue (its name must end in ".fifo"). */
  readonly fifo?: boolean;
  /** FIFO queues only: deduplication ids derived from bodies by the API layer (default false). */
  readonly contentBasedDeduplication?: boolean;
  /** Default long-poll wait of a receive, in milliseconds (0..20000, default 0). Stored only. */
  readonly receiveWaitTimeMs?: number;
  /** '' (default): any source queue may use this as its dead-letter queue; else opaque JSON. */
  readonly redriveAllowPolicy?: string;
}

/** Statistics of a queue, at the cluster's clock. */
export interface QueueStats {
  /** Messages a receive could deliver now. */
  readonly visible: number;
  /** Delivered messages whose visibility timeout has not passed. */
  readonly inFlight: number;
  /** Never-delivered messages whose delay has not passed. */
  readonly delayed: number;
  /** Age of the oldest message, in milliseconds (0 when empty). */
  readonly oldestMessageAgeMs: number;
  /** Messages this queue moved to its dead-letter queue, ever. */
  readonly deadLettered: number;
}

/** A queue: its resolved attributes and statistics. */
export interface QueueInfo {
  readonly name: string;
  readonly attributes: Required<QueueAttributes>;
  /** Creation time, in milliseconds since the epoch. */
  readonly createdAtMs: number;
  readonly stats: QueueStats;
  /** The queue's tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** The last redrive of this queue as a dead-letter queue, when there was one. */
  readonly lastRedrive?: { readonly taskIndex: number; readonly startedAtMs: number; readonly moved: number; readonly destination: string };
}

/** A message body: a string is sent as UTF-8. */
export type Body = string | Uint8Array;

/** Options of one message of send / sendBatch. */
export interface MessageOptions {
  /** Per-message delay in milliseconds, overriding the queue's delayMs (standard queues only). */
  readonly delayMs?: number;
  /** FIFO message group (required on FIFO queues, refused on standard queues). */
  readonly groupId?: string;
  /** FIFO deduplication id: a repeat within 5 minutes returns the original id. */
  readonly dedupId?: string;
  /** String attributes delivered with the message (up to 10). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Options of send / sendBatch. */
export interface SendOptions {
  /**
   * Deduplicates the enqueue across clients and restarts for 5 minutes. Without it, the client's
   * own producer id and sequence number deduplicate its retries.
   */
  readonly idempotencyKey?: string;
}

/** One entry of sendBatch. */
export interface BatchEntry extends MessageOptions {
  readonly body: Body;
}

/** Where an enqueued message landed. */
export interface SendResult {
  /** The message id (stable, unique in the cluster). */
  readonly id: string;
  /** Position in the queue's append-only sequence. */
  readonly offset: number;
  /** True when the enqueue was a duplicate (a retry): nothing new was enqueued. */
  readonly duplicate: boolean;
}

/** Result of sendBatch: one id per entry, in order. */
export interface SendBatchResult {
  readonly messages: ReadonlyArray<{ readonly id: string; readonly offset: number }>;
  /** True when the batch was a duplicate (a retry): nothing new was enqueued. */
  readonly duplicate: boolean;
}

/** Options of receive(). */
export interface ReceiveOptions {
  /** Messages to receive at most (1..100). Default 1. */
  readonly max?: number;
  /** Lease of the deliveries in milliseconds; default the queue's visibilityTimeoutMs. */
  readonly visibilityTimeoutMs?: number;
  /** Milliseconds to wait for a message when none is visible (long poll, 0..20000). Default 0. */
  readonly waitMs?: number;
}

/** Options of consume(). */
export interface ConsumeOptions {
  /** Handlers running at once. Default 1. */
  readonly concurrency?: number;
  /**
   * Messages delivered ahead and not yet settled, at most (the subscription's credit): running
   * handlers plus buffered messages never exceed it. At least `concurrency`; default
   * max(10, 2 * concurrency).
   */
  readonly prefetch?: number;
  /** Lease of each delivery in milliseconds; default the queue's visibilityTimeoutMs. */
  readonly visibilityTimeoutMs?: number;
  /** Milliseconds before a message whose handler failed is delivered again. Default 0. */
  readonly nackDelayMs?: number;
  /** Called for handler failures and for errors the consumer recovers from (it keeps going). */
  readonly onError?: (err: unknown, message: Message | undefined) => void;
}

/** Options of messages(). */
export interface MessagesOptions {
  /** Messages delivered ahead and not yet settled (acked or nacked), at most. Default 10. */
  readonly prefetch?: number;
  /** Lease of each delivery in milliseconds; default the queue's visibilityTimeoutMs. */
  readonly visibilityTimeoutMs?: number;
}

/** One member of the cluster, as the answering node sees it. */
export interface NodeInfo {
  readonly id: string;
  readonly voter: boolean;
  /** Peer (Raft) address. */
  readonly peer: string;
  /** HTTP API address, when configured. */
  readonly http?: string;
  /** Binary client address, when configured. */
  readonly client?: string;
  /** Leader only: the highest log index known to be replicated on this node. */
  readonly match?: number;
  /** Leader only: replication state (probe, replicate, snapshot). */
  readonly state?: string;
  /** Whether the answering node's connection to this node is up (absent for itself). */
  readonly connected?: boolean;
}

/** The Raft status of the answering node and the cluster's members. */
export interface ClusterStatus {
  /** The answering node. */
  readonly id: string;
  readonly role: string;
  /** The leader's id, or null while there is none. */
  readonly leader: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly nodes: readonly NodeInfo[];
}
