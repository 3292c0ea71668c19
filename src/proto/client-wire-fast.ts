/**
 * Hand-written wire code for the hottest exchange of the binary client protocol: a Request
 * carrying an Enqueue and a Response carrying its EnqueueResult (client.proto). Every send
 * crosses each of the four once, on the client and on the leader. Contract, checked by
 * client-wire-fast.test.ts against the protobufjs path of client-wire.ts:
 * - the encoders write exactly the bytes protobufjs writes;
 * - the decoders return what the protobufjs path returns (read the way its callers read it),
 *   or undefined for any input that is not a plain Request{id, enqueue} / Response{id,
 *   enqueue}, which the protobufjs path then handles, errors included.
 */
import { frameHeaderBytes } from './framing.js';
import { readMessageFields, writeMessageFields } from './message-fields.js';
import { NotFastPath, ProtoReader, ProtoWriter, expectWireType, wireType } from './wire.js';
import type { RequestOps, ResultTypes, WireOutgoing } from './client-wire-types.js';

/** Field numbers (client.proto): Request.enqueue, Response.enqueue. */
const requestEnqueueField = 10;
const responseEnqueueField = 19;

/** Reused by every encode here (synchronous, never nested). */
const writer = new ProtoWriter(4096);

/** Writes the length prefix (framing.ts) over the placeholder that starts `frame`. */
function patchLength(frame: Uint8Array): Uint8Array {
  const n = frame.length - frameHeaderBytes;
  frame[0] = n >>> 24;
  frame[1] = (n >>> 16) & 0xff;
  frame[2] = (n >>> 8) & 0xff;
  frame[3] = n & 0xff;
  return frame;
}

/** A length-prefixed Request{id, enqueue: args} frame. */
export function encodeEnqueueRequestFrame(id: number, args: RequestOps['enqueue']): Uint8Array {
  const w = writer.reset();
  w.fixed32be(0);
  if (id !== 0) w.tag(1, wireType.varint).uint(id);
  w.tag(requestEnqueueField, wireType.bytes);
  const body = w.fork();
  if (args.queue !== '') w.tag(1, wireType.bytes).string(args.queue);
  for (const m of args.messages) {
    w.tag(2, wireType.bytes);
    const mark = w.fork();
    writeMessageFields(w, m);
    w.join(mark);
  }
  if (args.idempotencyKey != null) w.tag(3, wireType.bytes).string(args.idempotencyKey);
  if (args.producer != null) {
    w.tag(4, wireType.bytes);
    const mark = w.fork();
    if (args.producer.producerId !== '') w.tag(1, wireType.bytes).string(args.producer.producerId);
    if (!Object.is(args.producer.sequence, 0)) w.tag(2, wireType.fixed64).double(args.producer.sequence);
    w.join(mark);
  }
  w.join(body);
  return patchLength(w.finish());
}


/** A length-prefixed Response{id, enqueue: result} frame (no leader field). */
export function encodeEnqueueResponseFrame(id: number, result: ResultTypes['enqueue']): Uint8Array {
  const w = writer.reset();
  w.fixed32be(0);
  if (id !== 0) w.tag(1, wireType.varint).uint(id);
  w.tag(responseEnqueueField, wireType.bytes);
  const body = w.fork();
  for (const m of result.messages) {
    w.tag(1, wireType.bytes);
    const mark = w.fork();
    if (m.id !== '') w.tag(1, wireType.bytes).string(m.id);
    if (!Object.is(m.offset, 0)) w.tag(2, wireType.fixed64).double(m.offset);
    w.join(mark);
  }
  if (result.duplicate) w.tag(2, wireType.varint).bool(true);
  w.join(body);
  return patchLength(w.finish());
}

