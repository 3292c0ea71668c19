/**
 * encodeCommand / decodeCommand: the bytes of a queue command inside a Raft log entry, as
 * QueueCommandPb of src/proto/queue.proto. decodeCommand never throws on bad bytes; it returns
 * an INVALID_ARGUMENT error, because a log entry is data and must not crash the node.
 */
import type {
  Command,
  EnqueueMessage,
  ProducerKey,
  QueueAttributesInput,
  QueueTags,
} from './commands.js';
import { invalidArgument, type QueueError } from './errors.js';
import { decodePermissions, permissionsBody } from './principal-records.js';
import { bytes, decodeAs, encodeAs, field, list, num, pb, str, sub, type Decoded } from './proto.js';
import { readMessageFields, writeMessageFields } from '../proto/message-fields.js';
import { NotFastPath, ProtoReader, ProtoWriter, WireFormatError, expectWireType, wireType } from '../proto/wire.js';

const attributeFields = [
  'visibilityTimeoutMs',
  'delayMs',
  'retentionMs',
  'maxMessageBytes',
  'maxReceiveCount',
  'receiveWaitTimeMs',
] as const;

/** Encodes a command for a log entry. */
export function encodeCommand(cmd: Command): Uint8Array {
  if (cmd.type === 'enqueue') return encodeEnqueueFast(cmd);
  if (cmd.type === 'ack') return encodeAckFast(cmd);
  return encodeCommandWithProtobufjs(cmd);
}

/** QueueCommandPb fields of EnqueueCmd and AckCmd (src/proto/queue.proto). */
const enqueueField = 5;
const ackField = 7;

/** QueueCommandPb{ack} by hand (the same bytes as protobufjs: every receipt, even an empty one). */
function encodeAckFast(cmd: Extract<Command, { type: 'ack' }>): Uint8Array {
  const w = writer.reset();
  w.tag(ackField, wireType.bytes);
  const body = w.fork();
  if (cmd.queue !== '') w.tag(1, wireType.bytes).string(cmd.queue);
  for (const r of cmd.receipts) w.tag(2, wireType.bytes).string(r);
  w.join(body);
  return w.finish();
}

/** Reused by every encodeEnqueueFast call (encoding is synchronous and never nested). */
const writer = new ProtoWriter(4096);

/**
 * QueueCommandPb{enqueue} written by hand, byte for byte what protobufjs writes for the same
 * command (codec.test.ts checks it): implicit-presence fields are skipped at their defaults,
 * optional ones are written when set, map entries always carry key and value.
 */
function encodeEnqueueFast(cmd: Extract<Command, { type: 'enqueue' }>): Uint8Array {
  const w = writer.reset();
  w.tag(enqueueField, wireType.bytes);
  const body = w.fork();
  if (cmd.queue !== '') w.tag(1, wireType.bytes).string(cmd.queue);
  for (const m of cmd.messages) {
    w.tag(2, wireType.bytes);
    const mark = w.fork();
    writeMessageFields(w, m);
    w.join(mark);
  }
  const key = cmd.producerKey;
  if (key !== undefined) {
    w.tag(3, wireType.bytes);
    const mark = w.fork();
    if ('idempotencyKey' in key) w.tag(1, wireType.bytes).string(key.idempotencyKey);
    else {
      w.tag(2, wireType.bytes);
      const producer = w.fork();
      if (key.producerId !== '') w.tag(1, wireType.bytes).string(key.producerId);
      if (!Object.is(key.sequence, 0)) w.tag(2, wireType.fixed64).double(key.sequence);
      w.join(producer);
    }
    w.join(mark);
  }
  w.join(body);
  return w.finish();
}

/**
 * Decodes QueueCommandPb bytes that hold nothing but enqueue (or nothing but ack) fields, the
 * hot paths, returning the same command decodeCommand's protobufjs path returns; undefined for
 * anything else (other commands, unexpected wire types), which the protobufjs path decodes.
 */
function decodeHotFast(data: Uint8Array): Command | QueueError | undefined {
  const first = data[0];
  const field = first === ((enqueueField << 3) | wireType.bytes) ? enqueueField : first === ((ackField << 3) | wireType.bytes) ? ackField : 0;
  if (field === 0) return undefined;
  try {
    const top = new ProtoReader(data);
    let body: ProtoReader | undefined;
    while (!top.done) {
      if (top.tag() !== ((field << 3) | wireType.bytes)) return undefined;
      body = top.sub();
    }
    if (body === undefined) return undefined;
    return field === enqueueField ? readEnqueue(body) : readAck(body);
  } catch (e) {
    if (e instanceof NotFastPath) return undefined;
    if (e instanceof WireFormatError) return invalidArgument(`undecodable queue command: ${e.message}`);
    throw e;
  }
}

