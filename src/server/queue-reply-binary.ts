import { isErrorCode } from '../errors.js';
import type { AckOutcome, EnqueuedMessage, ReceivedMessage } from '../queue/index.js';
import type { QueueReply, ReceiveReply } from './queue-reply-types.js';
import type { ReplyCodec } from './reply-encoding.js';
import { ReplyReader, ReplyWriter, bytesFieldBytes, lengthPrefixBytes, numBytes, strBytesBound, undecodable } from './reply-bytes.js';

/**
 * The binary encoding of a QueueReply, for replies a leader forwards back to a follower that
 * asked for it (reply-encoding.ts). Bodies travel as raw bytes. Layout (primitives in
 * reply-bytes.ts): u8 tag, then the fields of that reply type in a fixed order:
 *
 *   0 error            str code, str message
 *   1 createQueue      u8 created
 *   2 deleteQueue      num deletedMessages
 *   3 purgeQueue       num purgedMessages
 *   4 setQueueAttributes
 *   5 enqueue          u8 duplicate, u32 count, count x (str id, num offset)
 *   6 receive          num deadLettered, u32 count, count x message
 *   7 ack              u32 count, count x u8 outcome (0 deleted, 1 gone, 2 stale)
 *   8 changeVisibility u8 outcome (0 changed, 1 gone)
 *   9 redrive          num moved, num taskIndex
 *  10 expire           num expiredMessages, num expiredDedupKeys
 *  11 tagQueue
 *  12 untagQueue
 *  13 putUser          u8 created
 *  14 deleteUser
 *  15 createToken
 *  16 revokeToken
 *
 * message: str id, num offset, str receipt, num receiveCount, num enqueuedAtMs, str groupId,
 * num sentAtMs, num firstReceivedAtMs, str dedupId,
 * u32 attributeCount, attributeCount x (str key, str value), bytes body.
 *
 * Invariant: encode(r).byteLength <= replyBytesBound(r), and a receive reply's bound is
 * receiveHeaderBytes + the sum of receivedMessageBytesBound over its messages.
 */
export const queueReplyBinaryCodec: ReplyCodec<QueueReply> = {
  encode(reply: QueueReply): Uint8Array {
    const w = new ReplyWriter(replyBytesBound(reply));
    writeReply(w, reply);
    return w.finish();
  },
  decode(bytes: Uint8Array): QueueReply {
    const r = new ReplyReader(bytes);
    const reply = readReply(r);
    r.end();
    return reply;
  },
};

/** Bytes of a receive reply without its messages: tag, deadLettered, count. */
export const receiveHeaderBytes = 1 + numBytes + lengthPrefixBytes;

/** An upper bound of one message's encoded bytes, from the lengths of its fields alone. */
export function receivedMessageBytesBound(m: ReceivedMessage): number {
  let n = strBytesBound(m.id) + strBytesBound(m.receipt) + strBytesBound(m.groupId) + strBytesBound(m.dedupId) + 5 * numBytes + lengthPrefixBytes + bytesFieldBytes(m.body);
  for (const k in m.attributes) n += strBytesBound(k) + strBytesBound(m.attributes[k]!);
  return n;
}

/** An upper bound of encode(reply).byteLength, from lengths alone. */
export function replyBytesBound(reply: QueueReply): number {
  if (!reply.ok) return 1 + strBytesBound(reply.code) + strBytesBound(reply.message);
  switch (reply.type) {
    case 'enqueue': {
      let n = 2 + lengthPrefixBytes;
      for (const m of reply.messages) n += strBytesBound(m.id) + numBytes;
      return n;
    }
    case 'receive': {
      let n = receiveHeaderBytes;
      for (const m of reply.messages) n += receivedMessageBytesBound(m);
      return n;
    }
    case 'ack':
      return 1 + lengthPrefixBytes + reply.outcomes.length;
    default:
      // Every other reply is a tag and at most two numbers.
      return 1 + 2 * numBytes;
  }
}

const ackOutcomes: readonly AckOutcome[] = ['deleted', 'gone', 'stale'];

function writeReply(w: ReplyWriter, reply: QueueReply): void {
  if (!reply.ok) {
    w.u8(0);
    w.str(reply.code);
    w.str(reply.message);
    return;
  }
  switch (reply.type) {
    case 'createQueue':
      w.u8(1);
      w.u8(reply.created ? 1 : 0);
      return;
    case 'deleteQueue':
      w.u8(2);
      w.num(reply.deletedMessages);
      return;
    case 'purgeQueue':
      w.u8(3);
      w.num(reply.purgedMessages);
      return;
    case 'setQueueAttributes':
      w.u8(4);
      return;
    case 'enqueue':
      w.u8(5);
      w.u8(reply.duplicate ? 1 : 0);
      w.u32(reply.messages.length);
      for (const m of reply.messages) {
        w.str(m.id);
        w.num(m.offset);
      }
      return;
    case 'receive':
      w.u8(6);
      w.num(reply.deadLettered);
      w.u32(reply.messages.length);
      for (const m of reply.messages) writeMessage(w, m);
      return;
    case 'ack':
      w.u8(7);
      w.u32(reply.outcomes.length);
      for (const o of reply.outcomes) w.u8(ackOutcomes.indexOf(o));
      return;
    case 'changeVisibility':
      w.u8(8);
      w.u8(reply.outcome === 'changed' ? 0 : 1);
      return;
    case 'redrive':
      w.u8(9);
      w.num(reply.moved);
      w.num(reply.taskIndex);
      return;
    case 'expire':
      w.u8(10);
      w.num(reply.expiredMessages);
      w.num(reply.expiredDedupKeys);
      return;
    case 'tagQueue':
      w.u8(11);
      return;
    case 'untagQueue':
      w.u8(12);
      return;
    case 'putUser':
      w.u8(13);
      w.u8(reply.created ? 1 : 0);
      return;
    case 'deleteUser':
      w.u8(14);
      return;
    case 'createToken':
      w.u8(15);
      return;
    case 'revokeToken':
      w.u8(16);
      return;
  }
}

