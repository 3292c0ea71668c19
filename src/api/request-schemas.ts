import { RaftqError } from '../errors.js';
import type { EnqueueMessage, QueueAttributesInput } from '../queue/index.js';

/**
 * Turns HTTP JSON bodies into queue command arguments, refusing wrong types and unknown fields
 * with INVALID_ARGUMENT (a typo such as "bdy" must not silently enqueue an empty message).
 * Range checks live in the queue's validateCommand, applied by the op layer (queue-ops.ts) to
 * every command before it is proposed.
 */
type Json = Record<string, unknown>;

function invalid(message: string): RaftqError {
  return new RaftqError('INVALID_ARGUMENT', message);
}

/** Asserts `v` is a JSON object whose keys are all in `allowed`. */
export function object(v: unknown, what: string, allowed: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} must be a JSON object`);
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw invalid(`${what}: unknown field "${k}" (allowed: ${allowed.join(', ')})`);
  return v as Json;
}

function optInt(o: Json, key: string, what: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(`${what}.${key} must be an integer`);
  return v;
}

function optString(o: Json, key: string, what: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${what}.${key} must be a string`);
  return v;
}

const attributeKeys = [
  'visibilityTimeoutMs',
  'delayMs',
  'retentionMs',
  'maxMessageBytes',
  'maxReceiveCount',
  'deadLetterQueue',
  'fifo',
  'contentBasedDeduplication',
  'receiveWaitTimeMs',
  'redriveAllowPolicy',
] as const;

function optBool(o: Json, key: string, what: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`${what}.${key} must be a boolean`);
  return v;
}

/** PUT /v1/queues/{name} body: the attributes, and on create optional `tags` (see parseCreateQueue). */
export function parseAttributes(v: unknown): QueueAttributesInput {
  return attributesOf(object(v, 'queue attributes', attributeKeys));
}

function attributesOf(o: Json): QueueAttributesInput {
  const out: QueueAttributesInput = {};
  for (const k of ['visibilityTimeoutMs', 'delayMs', 'retentionMs', 'maxMessageBytes', 'maxReceiveCount', 'receiveWaitTimeMs'] as const) {
    const n = optInt(o, k, 'attributes');
    if (n !== undefined) out[k] = n;
  }
  const dlq = optString(o, 'deadLetterQueue', 'attributes');
  if (dlq !== undefined) out.deadLetterQueue = dlq;
  const fifo = optBool(o, 'fifo', 'attributes');
  if (fifo !== undefined) out.fifo = fifo;
  const cbd = optBool(o, 'contentBasedDeduplication', 'attributes');
  if (cbd !== undefined) out.contentBasedDeduplication = cbd;
  const policy = optString(o, 'redriveAllowPolicy', 'attributes');
  if (policy !== undefined) out.redriveAllowPolicy = policy;
  return out;
}

/** PUT /v1/queues/{name} body: the attributes, plus optional `tags` (an object of strings) applied when the queue is created. */
export function parseCreateQueue(v: unknown): { attributes: QueueAttributesInput; tags?: Record<string, string> } {
  const o = object(v, 'queue attributes', [...attributeKeys, 'tags']);
  const { tags, ...rest } = o;
  const attributes = attributesOf(rest);
  return tags === undefined || tags === null ? { attributes } : { attributes, tags: stringMap(tags, 'tags') };
}