/** Top-level fields of a plain {id, <one field>} message: the id and the field's contents. */
function readIdAnd(body: Uint8Array, field: number): { id: number; sub: ProtoReader } | undefined {
  const top = new ProtoReader(body);
  let id = 0;
  let sub: ProtoReader | undefined;
  while (!top.done) {
    const tag = top.tag();
    if (tag === ((1 << 3) | wireType.varint)) {
      const v = top.uint();
      if (v > 0xffffffff) return undefined;
      id = v;
    } else if (tag === ((field << 3) | wireType.bytes) && sub === undefined) sub = top.sub();
    else return undefined;
  }
  return sub === undefined ? undefined : { id, sub };
}


/** The enqueue of a Request{id, enqueue} body, as the protobufjs path decodes it; else undefined. */
export function decodeEnqueueRequest(body: Uint8Array): { id: number; args: RequestOps['enqueue'] } | undefined {
  if (body.length === 0) return undefined;
  try {
    const top = readIdAnd(body, requestEnqueueField);
    if (top === undefined) return undefined;
    const r = top.sub;
    let queue = '';
    const messages: WireOutgoing[] = [];
    let idempotencyKey: string | undefined;
    let producer: { producerId: string; sequence: number } | undefined;
    let producerKey: 'idempotencyKey' | 'producer' | undefined;
    while (!r.done) {
      const tag = r.tag();
      switch (tag >>> 3) {
        case 1:
          expectWireType(tag, wireType.bytes);
          queue = r.string();
          break;
        case 2:
          expectWireType(tag, wireType.bytes);
          messages.push(readMessageFields(r.sub(), false));
          break;
        case 3:
          expectWireType(tag, wireType.bytes);
          if (producerKey !== undefined) throw new NotFastPath();
          idempotencyKey = r.string();
          producerKey = 'idempotencyKey';
          break;
        case 4: {
          expectWireType(tag, wireType.bytes);
          if (producerKey !== undefined) throw new NotFastPath();
          const p = r.sub();
          let producerId = '';
          let sequence = 0;
          while (!p.done) {
            const t = p.tag();
            if (t >>> 3 === 1) {
              expectWireType(t, wireType.bytes);
              producerId = p.string();
            } else if (t >>> 3 === 2) {
              expectWireType(t, wireType.fixed64);
              sequence = p.double();
            } else p.skip(t & 7);
          }
          producer = { producerId, sequence };
          producerKey = 'producer';
          break;
        }
        default:
          r.skip(tag & 7);
      }
    }
    const args: RequestOps['enqueue'] = { queue, messages };
    if (idempotencyKey !== undefined) args.idempotencyKey = idempotencyKey;
    if (producer !== undefined) args.producer = producer;
    if (producerKey !== undefined) args.producerKey = producerKey;
    return { id: top.id, args };
  } catch {
    return undefined;
  }
}


/** The result of a Response{id, enqueue} body, as the protobufjs path decodes it; else undefined. */
export function decodeEnqueueResponse(body: Uint8Array): { id: number; value: ResultTypes['enqueue'] } | undefined {
  if (body.length === 0) return undefined;
  try {
    const top = readIdAnd(body, responseEnqueueField);
    if (top === undefined) return undefined;
    const r = top.sub;
    const messages: Array<{ id: string; offset: number }> = [];
    let duplicate = false;
    while (!r.done) {
      const tag = r.tag();
      if (tag >>> 3 === 1) {
        expectWireType(tag, wireType.bytes);
        const m = r.sub();
        let id = '';
        let offset = 0;
        while (!m.done) {
          const t = m.tag();
          if (t >>> 3 === 1) {
            expectWireType(t, wireType.bytes);
            id = m.string();
          } else if (t >>> 3 === 2) {
            expectWireType(t, wireType.fixed64);
            offset = m.double();
          } else m.skip(t & 7);
        }
        messages.push({ id, offset });
      } else if (tag >>> 3 === 2) {
        expectWireType(tag, wireType.varint);
        duplicate = r.bool();
      } else r.skip(tag & 7);
    }
    return { id: top.id, value: { messages, duplicate } };
  } catch {
    return undefined;
  }
}
