/**
 * SendMessage and SendMessageBatch. Each entry is checked on its own (body characters, size
 * against the queue's MaximumMessageSize, attributes, FIFO group and deduplication id, with
 * SHA-256 content-based deduplication), so one bad entry of a batch fails only itself; the good
 * entries of a batch go to the leader as one enqueue command (one log entry, atomic).
 */
import { createHash } from 'node:crypto';
import type { EnqueueMessage, QueueInfo } from '../../queue/index.js';
import * as ops from '../queue-ops.js';
import type { SqsAction, SqsContext } from './sqs-context.js';
import { failedEntry } from './sqs-error-map.js';
import { SqsError } from './sqs-errors.js';
import { batchEntries, optionalInt, optionalObjectMap, optionalString, requiredString, type SqsInput } from './sqs-input.js';
import { md5OfBody, md5OfMessageAttributes } from './sqs-md5.js';
import { checkMessageChars, sqsMessageAttributes, storeMessageAttributes } from './sqs-message-attributes.js';
import { queueOf } from './sqs-queues.js';

/** Bytes of all the messages of one SendMessageBatch (SQS: 1 MiB). */
export const sendBatchBytesMax = 1_048_576;

const idPattern = /^[\x21-\x7e]{1,128}$/;

/** One checked entry: the message to enqueue and what its reply reports. */
interface CheckedMessage {
  readonly message: EnqueueMessage;
  readonly bytes: number;
  readonly md5OfBody: string;
  readonly md5OfAttributes?: string;
  readonly md5OfSystemAttributes?: string;
}

function notForQueueType(member: string): SqsError {
  return new SqsError('InvalidParameterValue', `The request include parameter ${member} that is not valid for this queue type.`);
}

/** The AWSTraceHeader system attribute of an entry, the only one SQS lets a producer set. */
function traceHeader(entry: SqsInput): string | undefined {
  const sys = optionalObjectMap(entry, 'MessageSystemAttributes');
  if (sys === undefined) return undefined;
  for (const [name, a] of Object.entries(sys)) {
    if (name !== 'AWSTraceHeader') throw new SqsError('InvalidParameterValue', `Message system attribute ${name} is not supported: only AWSTraceHeader can be set.`);
    if (a['DataType'] !== 'String' || typeof a['StringValue'] !== 'string' || a['StringValue'] === '') {
      throw new SqsError('InvalidParameterValue', 'The AWSTraceHeader message system attribute must be a non-empty String.');
    }
  }
  const a = sys['AWSTraceHeader'];
  return a === undefined ? undefined : (a['StringValue'] as string);
}