function readAck(r: ProtoReader): Command {
  let queue = '';
  const receipts: string[] = [];
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f === 1) {
      expectWireType(tag, wireType.bytes);
      queue = r.string();
    } else if (f === 2) {
      expectWireType(tag, wireType.bytes);
      receipts.push(r.string());
    } else r.skip(tag & 7);
  }
  return { type: 'ack', queue, receipts };
}


function readEnqueue(r: ProtoReader): Command {
  let queue = '';
  const messages: EnqueueMessage[] = [];
  let producerKey: ProducerKey | undefined;
  while (!r.done) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, wireType.bytes);
        queue = r.string();
        break;
      case 2:
        expectWireType(tag, wireType.bytes);
        // A copy of each body: the entry bytes belong to the log, the body to the state machine.
        messages.push(readMessageFields(r.sub(), true));
        break;
      case 3:
        expectWireType(tag, wireType.bytes);
        producerKey = readProducerKey(r.sub());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return { type: 'enqueue', queue, messages, ...(producerKey === undefined ? {} : { producerKey }) };
}


function readProducerKey(r: ProtoReader): ProducerKey | undefined {
  let idempotencyKey: string | undefined;
  let producer: { producerId: string; sequence: number } | undefined;
  while (!r.done) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, wireType.bytes);
        idempotencyKey = r.string();
        break;
      case 2: {
        expectWireType(tag, wireType.bytes);
        const p = r.sub();
        let producerId = '';
        let sequence = 0;
        while (!p.done) {
          const t = p.tag();
          if (t === ((1 << 3) | wireType.bytes)) producerId = p.string();
          else if (t === ((2 << 3) | wireType.fixed64)) sequence = p.double();
          else if (t >>> 3 === 1 || t >>> 3 === 2) throw new NotFastPath();
          else p.skip(t & 7);
        }
        producer = { producerId, sequence };
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  if (producer !== undefined) return producer;
  return idempotencyKey === undefined ? undefined : { idempotencyKey };
}

function commandBody(cmd: Command): object {
  switch (cmd.type) {
    case 'createQueue':
      return { queue: cmd.queue, attributes: cmd.attributes ?? {}, ...(cmd.tags === undefined ? {} : { tags: tagsBody(cmd.tags) }) };
    case 'setQueueAttributes':
      return { queue: cmd.queue, attributes: cmd.attributes ?? {} };
    case 'tagQueue':
      return { queue: cmd.queue, tags: tagsBody(cmd.tags) };
    case 'untagQueue':
      return { queue: cmd.queue, keys: cmd.keys };
    case 'deleteQueue':
    case 'purgeQueue':
      return { queue: cmd.queue };
    case 'redrive':
      return cmd.destination === undefined ? { queue: cmd.queue } : { queue: cmd.queue, destination: cmd.destination };
    case 'enqueue':
      return {
        queue: cmd.queue,
        messages: cmd.messages.map((m) => ({ ...m, attributes: m.attributes ?? {} })),
        ...(cmd.producerKey === undefined ? {} : { producerKey: producerKeyBody(cmd.producerKey) }),
      };
    case 'receive':
      return cmd;
    case 'ack':
      return { queue: cmd.queue, receipts: cmd.receipts };
    case 'changeVisibility':
      return cmd;
    case 'expire':
      return {};
    case 'putUser':
      return { name: cmd.name, permissions: permissionsBody(cmd.permissions) };
    case 'deleteUser':
      return { name: cmd.name };
    case 'createToken':
      return { user: cmd.user, tokenId: cmd.tokenId, hash: cmd.hash, expiresAtMs: cmd.expiresAtMs };
    case 'revokeToken':
      return { user: cmd.user, tokenId: cmd.tokenId };
  }
}

/** Tags as a list of AttributePb (see CreateQueueCmd in queue.proto). */
function tagsBody(tags: QueueTags): object[] {
  return Object.keys(tags).map((key) => ({ key, value: tags[key] }));
}

/** Tags from a list of AttributePb; fromEntries keeps a key such as "__proto__" as a tag. */
function decodeTags(body: Decoded): Record<string, string> {
  return Object.fromEntries(list(body, 'tags').map((t) => [str(t as Decoded, 'key'), str(t as Decoded, 'value')] as const));
}

function producerKeyBody(key: ProducerKey): object {
  return 'idempotencyKey' in key
    ? { idempotencyKey: key.idempotencyKey }
    : { producer: { producerId: key.producerId, sequence: key.sequence } };
}

/** Decodes a command from a log entry, or returns INVALID_ARGUMENT for undecodable bytes. */
export function decodeCommand(data: Uint8Array): Command | QueueError {
  return decodeHotFast(data) ?? decodeCommandWithProtobufjs(data);
}

/** encodeCommand through protobufjs only: the reference the hand-written enqueue path must equal. */
export function encodeCommandWithProtobufjs(cmd: Command): Uint8Array {
  return encodeAs(pb.command, { [cmd.type]: commandBody(cmd) });
}

