/**
 * The commands of the queue state machine (one per Raft log entry) and their results.
 * A command is validated before it is proposed (validate.ts) and applied on every node
 * (state-machine.ts); a result is computed identically on every node.
 */
import type { ErrorCode } from '../errors.js';
import type { QueueErrorCode } from './errors.js';
import type { Permission } from './permissions.js';

/** Queue attributes as given by a client: every field optional, defaults apply on create. */
export interface QueueAttributesInput {
  /** How long a received message stays invisible, in milliseconds (0..12 h, default 30 s). */
  visibilityTimeoutMs?: number;
  /** Delay before a new message becomes visible, in milliseconds (0..15 min, default 0). */
  delayMs?: number;
  /** How long a message is kept, in milliseconds (1 min..14 days, default 4 days). */
  retentionMs?: number;
  /** Largest body in bytes (1..1 MiB, default 256 KiB). */
  maxMessageBytes?: number;
  /** Receives after which a message moves to deadLetterQueue (1..1000); needs deadLetterQueue. 0 with deadLetterQueue '' removes the redrive policy. */
  maxReceiveCount?: number;
  /** Dead-letter queue name; needs maxReceiveCount. Same kind (FIFO or not) as this queue. */
  deadLetterQueue?: string;
  /** Must equal whether the name ends in `.fifo` when given. */
  fifo?: boolean;
  /**
   * Whether the API layer derives deduplication ids from message bodies (default false; true
   * only on FIFO queues). The state machine only stores it.
   */
  contentBasedDeduplication?: boolean;
  /** Default long-poll wait of a receive, in milliseconds (0..20 s, default 0). Stored only. */
  receiveWaitTimeMs?: number;
  /**
   * Which source queues may use this queue as their dead-letter queue: '' (default) lets any;
   * otherwise an opaque JSON string of at most 1024 characters, kept for the API layer.
   */
  redriveAllowPolicy?: string;
}

/** Fully resolved attributes of an existing queue. maxReceiveCount 0 and deadLetterQueue '' mean no redrive policy. */
export interface QueueAttributes {
  readonly visibilityTimeoutMs: number;
  readonly delayMs: number;
  readonly retentionMs: number;
  readonly maxMessageBytes: number;
  readonly maxReceiveCount: number;
  readonly deadLetterQueue: string;
  readonly fifo: boolean;
  /** False when absent from an older record. */
  readonly contentBasedDeduplication: boolean;
  /** 0 when absent from an older record. */
  readonly receiveWaitTimeMs: number;
  /** '' (any source queue allowed) when absent from an older record. */
  readonly redriveAllowPolicy: string;
}

/** Tags of a queue: at most 50, keys of 1..128 and values of 0..256 characters. */
export type QueueTags = Readonly<Record<string, string>>;

/** The last redrive of a dead-letter queue, kept in its queue record. */
export interface RedriveTask {
  /** Log index of the redrive entry: a unique id of the task. */
  readonly taskIndex: number;
  /** When the redrive was applied (state machine clock, ms since epoch). */
  readonly startedAtMs: number;
  /** Messages it moved. */
  readonly moved: number;
  /** The queue every message went to; '' when each went back to its source queue. */
  readonly destination: string;
}

/** One message of an enqueue command. */
export interface EnqueueMessage {
  /** The payload. */
  body: Uint8Array;
  /** String attributes delivered with the message. */
  attributes?: Record<string, string>;
  /** Per-message delay in milliseconds, overriding the queue's delayMs (standard queues only). */
  delayMs?: number;
  /** FIFO message group (required on FIFO queues, refused on standard queues). */
  groupId?: string;
  /** FIFO deduplication id: a repeat within the window returns the original id (FIFO only). */
  dedupId?: string;
}

/** A producer-level deduplication key covering a whole enqueue command. */
export type ProducerKey =
  | { readonly idempotencyKey: string }
  | { readonly producerId: string; readonly sequence: number };

/**
 * Creates a queue; idempotent when the attributes are identical, QUEUE_EXISTS otherwise. Tags
 * apply only when this command creates the queue (an idempotent repeat ignores them).
 */