/** Checks one SendMessage input or batch entry against queue `q` (as this node knows it; undefined: unknown here). */
function checkMessage(entry: SqsInput, q: QueueInfo | undefined, fifo: boolean): CheckedMessage {
  const body = requiredString(entry, 'MessageBody');
  if (body === '') throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
  checkMessageChars(body, 'the message body');
  const delaySeconds = optionalInt(entry, 'DelaySeconds', 0, 900);
  const groupId = optionalString(entry, 'MessageGroupId');
  let dedupId = optionalString(entry, 'MessageDeduplicationId');
  const trace = traceHeader(entry);
  const attrs = optionalObjectMap(entry, 'MessageAttributes');
  const stored = storeMessageAttributes(attrs, trace);
  const bodyBytes = Buffer.from(body, 'utf8');
  const bytes = bodyBytes.length + stored.bytes;
  const limit = q?.attributes.maxMessageBytes;
  if (limit !== undefined && bytes > limit) {
    throw new SqsError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes.`);
  }
  if (fifo) {
    if (delaySeconds !== undefined && delaySeconds !== 0) throw new SqsError('InvalidParameterValue', 'Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.');
    if (groupId === undefined) throw new SqsError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
    if (!idPattern.test(groupId)) throw new SqsError('InvalidParameterValue', 'MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.');
    if (dedupId === undefined) {
      if (q !== undefined && !q.attributes.contentBasedDeduplication) {
        throw new SqsError('InvalidParameterValue', 'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
      }
      dedupId = createHash('sha256').update(bodyBytes).digest('hex');
    } else if (!idPattern.test(dedupId)) {
      throw new SqsError('InvalidParameterValue', 'MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.');
    }
  } else {
    if (groupId !== undefined) throw notForQueueType('MessageGroupId');
    if (dedupId !== undefined) throw notForQueueType('MessageDeduplicationId');
  }
  const message: EnqueueMessage = {
    body: bodyBytes,
    ...(Object.keys(stored.attributes).length > 0 ? { attributes: stored.attributes } : {}),
    ...(delaySeconds !== undefined && !fifo ? { delayMs: delaySeconds * 1000 } : {}),
    ...(groupId !== undefined ? { groupId } : {}),
    ...(dedupId !== undefined ? { dedupId } : {}),
  };
  const user = sqsMessageAttributes(stored.attributes, () => true);
  return {
    message,
    bytes,
    md5OfBody: md5OfBody(body),
    ...(Object.keys(user).length > 0 ? { md5OfAttributes: md5OfMessageAttributes(user) } : {}),
    ...(trace !== undefined ? { md5OfSystemAttributes: md5OfMessageAttributes({ AWSTraceHeader: { DataType: 'String', StringValue: trace } }) } : {}),
  };
}

/** The reply fields of one sent message. */
function sentReply(c: CheckedMessage, sent: { id: string; offset: number }, fifo: boolean): Record<string, unknown> {
  return {
    MessageId: sent.id,
    MD5OfMessageBody: c.md5OfBody,
    ...(c.md5OfAttributes !== undefined ? { MD5OfMessageAttributes: c.md5OfAttributes } : {}),
    ...(c.md5OfSystemAttributes !== undefined ? { MD5OfMessageSystemAttributes: c.md5OfSystemAttributes } : {}),
    ...(fifo ? { SequenceNumber: String(sent.offset) } : {}),
  };
}

function queueInfo(ctx: SqsContext, queue: string): QueueInfo | undefined {
  return ctx.ops.app.stateMachine.getQueue(queue);
}

const sendMessage: SqsAction = async (ctx, input) => {
  const queue = queueOf(ctx, input);
  const fifo = queue.endsWith('.fifo');
  const c = checkMessage(input, queueInfo(ctx, queue), fifo);
  const res = await ops.enqueue(ctx.ops, { queue, messages: [c.message] });
  return sentReply(c, res.messages[0]!, fifo);
};

const sendMessageBatch: SqsAction = async (ctx, input) => {
  const queue = queueOf(ctx, input);
  const fifo = queue.endsWith('.fifo');
  const entries = batchEntries(input);
  const q = queueInfo(ctx, queue);
  const failed: Record<string, unknown>[] = [];
  const good: Array<{ id: string; checked: CheckedMessage }> = [];
  let bytes = 0;
  for (const entry of entries) {
    const id = entry['Id'] as string;
    try {
      const checked = checkMessage(entry, q, fifo);
      bytes += checked.bytes;
      good.push({ id, checked });
    } catch (e) {
      failed.push(failedEntry(id, e));
    }
  }
  if (bytes > sendBatchBytesMax) {
    throw new SqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${sendBatchBytesMax} bytes. You have sent ${bytes} bytes.`);
  }
  const successful: Record<string, unknown>[] = [];
  if (good.length > 0) {
    const res = await ops.enqueue(ctx.ops, { queue, messages: good.map((g) => g.checked.message) });
    good.forEach((g, i) => successful.push({ Id: g.id, ...sentReply(g.checked, res.messages[i]!, fifo) }));
  }
  return { Successful: successful, Failed: failed };
};

/** The send actions by name. */
export const sendActions: Readonly<Record<string, SqsAction>> = {
  SendMessage: sendMessage,
  SendMessageBatch: sendMessageBatch,
};
