/**
 * Bounds and defaults of the queue state machine. Each bound says why it is what it is; the
 * attribute ranges follow Amazon SQS so that clients written for SQS behave the same here.
 */

/** A closed range of allowed values with a default (all integers). */
export interface AttributeRange {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

const secondMs = 1000;
const minuteMs = 60 * secondMs;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;

/** How long a received message stays invisible: up to 12 h (SQS), default 30 s. */
export const visibilityTimeoutMsRange: AttributeRange = { min: 0, max: 12 * hourMs, default: 30 * secondMs };

/** Delay before a new message becomes visible: up to 15 min (SQS), default 0. */
export const delayMsRange: AttributeRange = { min: 0, max: 15 * minuteMs, default: 0 };

/** How long a message is kept: 1 min to 14 days (SQS), default 4 days. */
export const retentionMsRange: AttributeRange = { min: minuteMs, max: 14 * dayMs, default: 4 * dayMs };

/** Largest message body: 1 B to 1 MiB, default 256 KiB. 1 MiB keeps one log entry of a full
 * batch far below the transport's frame limit once bodies are batched. */
export const maxMessageBytesRange: AttributeRange = { min: 1, max: 1024 * 1024, default: 256 * 1024 };

/** Receives before a message is dead-lettered: 1 to 1000 (SQS). Only with a deadLetterQueue. */
export const maxReceiveCountRange: AttributeRange = { min: 1, max: 1000, default: 0 };

/** Messages per enqueue command: 100 keeps one log entry bounded (100 x 1 MiB worst case). */
export const enqueueBatchMessagesMax = 100;

/** Messages per receive command: 100 keeps one reply and one apply bounded. */
export const receiveMessagesMax = 100;

/** Receipts per ack command: same bound as a receive, whose deliveries one ack settles. */
export const ackReceiptsMax = 100;

/** Deduplication window: a dedup key seen this recently returns the original result (SQS: 5 min). */
export const dedupWindowMs = 5 * minuteMs;

/**
 * Deduplication keys kept per queue; the oldest is evicted first when full. 100k keys cover
 * 333 enqueues/s sustained over the whole 5 min window per queue, and cost roughly 150 B of heap
 * each (about 15 MB per queue at the bound), which keeps the heap bounded by metadata.
 */
export const dedupKeysMax = 100_000;

/**
 * Dedup entries per stored page (keys.ts 71 06). A page is rewritten once per apply batch while
 * it fills, so 64 keeps that rewrite small (about 5 KB for producer keys) while turning one
 * write and one delete per enqueue into one of each per 64.
 */
export const dedupPageEntriesMax = 64;
/** Length of a queue name without its `.fifo` suffix. */
export const queueNameLengthMax = 80;

/** Length of groupId, dedupId, producerId and idempotency keys (SQS: 128). */
export const idLengthMax = 128;

/** String attributes per message (SQS: 10). */
export const messageAttributesMax = 10;

/** Length of a message attribute key in UTF-16 units (SQS: 256). */
export const attributeLengthMax = 256;

/**
 * Length of a message attribute value in UTF-16 units: 256 KiB, as large as an SQS message
 * attribute may be. A command stays bounded by the node's command size limit
 * (src/server/size-limits.ts), which refuses a larger enqueue TOO_LARGE before it is proposed.
 */
export const attributeValueLengthMax = 262_144;

/** The default long-poll wait of a receive: 0 to 20 s (SQS ReceiveMessageWaitTimeSeconds), default 0. */
export const receiveWaitTimeMsRange: AttributeRange = { min: 0, max: 20 * secondMs, default: 0 };

/** Length of a queue's redrive allow policy (an opaque JSON string kept for the API layer). */
export const redriveAllowPolicyLengthMax = 1024;

/** Tags per queue (SQS: 50). */
export const queueTagsMax = 50;

/** Length of a queue tag key in UTF-16 units: 1..128 (SQS). */
export const tagKeyLengthMax = 128;

/** Length of a queue tag value in UTF-16 units: 0..256 (SQS). */
export const tagValueLengthMax = 256;