/** decodeCommand through protobufjs only (every command kind; the reference for the fast path). */
export function decodeCommandWithProtobufjs(data: Uint8Array): Command | QueueError {
  let m: Decoded;
  try {
    m = decodeAs(pb.command, data);
  } catch (cause) {
    return invalidArgument(`undecodable queue command: ${String(cause)}`);
  }
  const kind = m['cmd'];
  if (typeof kind !== 'string') return invalidArgument('queue command without a body');
  const body = sub(m, kind) ?? {};
  const queue = str(body, 'queue');
  switch (kind) {
    case 'createQueue': {
      const tags = decodeTags(body);
      const attributes = decodeAttributes(sub(body, 'attributes') ?? {});
      return Object.keys(tags).length === 0 ? { type: 'createQueue', queue, attributes } : { type: 'createQueue', queue, attributes, tags };
    }
    case 'setQueueAttributes':
      return { type: 'setQueueAttributes', queue, attributes: decodeAttributes(sub(body, 'attributes') ?? {}) };
    case 'tagQueue':
      return { type: 'tagQueue', queue, tags: decodeTags(body) };
    case 'untagQueue':
      return { type: 'untagQueue', queue, keys: list(body, 'keys').filter((k): k is string => typeof k === 'string') };
    case 'deleteQueue':
    case 'purgeQueue':
      return { type: kind, queue };
    case 'redrive': {
      const destination = field(body, 'destination');
      return typeof destination === 'string' ? { type: 'redrive', queue, destination } : { type: 'redrive', queue };
    }
    case 'enqueue':
      return decodeEnqueue(body, queue);
    case 'receive': {
      const v = field(body, 'visibilityTimeoutMs');
      return { type: 'receive', queue, max: num(body, 'max'), ...(typeof v === 'number' ? { visibilityTimeoutMs: v } : {}) };
    }
    case 'ack':
      return { type: 'ack', queue, receipts: list(body, 'receipts').filter((r): r is string => typeof r === 'string') };
    case 'changeVisibility':
      return { type: 'changeVisibility', queue, receipt: str(body, 'receipt'), visibilityTimeoutMs: num(body, 'visibilityTimeoutMs') };
    case 'expire':
      return { type: 'expire' };
    case 'putUser':
      return { type: 'putUser', name: str(body, 'name'), permissions: decodePermissions(body) };
    case 'deleteUser':
      return { type: 'deleteUser', name: str(body, 'name') };
    case 'createToken':
      return { type: 'createToken', user: str(body, 'user'), tokenId: str(body, 'tokenId'), hash: str(body, 'hash'), expiresAtMs: num(body, 'expiresAtMs') };
    case 'revokeToken':
      return { type: 'revokeToken', user: str(body, 'user'), tokenId: str(body, 'tokenId') };
    default:
      return invalidArgument(`unknown queue command ${kind}`);
  }
}

function decodeAttributes(m: Decoded): QueueAttributesInput {
  const out: QueueAttributesInput = {};
  for (const name of attributeFields) {
    const v = field(m, name);
    if (typeof v === 'number') out[name] = v;
  }
  const dlq = field(m, 'deadLetterQueue');
  if (typeof dlq === 'string') out.deadLetterQueue = dlq;
  const fifo = field(m, 'fifo');
  if (typeof fifo === 'boolean') out.fifo = fifo;
  const cbd = field(m, 'contentBasedDeduplication');
  if (typeof cbd === 'boolean') out.contentBasedDeduplication = cbd;
  const policy = field(m, 'redriveAllowPolicy');
  if (typeof policy === 'string') out.redriveAllowPolicy = policy;
  return out;
}

function decodeEnqueue(body: Decoded, queue: string): Command {
  const messages = list(body, 'messages').map((raw) => decodeMessage(raw as Decoded));
  const keyMsg = sub(body, 'producerKey');
  let producerKey: ProducerKey | undefined;
  if (keyMsg !== undefined) {
    const producer = sub(keyMsg, 'producer');
    const idem = field(keyMsg, 'idempotencyKey');
    if (producer !== undefined) producerKey = { producerId: str(producer, 'producerId'), sequence: num(producer, 'sequence') };
    else if (typeof idem === 'string') producerKey = { idempotencyKey: idem };
  }
  return { type: 'enqueue', queue, messages, ...(producerKey === undefined ? {} : { producerKey }) };
}

function decodeMessage(m: Decoded): EnqueueMessage {
  const out: EnqueueMessage = { body: bytes(m, 'body') };
  const attrs = m['attributes'];
  if (typeof attrs === 'object' && attrs !== null && Object.keys(attrs).length > 0) {
    out.attributes = { ...(attrs as Record<string, string>) };
  }
  const delayMs = field(m, 'delayMs');
  if (typeof delayMs === 'number') out.delayMs = delayMs;
  const groupId = field(m, 'groupId');
  if (typeof groupId === 'string') out.groupId = groupId;
  const dedupId = field(m, 'dedupId');
  if (typeof dedupId === 'string') out.dedupId = dedupId;
  return out;
}
