/**
 * Typed values of the queue keyspace (see keys.ts) and their protobuf encodings
 * (src/proto/queue.proto). proto3 omits default values and protobufjs writes fields in number
 * order, so equal records encode to equal bytes, which keeps keyspaces byte-identical across
 * nodes. Attribute maps are written sorted by key for the same reason.
 */
import type { QueueAttributes } from './commands.js';
import { bytes, decodeAs, encodeAs, list, num, pb, str, bool, type Decoded } from './proto.js';
import { decodeDedupFast, decodeDedupPageFast, decodeMessageFast, decodePayloadFast, encodeDedupFast, encodeDedupPageFast, encodeMessageFast, encodePayloadFast } from './record-codec.js';

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
}

/** Key 71 03 queueId offset: the mutable index record of one live message. */
export interface MessageRecord {
  /** Payload sequence number (see ids.ts); the message id derives from it. */
  readonly seq: number;
  /** When the message entered this queue. */
  readonly enqueuedAtMs: number;
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

/** Encodes a MachineRecord. */
export function encodeMachine(r: MachineRecord): Uint8Array {
  return encodeAs(pb.machine, r);
}

/** Decodes a MachineRecord. */
export function decodeMachine(b: Uint8Array): MachineRecord {
  const m = decodeAs(pb.machine, b);
  return { clockMs: num(m, 'clockMs'), nextQueueId: num(m, 'nextQueueId') };
}

/** Encodes a QueueRecord. */
export function encodeQueue(r: QueueRecord): Uint8Array {
  return encodeAs(pb.queue, {
    id: r.id,
    name: r.name,
    ...r.attributes,
    createdAtMs: r.createdAtMs,
    nextOffset: r.nextOffset,
    deadLetteredCount: r.deadLetteredCount,
    dedupFloorSeq: r.dedupFloorSeq,
  });
}

/** Decodes a QueueRecord. */
export function decodeQueue(b: Uint8Array): QueueRecord {
  const m = decodeAs(pb.queue, b);
  return {
    id: num(m, 'id'),
    name: str(m, 'name'),
    attributes: {
      visibilityTimeoutMs: num(m, 'visibilityTimeoutMs'),
      delayMs: num(m, 'delayMs'),
      retentionMs: num(m, 'retentionMs'),
      maxMessageBytes: num(m, 'maxMessageBytes'),
      maxReceiveCount: num(m, 'maxReceiveCount'),
      deadLetterQueue: str(m, 'deadLetterQueue'),
      fifo: bool(m, 'fifo'),
    },
    createdAtMs: num(m, 'createdAtMs'),
    nextOffset: num(m, 'nextOffset'),
    deadLetteredCount: num(m, 'deadLetteredCount'),
    dedupFloorSeq: num(m, 'dedupFloorSeq'),
  };
}

/** Encodes a MessageRecord (hand-written wire code, see record-codec.ts). */
export function encodeMessage(r: MessageRecord): Uint8Array {
  return encodeMessageFast(r);
}

/** Decodes a MessageRecord (hand-written wire code, see record-codec.ts). */
export function decodeMessage(b: Uint8Array): MessageRecord {
  return decodeMessageFast(b);
}

/** Reference encoder through protobufjs: encodes a MessageRecord. */
export function encodeMessageWithProtobufjs(r: MessageRecord): Uint8Array {
  return encodeAs(pb.message, r);
}

/** Reference decoder through protobufjs. */
export function decodeMessageWithProtobufjs(b: Uint8Array): MessageRecord {
  const m = decodeAs(pb.message, b);
  return {
    seq: num(m, 'seq'),
    enqueuedAtMs: num(m, 'enqueuedAtMs'),
    visibleAtMs: num(m, 'visibleAtMs'),
    receiveCount: num(m, 'receiveCount'),
    deliveryIndex: num(m, 'deliveryIndex'),
    groupId: str(m, 'groupId'),
    sourceQueue: str(m, 'sourceQueue'),
  };
}

/** Encodes a PayloadRecord (hand-written wire code, see record-codec.ts). */
export function encodePayload(r: PayloadRecord): Uint8Array {
  return encodePayloadFast(r);
}

/**
 * Decodes a PayloadRecord (hand-written wire code, see record-codec.ts). With `copyBody` false
 * the body is a view into `b`, for a caller that owns `b`.
 */
export function decodePayload(b: Uint8Array, copyBody = true): PayloadRecord {
  return decodePayloadFast(b, copyBody);
}

/** Reference encoder through protobufjs: encodes a PayloadRecord (attributes sorted by key). */
export function encodePayloadWithProtobufjs(r: PayloadRecord): Uint8Array {
  const attributes = Object.keys(r.attributes)
    .sort()
    .map((key) => ({ key, value: r.attributes[key] }));
  return encodeAs(pb.payload, { body: r.body, attributes, sentAtMs: r.sentAtMs });
}

/** Reference decoder through protobufjs. */
export function decodePayloadWithProtobufjs(b: Uint8Array): PayloadRecord {
  const m = decodeAs(pb.payload, b);
  const attributes: Record<string, string> = {};
  for (const a of list(m, 'attributes')) attributes[str(a as Decoded, 'key')] = str(a as Decoded, 'value');
  return { body: bytes(m, 'body'), attributes, sentAtMs: num(m, 'sentAtMs') };
}

/** Encodes a DedupRecord (hand-written wire code, see record-codec.ts). */
export function encodeDedup(r: DedupRecord): Uint8Array {
  return encodeDedupFast(r);
}

/** Encodes a dedup page (hand-written wire code, see record-codec.ts). */
export function encodeDedupPage(entries: readonly DedupPageEntry[]): Uint8Array {
  return encodeDedupPageFast(entries);
}

/** Decodes a dedup page (hand-written wire code, see record-codec.ts). */
export function decodeDedupPage(b: Uint8Array): DedupPageEntry[] {
  return decodeDedupPageFast(b);
}

/** Reference encoder through protobufjs: a dedup page. */
export function encodeDedupPageWithProtobufjs(entries: readonly DedupPageEntry[]): Uint8Array {
  return encodeAs(pb.dedupPage, { entries: entries.map((e) => ({ ...e.record, seq: e.seq })) });
}

/** Reference decoder through protobufjs: a dedup page. */
export function decodeDedupPageWithProtobufjs(b: Uint8Array): DedupPageEntry[] {
  const m = decodeAs(pb.dedupPage, b);
  return list(m, 'entries').map((raw) => {
    const e = raw as Decoded;
    return {
      seq: num(e, 'seq'),
      record: { key: str(e, 'key'), createdAtMs: num(e, 'createdAtMs'), seqs: list(e, 'seqs').map(Number), offsets: list(e, 'offsets').map(Number) },
    };
  });
}

/** Decodes a DedupRecord (hand-written wire code, see record-codec.ts). */
export function decodeDedup(b: Uint8Array): DedupRecord {
  return decodeDedupFast(b);
}

/** Reference encoder through protobufjs: encodes a DedupRecord. */
export function encodeDedupWithProtobufjs(r: DedupRecord): Uint8Array {
  return encodeAs(pb.dedup, r);
}

/** Reference decoder through protobufjs. */
export function decodeDedupWithProtobufjs(b: Uint8Array): DedupRecord {
  const m = decodeAs(pb.dedup, b);
  return {
    key: str(m, 'key'),
    createdAtMs: num(m, 'createdAtMs'),
    seqs: list(m, 'seqs').map(Number),
    offsets: list(m, 'offsets').map(Number),
  };
}
