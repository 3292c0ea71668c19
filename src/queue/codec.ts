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
} from './commands.js';
import { invalidArgument, type QueueError } from './errors.js';
import { bytes, decodeAs, encodeAs, field, list, num, pb, str, sub, type Decoded } from './proto.js';

const attributeFields = [
  'visibilityTimeoutMs',
  'delayMs',
  'retentionMs',
  'maxMessageBytes',
  'maxReceiveCount',
] as const;

/** Encodes a command for a log entry. */
export function encodeCommand(cmd: Command): Uint8Array {
  return encodeAs(pb.command, { [cmd.type]: commandBody(cmd) });
}

function commandBody(cmd: Command): object {
  switch (cmd.type) {
    case 'createQueue':
    case 'setQueueAttributes':
      return { queue: cmd.queue, attributes: cmd.attributes ?? {} };
    case 'deleteQueue':
    case 'purgeQueue':
    case 'redrive':
      return { queue: cmd.queue };
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
  }
}

function producerKeyBody(key: ProducerKey): object {
  return 'idempotencyKey' in key
    ? { idempotencyKey: key.idempotencyKey }
    : { producer: { producerId: key.producerId, sequence: key.sequence } };
}

/** Decodes a command from a log entry, or returns INVALID_ARGUMENT for undecodable bytes. */
export function decodeCommand(data: Uint8Array): Command | QueueError {
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
    case 'createQueue':
      return { type: 'createQueue', queue, attributes: decodeAttributes(sub(body, 'attributes') ?? {}) };
    case 'setQueueAttributes':
      return { type: 'setQueueAttributes', queue, attributes: decodeAttributes(sub(body, 'attributes') ?? {}) };
    case 'deleteQueue':
    case 'purgeQueue':
    case 'redrive':
      return { type: kind, queue };
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
