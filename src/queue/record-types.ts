/**
 * The typed values of the queue keyspace (see keys.ts), apart from their encodings so that the
 * hand-written codecs (record-codec.ts), the protobufjs reference codecs
 * (records-protobufjs.ts) and records.ts can share them without importing each other.
 */
import type { QueueAttributes, QueueTags, RedriveTask } from './commands.js';

/** Key 71 01: machine-wide state. */
export interface MachineRecord {
  /** Monotonic clock: the largest entry stamp applied so far (ms since epoch). */
  readonly clockMs: number;
  /** Id for the next created queue; ids are never reused. */
  readonly nextQueueId: number;
}

/** Key 71 02 name: a queue definition and counters. */
export interface QueueRecord {
  readonly id: number;
  readonly name: string;
  readonly attributes: QueueAttributes;
  readonly createdAtMs: number;
  /** Offset the next message entering the queue gets. */
  readonly nextOffset: number;
  /** Messages moved from this queue to its dead-letter queue, ever. */
  readonly deadLetteredCount: number;
  /** Dedup entries with a seq below this are gone, even where a stored page still holds them. */
  readonly dedupFloorSeq: number;
  /** The queue's tags, keys sorted; {} when absent from an older record. */
  readonly tags: QueueTags;
  /** The last redrive of this queue as a dead-letter queue; absent when none (and in older records). */
  readonly lastRedrive?: RedriveTask;
}

/** Key 71 03 queueId offset: the mutable index record of one live message. */
export interface MessageRecord {
  /** Payload sequence number (see ids.ts); the message id derives from it. */
  readonly seq: number;
  /** When the message entered this queue. */
  readonly enqueuedAtMs: number;
  /**
   * When the producer's enqueue was applied; kept when the message moves to a dead-letter queue
   * and back. Stored only when it differs from enqueuedAtMs, so absent (older records, and
   * messages never moved) means enqueuedAtMs.
   */
  readonly sentAtMs: number;
  /** When the message was first delivered, from any queue; 0 = never (and in older records). */
  readonly firstReceivedAtMs: number;
  /** The message is invisible (delayed or in flight) until this time. */
  readonly visibleAtMs: number;
  /** Deliveries from this queue so far. */
  readonly receiveCount: number;
  /** Log index of the receive that made the last delivery, 0 if never delivered. */
  readonly deliveryIndex: number;
  /** FIFO group, '' on standard queues. */
  readonly groupId: string;
  /** For a dead-lettered message: the queue it came from (redrive target), else ''. */
  readonly sourceQueue: string;
}

/** Key 71 04 seq: the immutable payload of one message. */
export interface PayloadRecord {
  readonly body: Uint8Array;
  readonly attributes: Readonly<Record<string, string>>;
  /** When the producer's enqueue was applied. */
  readonly sentAtMs: number;
  /** The FIFO deduplication id the producer gave; '' when none (and in older records). */
  readonly dedupId: string;
}

/** A dedup entry of a page (key 71 06): a DedupRecord with its own seq. */
export interface DedupPageEntry {
  readonly seq: number;
  readonly record: DedupRecord;
}

/** Key 71 05 queueId seq: one dedup entry and the result it replays. */
export interface DedupRecord {
  readonly key: string;
  readonly createdAtMs: number;
  readonly seqs: readonly number[];
  readonly offsets: readonly number[];
}
