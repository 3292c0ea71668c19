import type { ReceivedMessage } from '../queue/index.js';
import type { QueueReply, ReceiveReply } from './queue-reply-types.js';
import type { ReplyCodec } from './reply-encoding.js';

/**
 * The JSON encoding of a QueueReply (byte arrays as {"$b64": ...}): what a leader of the
 * previous release sends, and what a leader of this one sends a follower that did not ask for
 * binary (reply-encoding.ts). Kept for rolling upgrades only.
 */
export const queueReplyJsonCodec: ReplyCodec<QueueReply> = {
  encode(reply: QueueReply): Uint8Array {
    return encoder.encode(JSON.stringify(reply, bytesAsBase64));
  },
  decode(bytes: Uint8Array): QueueReply {
    const reply = JSON.parse(decoder.decode(bytes), (_k, v: unknown) => {
      if (typeof v === 'object' && v !== null && typeof (v as { $b64?: unknown }).$b64 === 'string') {
        return new Uint8Array(Buffer.from((v as { $b64: string }).$b64, 'base64'));
      }
      return v;
    }) as QueueReply;
    return withDefaults(reply);
  },
};

/**
 * A reply from a leader of the previous release lacks the fields added since: a message's
 * sentAtMs (then its enqueuedAtMs), firstReceivedAtMs (0: unknown) and dedupId (''), a
 * redrive's taskIndex (0: unknown).
 */
function withDefaults(reply: QueueReply): QueueReply {
  if (!reply.ok) return reply;
  if (reply.type === 'redrive') return { ...reply, taskIndex: reply.taskIndex ?? 0 };
  if (reply.type !== 'receive') return reply;
  const messages = reply.messages.map((m) => ({ ...m, sentAtMs: m.sentAtMs ?? m.enqueuedAtMs, firstReceivedAtMs: m.firstReceivedAtMs ?? 0, dedupId: m.dedupId ?? '' }));
  return { ...reply, messages };
}

/**
 * How many of `reply`'s messages, from the first, fit in `bytesMax` bytes of JSON: all of them
 * when a bound from the sizes alone fits (nearly always), else counted exactly.
 */
export function jsonMessagesWithin(reply: ReceiveReply, bytesMax: number): number {
  // A bound from the sizes alone spares encoding every body once here and again for the frame.
  let bound = replyJsonOverheadBytesMax;
  for (const m of reply.messages) bound += messageJsonBytesBound(m) + 1;
  if (bound <= bytesMax) return reply.messages.length;
  // The encoding is a JSON object whose messages array holds each message's own JSON,
  // comma-separated: its size is exact without encoding the whole reply again.
  let bytes = jsonBytes({ ...reply, messages: [] });
  let kept = 0;
  for (const m of reply.messages) {
    const n = jsonBytes(m) + (kept > 0 ? 1 : 0);
    if (bytes + n > bytesMax) break;
    bytes += n;
    kept++;
  }
  return kept;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** JSON.stringify's replacer of the codec: byte arrays as {"$b64": ...}. */
function bytesAsBase64(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? { $b64: Buffer.from(v).toString('base64') } : v;
}

/**
 * Bound on a receive reply's JSON without its messages, and on one message's JSON without its
 * strings and body: property names, punctuation and numbers take a few hundred bytes.
 */
const replyJsonOverheadBytesMax = 1024;

/**
 * An upper bound of jsonBytes(m) from sizes alone: the body as base64, every character of the
 * other strings at most 6 bytes (a \u escape), each attribute's quotes, colon and comma.
 */
function messageJsonBytesBound(m: ReceivedMessage): number {
  let chars = m.id.length + m.receipt.length + m.groupId.length + m.dedupId.length;
  for (const [k, v] of Object.entries(m.attributes)) chars += k.length + v.length + 6;
  return 4 * Math.ceil(m.body.byteLength / 3) + 6 * chars + replyJsonOverheadBytesMax;
}

/** Bytes of `v` in the codec's encoding. */
function jsonBytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v, bytesAsBase64), 'utf8');
}
