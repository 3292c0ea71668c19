/**
 * Hand-written protobuf codecs of the per-message records (MessageRecordPb, PayloadRecordPb,
 * DedupRecordPb of src/proto/queue.proto): every enqueue writes a payload and a message record
 * on every node, and a restart decodes every message record. They produce exactly the bytes of
 * the protobufjs encoders in records-protobufjs.ts and decode to the same values (record-codec.test.ts):
 * implicit-presence fields are skipped at their default (a double at +0 but not -0, '' for
 * strings, empty bytes and lists), repeated doubles are packed and read packed or not.
 *
 * An input these decoders do not expect (a known field with another wire type) goes to the
 * protobufjs reference decoder, so both paths agree on every input.
 */
import { NotFastPath, ProtoReader, ProtoWriter, expectWireType, wireType } from '../proto/wire.js';
import type { DedupPageEntry, DedupRecord, MessageRecord, PayloadRecord } from './record-types.js';
import { decodeDedupPageWithProtobufjs, decodeDedupWithProtobufjs, decodeMessageWithProtobufjs, decodePayloadWithProtobufjs } from './records-protobufjs.js';

/** Reused by every encode here (encoding is synchronous and never nested). */
const writer = new ProtoWriter(4096);

function doubleField(w: ProtoWriter, field: number, x: number): void {
  if (!Object.is(x, 0)) w.tag(field, wireType.fixed64).double(x);
}

function stringField(w: ProtoWriter, field: number, s: string): void {
  if (s !== '') w.tag(field, wireType.bytes).string(s);
}

function readDouble(r: ProtoReader, tag: number): number {
  expectWireType(tag, wireType.fixed64);
  return r.double();
}

function readString(r: ProtoReader, tag: number): string {
  expectWireType(tag, wireType.bytes);
  return r.string();
}

/** Runs `fast`, falling back to `reference` when the input is not what `fast` handles. */
function withFallback<T>(b: Uint8Array, fast: (r: ProtoReader) => T, reference: (b: Uint8Array) => T): T {
  try {
    return fast(new ProtoReader(b));
  } catch (e) {
    if (e instanceof NotFastPath) return reference(b);
    throw e;
  }
}

/** Encodes a MessageRecord. */
export function encodeMessageFast(m: MessageRecord): Uint8Array {
  const w = writer.reset();
  doubleField(w, 1, m.seq);
  doubleField(w, 2, m.enqueuedAtMs);
  doubleField(w, 3, m.visibleAtMs);
  doubleField(w, 4, m.receiveCount);
  doubleField(w, 5, m.deliveryIndex);
  stringField(w, 6, m.groupId);
  stringField(w, 7, m.sourceQueue);
  // Explicit presence: written (even at 0) only when it differs from enqueuedAtMs.
  if (!Object.is(m.sentAtMs, m.enqueuedAtMs)) w.tag(8, wireType.fixed64).double(m.sentAtMs);
  doubleField(w, 9, m.firstReceivedAtMs);
  return w.finish();
}

/** Decodes a MessageRecord. */
export function decodeMessageFast(b: Uint8Array): MessageRecord {
  return withFallback(b, readMessage, decodeMessageWithProtobufjs);
}

function readMessage(r: ProtoReader): MessageRecord {
  let seq = 0;
  let enqueuedAtMs = 0;
  let visibleAtMs = 0;
  let receiveCount = 0;
  let deliveryIndex = 0;
  let groupId = '';
  let sourceQueue = '';
  let sentAtMs: number | undefined;
  let firstReceivedAtMs = 0;
  while (!r.done) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        seq = readDouble(r, tag);
        break;
      case 2:
        enqueuedAtMs = readDouble(r, tag);
        break;
      case 3:
        visibleAtMs = readDouble(r, tag);
        break;
      case 4:
        receiveCount = readDouble(r, tag);
        break;
      case 5:
        deliveryIndex = readDouble(r, tag);
        break;
      case 6:
        groupId = readString(r, tag);
        break;
      case 7:
        sourceQueue = readString(r, tag);
        break;
      case 8:
        sentAtMs = readDouble(r, tag);
        break;
      case 9:
        firstReceivedAtMs = readDouble(r, tag);
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return { seq, enqueuedAtMs, sentAtMs: sentAtMs ?? enqueuedAtMs, firstReceivedAtMs, visibleAtMs, receiveCount, deliveryIndex, groupId, sourceQueue };
}