export interface CreateQueueCommand {
  readonly type: 'createQueue';
  readonly queue: string;
  readonly attributes?: QueueAttributesInput;
  readonly tags?: QueueTags;
}
/** Adds tags to a queue, replacing the values of keys it has; at most 50 tags in the end. */
export interface TagQueueCommand {
  readonly type: 'tagQueue';
  readonly queue: string;
  readonly tags: QueueTags;
}
/** Removes tags from a queue by key; keys it does not have are ignored. */
export interface UntagQueueCommand {
  readonly type: 'untagQueue';
  readonly queue: string;
  readonly keys: readonly string[];
}
/** Deletes a queue and every message in it. */
export interface DeleteQueueCommand {
  readonly type: 'deleteQueue';
  readonly queue: string;
}
/** Deletes every message in a queue; offsets keep growing. */
export interface PurgeQueueCommand {
  readonly type: 'purgeQueue';
  readonly queue: string;
}
/** Changes some attributes of a queue; `fifo` cannot change. */
export interface SetQueueAttributesCommand {
  readonly type: 'setQueueAttributes';
  readonly queue: string;
  readonly attributes: QueueAttributesInput;
}
/** Appends 1..100 messages to a queue, atomically. */
export interface EnqueueCommand {
  readonly type: 'enqueue';
  readonly queue: string;
  readonly messages: readonly EnqueueMessage[];
  readonly producerKey?: ProducerKey;
}
/**
 * Delivers up to `max` visible messages: the lowest offsets first on standard queues; on FIFO
 * queues, group by group (ready groups by their head offset), consecutive visible messages of a
 * group from its head, skipping groups with a message in flight (fifo-groups.ts).
 */
export interface ReceiveCommand {
  readonly type: 'receive';
  readonly queue: string;
  /** 1..100. */
  readonly max: number;
  /** Overrides the queue's visibilityTimeoutMs for these deliveries. */
  readonly visibilityTimeoutMs?: number;
}
/** Deletes delivered messages by receipt. */
export interface AckCommand {
  readonly type: 'ack';
  readonly queue: string;
  readonly receipts: readonly string[];
}
/**
 * Changes how long a delivered message stays invisible, counted from now. 0 returns it at once
 * (a nack); HTTP nack `{receipt, delayMs}` maps to visibilityTimeoutMs = delayMs.
 */
export interface ChangeVisibilityCommand {
  readonly type: 'changeVisibility';
  readonly queue: string;
  readonly receipt: string;
  readonly visibilityTimeoutMs: number;
}
/**
 * Moves every message of a dead-letter queue, in offset order: back to its source queue, or,
 * with `destination`, every message to that queue (an existing queue of the same FIFO kind,
 * not the dead-letter queue itself). The dead-letter queue's record keeps the task
 * (QueueInfo.lastRedrive).
 */
export interface RedriveCommand {
  readonly type: 'redrive';
  readonly queue: string;
  readonly destination?: string;
}
/** Housekeeping proposed by the leader: drops messages past retention and expired dedup keys. */
export interface ExpireCommand {
  readonly type: 'expire';
}

/** Creates user `name`, or replaces its permissions (its tokens stay). */
export interface PutUserCommand {
  readonly type: 'putUser';
  readonly name: string;
  readonly permissions: readonly Permission[];
}
/** Deletes user `name` and every token of it. */
export interface DeleteUserCommand {
  readonly type: 'deleteUser';
  readonly name: string;
}
/**
 * Adds a token to user `user`. The secret never enters the log: the node that served the
 * request generated it and proposes only its sha256 (`hash`, 64 lower-case hex digits).
 */
export interface CreateTokenCommand {
  readonly type: 'createToken';
  readonly user: string;
  /** Public id, 4..32 of [a-z0-9], unique over every user. */
  readonly tokenId: string;
  readonly hash: string;
  /** When the token stops authenticating (state machine clock, ms since epoch); 0 = never. */
  readonly expiresAtMs: number;
}
/** Revokes token `tokenId` of user `user` (a repeat is a no-op). */
export interface RevokeTokenCommand {
  readonly type: 'revokeToken';
  readonly user: string;
  readonly tokenId: string;
}

/** The commands that change principals (users and tokens), not queues. */
export type PrincipalCommand = PutUserCommand | DeleteUserCommand | CreateTokenCommand | RevokeTokenCommand;

/** Every command of the queue state machine, keyed on `type`. */
export type Command =
  | PrincipalCommand
  | CreateQueueCommand
  | DeleteQueueCommand
  | PurgeQueueCommand
  | SetQueueAttributesCommand
  | TagQueueCommand
  | UntagQueueCommand
  | EnqueueCommand
  | ReceiveCommand
  | AckCommand
  | ChangeVisibilityCommand
  | RedriveCommand
  | ExpireCommand;

/** The position and id of an enqueued message. */
export interface EnqueuedMessage {
  /** Stable id derived from the log position of the enqueue: `${entryIndex}-${n}`. */
  readonly id: string;
  /** Position in the queue's append-only sequence. */
  readonly offset: number;
}