/** An object whose values are all strings (own properties only: "__proto__" stays a key). */
function stringMap(v: unknown, what: string): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} must be an object of strings`);
  const out: Array<[string, string]> = [];
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw invalid(`${what}.${k} must be a string`);
    out.push([k, val]);
  }
  return Object.fromEntries(out);
}

/** POST /v1/queues/{name}/tags body: {tags: {key: value}}. */
export function parseTagQueue(v: unknown): Record<string, string> {
  const o = object(v, 'request', ['tags']);
  if (o['tags'] === undefined) throw invalid('tags (an object of strings) is required');
  return stringMap(o['tags'], 'tags');
}

/** POST /v1/queues/{name}/untag body: {keys: [...]}. */
export function parseUntagQueue(v: unknown): string[] {
  const o = object(v, 'request', ['keys']);
  const keys = o['keys'];
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw invalid('keys (an array of strings) is required');
  return keys as string[];
}

/** POST /v1/queues/{name}/redrive body: {} or {destination}. */
export function parseRedrive(v: unknown): { destination?: string } {
  const o = object(v, 'request', ['destination']);
  const destination = optString(o, 'destination', 'request');
  return destination === undefined ? {} : { destination };
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes standard base64, refusing anything else (Buffer.from would silently skip junk). */
export function decodeBase64(s: string, what: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 4 !== 0 || !base64Pattern.test(clean)) throw invalid(`${what} is not valid base64`);
  return new Uint8Array(Buffer.from(clean, 'base64'));
}

const messageKeys = ['body', 'bodyBase64', 'delayMs', 'groupId', 'dedupId', 'attributes'] as const;

function parseMessage(v: unknown, what: string): EnqueueMessage {
  const o = object(v, what, messageKeys);
  let body: Uint8Array;
  if (o['body'] !== undefined && o['bodyBase64'] !== undefined) throw invalid(`${what}: give body or bodyBase64, not both`);
  if (typeof o['body'] === 'string') body = new TextEncoder().encode(o['body']);
  else if (typeof o['bodyBase64'] === 'string') body = decodeBase64(o['bodyBase64'], `${what}.bodyBase64`);
  else if (o['body'] === undefined && o['bodyBase64'] === undefined) throw invalid(`${what}: body (a string) or bodyBase64 is required`);
  else throw invalid(`${what}: body must be a string and bodyBase64 a base64 string`);
  const msg: EnqueueMessage = { body };
  const delayMs = optInt(o, 'delayMs', what);
  if (delayMs !== undefined) msg.delayMs = delayMs;
  const groupId = optString(o, 'groupId', what);
  if (groupId !== undefined) msg.groupId = groupId;
  const dedupId = optString(o, 'dedupId', what);
  if (dedupId !== undefined) msg.dedupId = dedupId;
  if (o['attributes'] !== undefined) {
    const a = o['attributes'];
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw invalid(`${what}.attributes must be an object of strings`);
    const attrs: Record<string, string> = {};
    for (const [k, val] of Object.entries(a)) {
      if (typeof val !== 'string') throw invalid(`${what}.attributes.${k} must be a string`);
      attrs[k] = val;
    }
    msg.attributes = attrs;
  }
  return msg;
}

/** POST /v1/queues/{name}/messages body: one message or {messages:[...]}. */
export function parseEnqueue(v: unknown): { messages: EnqueueMessage[]; batch: boolean } {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'messages' in v) {
    const o = object(v, 'request', ['messages']);
    if (!Array.isArray(o['messages'])) throw invalid('messages must be an array');
    return { messages: o['messages'].map((m, i) => parseMessage(m, `messages[${i}]`)), batch: true };
  }
  return { messages: [parseMessage(v, 'message')], batch: false };
}

/** POST /v1/queues/{name}/receive body (waitMs is range-checked by the receive op). */
export function parseReceive(v: unknown): { max: number; visibilityTimeoutMs?: number; waitMs: number } {
  const o = object(v, 'request', ['max', 'visibilityTimeoutMs', 'waitMs']);
  const max = optInt(o, 'max', 'request') ?? 1;
  const waitMs = optInt(o, 'waitMs', 'request') ?? 0;
  const vis = optInt(o, 'visibilityTimeoutMs', 'request');
  return vis === undefined ? { max, waitMs } : { max, waitMs, visibilityTimeoutMs: vis };
}

/** POST /v1/queues/{name}/ack body: {receipt} or {receipts:[...]}. */
export function parseAck(v: unknown): { receipts: string[]; batch: boolean } {
  const o = object(v, 'request', ['receipt', 'receipts']);
  if (o['receipt'] !== undefined && o['receipts'] !== undefined) throw invalid('give receipt or receipts, not both');
  if (typeof o['receipt'] === 'string') return { receipts: [o['receipt']], batch: false };
  if (Array.isArray(o['receipts']) && o['receipts'].every((r) => typeof r === 'string')) return { receipts: o['receipts'] as string[], batch: true };
  throw invalid('receipt (a string) or receipts (an array of strings) is required');
}

/** POST /v1/queues/{name}/nack body. */
export function parseNack(v: unknown): { receipt: string; delayMs: number } {
  const o = object(v, 'request', ['receipt', 'delayMs']);
  if (typeof o['receipt'] !== 'string') throw invalid('receipt (a string) is required');
  return { receipt: o['receipt'], delayMs: optInt(o, 'delayMs', 'request') ?? 0 };
}

/** POST /v1/queues/{name}/visibility body. */
export function parseChangeVisibility(v: unknown): { receipt: string; visibilityTimeoutMs: number } {
  const o = object(v, 'request', ['receipt', 'visibilityTimeoutMs']);
  if (typeof o['receipt'] !== 'string' || typeof o['visibilityTimeoutMs'] !== 'number') throw invalid('receipt (string) and visibilityTimeoutMs (integer) are required');
  return { receipt: o['receipt'], visibilityTimeoutMs: o['visibilityTimeoutMs'] };
}