/** Encodes a PayloadRecord, attributes sorted by key (so equal payloads encode equally). */
export function encodePayloadFast(p: PayloadRecord): Uint8Array {
  const w = writer.reset();
  if (p.body.length > 0) w.tag(1, wireType.bytes).bytes(p.body);
  const keys = Object.keys(p.attributes);
  if (keys.length > 1) keys.sort();
  for (const key of keys) {
    w.tag(2, wireType.bytes);
    const mark = w.fork();
    stringField(w, 1, key);
    stringField(w, 2, p.attributes[key]!);
    w.join(mark);
  }
  doubleField(w, 3, p.sentAtMs);
  stringField(w, 4, p.dedupId);
  return w.finish();
}

/**
 * Decodes a PayloadRecord. With `copyBody` false the body is a view into `b` (for a caller
 * that owns `b`, such as a reply built from a fresh LevelDB read).
 */
export function decodePayloadFast(b: Uint8Array, copyBody = true): PayloadRecord {
  return withFallback(b, (r) => readPayload(r, copyBody), decodePayloadWithProtobufjs);
}

function readPayload(r: ProtoReader, copyBody: boolean): PayloadRecord {
  let body: Uint8Array | undefined;
  const attributes: Record<string, string> = {};
  let sentAtMs = 0;
  let dedupId = '';
  while (!r.done) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, wireType.bytes);
        body = copyBody ? r.bytesCopy() : r.bytes();
        break;
      case 2: {
        expectWireType(tag, wireType.bytes);
        const a = r.sub();
        let key = '';
        let value = '';
        while (!a.done) {
          const t = a.tag();
          if (t >>> 3 === 1) key = readString(a, t);
          else if (t >>> 3 === 2) value = readString(a, t);
          else a.skip(t & 7);
        }
        attributes[key] = value;
        break;
      }
      case 3:
        sentAtMs = readDouble(r, tag);
        break;
      case 4:
        dedupId = readString(r, tag);
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return { body: body ?? new Uint8Array(0), attributes, sentAtMs, dedupId };
}

/** Encodes a DedupRecord. */
export function encodeDedupFast(d: DedupRecord): Uint8Array {
  const w = writer.reset();
  writeDedupFields(w, d);
  return w.finish();
}

function writeDedupFields(w: ProtoWriter, d: DedupRecord): void {
  stringField(w, 1, d.key);
  doubleField(w, 2, d.createdAtMs);
  packedDoubles(w, 3, d.seqs);
  packedDoubles(w, 4, d.offsets);
}

/** Encodes a dedup page: DedupPagePb{entries: DedupRecordPb with seq}. */
export function encodeDedupPageFast(entries: readonly DedupPageEntry[]): Uint8Array {
  const w = writer.reset();
  for (const e of entries) {
    w.tag(1, wireType.bytes);
    const mark = w.fork();
    writeDedupFields(w, e.record);
    doubleField(w, 5, e.seq);
    w.join(mark);
  }
  return w.finish();
}

/** Decodes a dedup page. */
export function decodeDedupPageFast(b: Uint8Array): DedupPageEntry[] {
  return withFallback(b, readDedupPage, decodeDedupPageWithProtobufjs);
}

function readDedupPage(r: ProtoReader): DedupPageEntry[] {
  const out: DedupPageEntry[] = [];
  while (!r.done) {
    const tag = r.tag();
    if (tag >>> 3 !== 1) {
      r.skip(tag & 7);
      continue;
    }
    expectWireType(tag, wireType.bytes);
    const e = r.sub();
    let seq = 0;
    const record = readDedup(e, (t) => {
      seq = readDouble(e, t);
    });
    out.push({ seq, record });
  }
  return out;
}

function packedDoubles(w: ProtoWriter, field: number, xs: readonly number[]): void {
  if (xs.length === 0) return;
  w.tag(field, wireType.bytes).uint(xs.length * 8);
  for (const x of xs) w.double(x);
}

/** Decodes a DedupRecord. */
export function decodeDedupFast(b: Uint8Array): DedupRecord {
  return withFallback(b, (r) => readDedup(r), decodeDedupWithProtobufjs);
}

function readDedup(r: ProtoReader, onSeq?: (tag: number) => void): DedupRecord {
  let key = '';
  let createdAtMs = 0;
  const seqs: number[] = [];
  const offsets: number[] = [];
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1) key = readString(r, tag);
    else if (field === 2) createdAtMs = readDouble(r, tag);
    else if (field === 3 || field === 4) readDoubles(r, tag, field === 3 ? seqs : offsets);
    else if (field === 5 && onSeq !== undefined) onSeq(tag);
    else r.skip(tag & 7);
  }
  return { key, createdAtMs, seqs, offsets };
}

/** A repeated double: a packed run (wire type 2) or one unpacked value (wire type 1). */
function readDoubles(r: ProtoReader, tag: number, out: number[]): void {
  if ((tag & 7) === wireType.fixed64) {
    out.push(r.double());
    return;
  }
  expectWireType(tag, wireType.bytes);
  const packed = r.sub();
  while (!packed.done) out.push(packed.double());
}