/** One delivery made by a receive; the body is attached later by readMessages(). */
export interface Delivery {
  readonly id: string;
  readonly offset: number;
  /** Opaque handle for ack / changeVisibility of this delivery. */
  readonly receipt: string;
  /** Deliveries so far, this one included. */
  readonly receiveCount: number;
  /** When the message entered this queue (state machine clock, ms since epoch). */
  readonly enqueuedAtMs: number;
  /** When the producer's enqueue was applied; kept across dead-letter moves and redrives. */
  readonly sentAtMs: number;
  /** When the message was first delivered, from any queue (this delivery when it is the first). */
  readonly firstReceivedAtMs: number;
  /** FIFO group, '' on standard queues. */
  readonly groupId: string;
  /** Internal payload sequence number, used by readMessages(). */
  readonly seq: number;
}

/** A delivery with its payload, as returned to a consumer. */
export interface ReceivedMessage extends Omit<Delivery, 'seq'> {
  readonly body: Uint8Array;
  readonly attributes: Record<string, string>;
  /** The FIFO deduplication id the producer gave, '' when none. */
  readonly dedupId: string;
}

/** What an ack did with one receipt: deleted it, found it already gone, or refused it as stale. */
export type AckOutcome = 'deleted' | 'gone' | 'stale';

/** A command that failed deterministically at apply time (state differs from validation time). */
export interface ErrorResult {
  readonly ok: false;
  /** A catalogue code (src/errors.ts): one of queueErrorCodes, or INTERNAL for an undecodable entry (server/queue-app.ts). */
  readonly code: ErrorCode;
  readonly message: string;
}

/** The result of applying a command: an ErrorResult or the command-specific success. */
export type CommandResult =
  | ErrorResult
  | { readonly ok: true; readonly type: 'createQueue'; readonly created: boolean }
  | { readonly ok: true; readonly type: 'deleteQueue'; readonly deletedMessages: number }
  | { readonly ok: true; readonly type: 'purgeQueue'; readonly purgedMessages: number }
  | { readonly ok: true; readonly type: 'setQueueAttributes' }
  | { readonly ok: true; readonly type: 'tagQueue' }
  | { readonly ok: true; readonly type: 'putUser'; readonly created: boolean }
  | { readonly ok: true; readonly type: 'deleteUser' }
  | { readonly ok: true; readonly type: 'createToken' }
  | { readonly ok: true; readonly type: 'revokeToken' }
  | { readonly ok: true; readonly type: 'untagQueue' }
  | {
      readonly ok: true;
      readonly type: 'enqueue';
      readonly messages: readonly EnqueuedMessage[];
      /** True when a producer key matched: nothing was enqueued, `messages` is the original result. */
      readonly duplicate: boolean;
    }
  | {
      readonly ok: true;
      readonly type: 'receive';
      readonly messages: readonly Delivery[];
      /** Messages moved to the dead-letter queue instead of being delivered. */
      readonly deadLettered: number;
    }
  | { readonly ok: true; readonly type: 'ack'; readonly outcomes: readonly AckOutcome[] }
  | { readonly ok: true; readonly type: 'changeVisibility'; readonly outcome: 'changed' | 'gone' }
  | {
      readonly ok: true;
      readonly type: 'redrive';
      readonly moved: number;
      /** The log index of the redrive entry (RedriveTask.taskIndex). */
      readonly taskIndex: number;
    }
  | { readonly ok: true; readonly type: 'expire'; readonly expiredMessages: number; readonly expiredDedupKeys: number };

/** Per-queue statistics at the state machine's clock. */
export interface QueueStats {
  /**
   * Messages visible now (not leased, not delayed). FIFO: counted whether or not their group is
   * blocked (a message in flight) or they wait behind an earlier message of their group.
   */
  readonly visible: number;
  /** Delivered messages whose visibility timeout has not passed. */
  readonly inFlight: number;
  /** Never-delivered messages whose delay has not passed. */
  readonly delayed: number;
  /** Age of the oldest message in ms, 0 when empty. */
  readonly oldestMessageAgeMs: number;
  /** Messages this queue moved to its dead-letter queue, ever. */
  readonly deadLettered: number;
}

/** A queue as reported by getQueue / listQueues. */
export interface QueueInfo {
  readonly name: string;
  readonly attributes: QueueAttributes;
  readonly createdAtMs: number;
  readonly stats: QueueStats;
  /** The queue's tags (a copy). */
  readonly tags: QueueTags;
  /** The last redrive of this queue as a dead-letter queue; undefined when none. */
  readonly lastRedrive?: RedriveTask;
}

/** Whether `cmd` changes principals rather than queues. */
export function isPrincipalCommand(cmd: Command): cmd is PrincipalCommand {
  return cmd.type === 'putUser' || cmd.type === 'deleteUser' || cmd.type === 'createToken' || cmd.type === 'revokeToken';
}

/** Builds an ErrorResult. */
export function errorResult(code: QueueErrorCode, message: string): ErrorResult {
  return { ok: false, code, message };
}