function writeMessage(w: ReplyWriter, m: ReceivedMessage): void {
  w.str(m.id);
  w.num(m.offset);
  w.str(m.receipt);
  w.num(m.receiveCount);
  w.num(m.enqueuedAtMs);
  w.str(m.groupId);
  w.num(m.sentAtMs);
  w.num(m.firstReceivedAtMs);
  w.str(m.dedupId);
  const keys = Object.keys(m.attributes);
  w.u32(keys.length);
  for (const k of keys) {
    w.str(k);
    w.str(m.attributes[k]!);
  }
  w.bytes(m.body);
}

function readReply(r: ReplyReader): QueueReply {
  const tag = r.u8();
  switch (tag) {
    case 0: {
      const code = r.str();
      if (!isErrorCode(code)) throw undecodable(`unknown error code ${code}`);
      return { ok: false, code, message: r.str() };
    }
    case 1:
      return { ok: true, type: 'createQueue', created: readBool(r) };
    case 2:
      return { ok: true, type: 'deleteQueue', deletedMessages: r.num() };
    case 3:
      return { ok: true, type: 'purgeQueue', purgedMessages: r.num() };
    case 4:
      return { ok: true, type: 'setQueueAttributes' };
    case 5: {
      const duplicate = readBool(r);
      const messages: EnqueuedMessage[] = readList(r, () => ({ id: r.str(), offset: r.num() }));
      return { ok: true, type: 'enqueue', messages, duplicate };
    }
    case 6: {
      const deadLettered = r.num();
      return { ok: true, type: 'receive', messages: readList(r, () => readMessage(r)), deadLettered };
    }
    case 7:
      return { ok: true, type: 'ack', outcomes: readList(r, () => readEnum(r, ackOutcomes)) };
    case 8:
      return { ok: true, type: 'changeVisibility', outcome: readEnum(r, ['changed', 'gone'] as const) };
    case 9:
      return { ok: true, type: 'redrive', moved: r.num(), taskIndex: r.num() };
    case 10:
      return { ok: true, type: 'expire', expiredMessages: r.num(), expiredDedupKeys: r.num() };
    case 11:
      return { ok: true, type: 'tagQueue' };
    case 12:
      return { ok: true, type: 'untagQueue' };
    case 13:
      return { ok: true, type: 'putUser', created: readBool(r) };
    case 14:
      return { ok: true, type: 'deleteUser' };
    case 15:
      return { ok: true, type: 'createToken' };
    case 16:
      return { ok: true, type: 'revokeToken' };
    default:
      throw undecodable(`unknown reply tag ${tag}`);
  }
}

function readMessage(r: ReplyReader): ReceivedMessage {
  const id = r.str();
  const offset = r.num();
  const receipt = r.str();
  const receiveCount = r.num();
  const enqueuedAtMs = r.num();
  const groupId = r.str();
  const sentAtMs = r.num();
  const firstReceivedAtMs = r.num();
  const dedupId = r.str();
  // fromEntries defines own properties, so a key such as "__proto__" stays a plain attribute.
  const attributes: Record<string, string> = Object.fromEntries(readList(r, () => [r.str(), r.str()] as const));
  return { id, offset, receipt, receiveCount, enqueuedAtMs, sentAtMs, firstReceivedAtMs, groupId, dedupId, attributes, body: r.bytes() };
}

/** A u32 count, then that many items; every item takes at least one byte, so a false count fails at the end of the bytes. */
function readList<T>(r: ReplyReader, item: () => T): T[] {
  const n = r.u32();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(item());
  return out;
}

function readBool(r: ReplyReader): boolean {
  const v = r.u8();
  if (v > 1) throw undecodable(`bool ${v}`);
  return v === 1;
}

function readEnum<T extends string>(r: ReplyReader, values: readonly T[]): T {
  const i = r.u8();
  const v = values[i];
  if (v === undefined) throw undecodable(`enum value ${i}`);
  return v;
}

/**
 * How many of `reply`'s messages, from the first, fit in `bytesMax` bytes of the binary
 * encoding, by the bounds from lengths alone: the encoded reply never exceeds `bytesMax`.
 */
export function binaryMessagesWithin(reply: ReceiveReply, bytesMax: number): number {
  let bytes = receiveHeaderBytes;
  let kept = 0;
  for (const m of reply.messages) {
    bytes += receivedMessageBytesBound(m);
    if (bytes > bytesMax) break;
    kept++;
  }
  return kept;
}
