/**
 * Protobuf encodings (src/proto/queue.proto) of the typed values of the queue keyspace
 * (record-types.ts, re-exported here; keys in keys.ts). The per-message records go through the
 * hand-written codecs of record-codec.ts, whose protobufjs reference is records-protobufjs.ts.
 * proto3 omits default values and protobufjs writes fields in number order, so equal records
 * encode to equal bytes, which keeps keyspaces byte-identical across nodes. Attribute maps are
 * written sorted by key for the same reason.
 */
import { bool, decodeAs, encodeAs, list, num, pb, str, sub, type Decoded } from './proto.js';
import type { DedupPageEntry, DedupRecord, MachineRecord, MessageRecord, PayloadRecord, QueueRecord } from './record-types.js';
import { decodeDedupFast, decodeDedupPageFast, decodeMessageFast, decodePayloadFast, encodeDedupFast, encodeDedupPageFast, encodeMessageFast, encodePayloadFast } from './record-codec.js';

export type * from './record-types.js';

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
    tags: Object.keys(r.tags)
      .sort()
      .map((key) => ({ key, value: r.tags[key] })),
    ...(r.lastRedrive === undefined ? {} : { lastRedrive: r.lastRedrive }),
  });
}

/** Decodes a QueueRecord. */
export function decodeQueue(b: Uint8Array): QueueRecord {
  const m = decodeAs(pb.queue, b);
  const lastRedrive = sub(m, 'lastRedrive');
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
      contentBasedDeduplication: bool(m, 'contentBasedDeduplication'),
      receiveWaitTimeMs: num(m, 'receiveWaitTimeMs'),
      redriveAllowPolicy: str(m, 'redriveAllowPolicy'),
    },
    createdAtMs: num(m, 'createdAtMs'),
    nextOffset: num(m, 'nextOffset'),
    deadLetteredCount: num(m, 'deadLetteredCount'),
    dedupFloorSeq: num(m, 'dedupFloorSeq'),
    // fromEntries defines own properties, so a key such as "__proto__" stays a plain tag.
    tags: Object.fromEntries(list(m, 'tags').map((t) => [str(t as Decoded, 'key'), str(t as Decoded, 'value')] as const)),
    ...(lastRedrive === undefined ? {} : { lastRedrive: { taskIndex: num(lastRedrive, 'taskIndex'), startedAtMs: num(lastRedrive, 'startedAtMs'), moved: num(lastRedrive, 'moved'), destination: str(lastRedrive, 'destination') } }),
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

/** Decodes a DedupRecord (hand-written wire code, see record-codec.ts). */
export function decodeDedup(b: Uint8Array): DedupRecord {
  return decodeDedupFast(b);
}
