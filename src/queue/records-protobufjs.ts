/**
 * The protobufjs reference codecs of the per-message records (src/proto/queue.proto): what the
 * hand-written codecs of record-codec.ts must match byte for byte, and where their decoders fall
 * back for an input they do not expect. Attribute maps are written sorted by key.
 */
import { bytes, decodeAs, encodeAs, field, list, num, pb, str, type Decoded } from './proto.js';
import type { DedupPageEntry, DedupRecord, MessageRecord, PayloadRecord } from './record-types.js';

/** Reference encoder through protobufjs: encodes a MessageRecord. */
export function encodeMessageWithProtobufjs(r: MessageRecord): Uint8Array {
  const { sentAtMs, ...rest } = r;
  // sentAtMs has explicit presence: set only when it differs from enqueuedAtMs.
  return encodeAs(pb.message, Object.is(sentAtMs, r.enqueuedAtMs) ? rest : r);
}

/** Reference decoder through protobufjs. */
export function decodeMessageWithProtobufjs(b: Uint8Array): MessageRecord {
  const m = decodeAs(pb.message, b);
  const enqueuedAtMs = num(m, 'enqueuedAtMs');
  const sentAtMs = field(m, 'sentAtMs');
  return {
    seq: num(m, 'seq'),
    enqueuedAtMs,
    sentAtMs: typeof sentAtMs === 'number' ? sentAtMs : enqueuedAtMs,
    firstReceivedAtMs: num(m, 'firstReceivedAtMs'),
    visibleAtMs: num(m, 'visibleAtMs'),
    receiveCount: num(m, 'receiveCount'),
    deliveryIndex: num(m, 'deliveryIndex'),
    groupId: str(m, 'groupId'),
    sourceQueue: str(m, 'sourceQueue'),
  };
}

/** Reference encoder through protobufjs: encodes a PayloadRecord (attributes sorted by key). */
export function encodePayloadWithProtobufjs(r: PayloadRecord): Uint8Array {
  const attributes = Object.keys(r.attributes)
    .sort()
    .map((key) => ({ key, value: r.attributes[key] }));
  return encodeAs(pb.payload, { body: r.body, attributes, sentAtMs: r.sentAtMs, dedupId: r.dedupId });
}

/** Reference decoder through protobufjs. */
export function decodePayloadWithProtobufjs(b: Uint8Array): PayloadRecord {
  const m = decodeAs(pb.payload, b);
  const attributes: Record<string, string> = {};
  for (const a of list(m, 'attributes')) attributes[str(a as Decoded, 'key')] = str(a as Decoded, 'value');
  return { body: bytes(m, 'body'), attributes, sentAtMs: num(m, 'sentAtMs'), dedupId: str(m, 'dedupId') };
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
