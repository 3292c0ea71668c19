/**
 * ReceiveMessage: the op layer's long-poll receive, its deliveries rendered as SQS messages
 * (body and its MD5, the message and system attributes asked for, the MD5 of the message
 * attributes), and FIFO receive attempts replayed (sqs-receive-attempts.ts).
 */
import type { ReceivedMessage } from '../../queue/index.js';
import { receiveWithWait } from '../long-poll-receive.js';
import type { SqsAction, SqsContext } from './sqs-context.js';
import { SqsError } from './sqs-errors.js';
import { optionalInt, optionalString, optionalStringList } from './sqs-input.js';
import { md5OfBody, md5OfMessageAttributes } from './sqs-md5.js';
import { attributeSelector, sqsMessageAttributes, traceHeaderKey } from './sqs-message-attributes.js';
import { queueOf } from './sqs-queues.js';

/** Messages per ReceiveMessage (SQS: 10). */
export const receiveMessagesMax = 10;

const systemAttributeNames = new Set([
  'All',
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
]);

const utf8 = new TextDecoder('utf-8');

/** The system attributes of `m` that `wanted` selects. */
function systemAttributes(ctx: SqsContext, m: ReceivedMessage, fifo: boolean, wanted: (name: string) => boolean): Record<string, string> {
  const all: Record<string, string | undefined> = {
    SenderId: ctx.id.accountId,
    SentTimestamp: String(m.sentAtMs),
    ApproximateReceiveCount: String(m.receiveCount),
    ApproximateFirstReceiveTimestamp: String(m.firstReceivedAtMs),
    AWSTraceHeader: m.attributes[traceHeaderKey],
    ...(fifo ? { MessageGroupId: m.groupId, MessageDeduplicationId: m.dedupId !== '' ? m.dedupId : undefined, SequenceNumber: String(m.offset) } : {}),
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) if (v !== undefined && wanted(k)) out[k] = v;
  return out;
}

/** One delivery as an SQS Message. */
function sqsMessage(ctx: SqsContext, m: ReceivedMessage, fifo: boolean, wantedSystem: (n: string) => boolean, wantedUser: (n: string) => boolean): Record<string, unknown> {
  const body = utf8.decode(m.body);
  const system = systemAttributes(ctx, m, fifo, wantedSystem);
  const user = sqsMessageAttributes(m.attributes, wantedUser);
  const hasUser = Object.keys(user).length > 0;
  return {
    MessageId: m.id,
    ReceiptHandle: m.receipt,
    MD5OfBody: md5OfBody(body),
    Body: body,
    ...(Object.keys(system).length > 0 ? { Attributes: system } : {}),
    ...(hasUser ? { MD5OfMessageAttributes: md5OfMessageAttributes(user), MessageAttributes: user } : {}),
  };
}

const receiveMessage: SqsAction = async (ctx, input) => {
  const queue = queueOf(ctx, input);
  const fifo = queue.endsWith('.fifo');
  const max = optionalInt(input, 'MaxNumberOfMessages', 1, receiveMessagesMax) ?? 1;
  const visibility = optionalInt(input, 'VisibilityTimeout', 0, 43_200);
  const waitSeconds = optionalInt(input, 'WaitTimeSeconds', 0, 20);
  const systemNames = [...(optionalStringList(input, 'AttributeNames') ?? []), ...(optionalStringList(input, 'MessageSystemAttributeNames') ?? [])];
  for (const n of systemNames) {
    if (!systemAttributeNames.has(n)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${n}.`);
  }
  const userNames = optionalStringList(input, 'MessageAttributeNames');
  const attemptId = optionalString(input, 'ReceiveRequestAttemptId');
  if (attemptId !== undefined && !/^[\x21-\x7e]{1,128}$/.test(attemptId)) {
    throw new SqsError('InvalidParameterValue', 'ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length.');
  }
  const replay = fifo && attemptId !== undefined ? ctx.attempts.get(queue, attemptId) : undefined;
  if (replay !== undefined) return replay;
  const known = ctx.ops.app.stateMachine.getQueue(queue);
  const waitMs = waitSeconds !== undefined ? waitSeconds * 1000 : (known?.attributes.receiveWaitTimeMs ?? 0);
  const res = await receiveWithWait(ctx.ops, { queue, max, visibilityTimeoutMs: visibility !== undefined ? visibility * 1000 : undefined, waitMs }, ctx.stop);
  const wantedSystem = attributeSelector(systemNames);
  const wantedUser = attributeSelector(userNames);
  const messages = res.messages.map((m) => sqsMessage(ctx, m, fifo, wantedSystem, wantedUser));
  const output = messages.length > 0 ? { Messages: messages } : {};
  if (fifo && attemptId !== undefined && messages.length > 0) {
    const leaseMs = visibility !== undefined ? visibility * 1000 : (known?.attributes.visibilityTimeoutMs ?? 0);
    ctx.attempts.put(queue, attemptId, output, leaseMs);
  }
  return output;
};

/** The receive action by name. */
export const receiveActions: Readonly<Record<string, SqsAction>> = {
  ReceiveMessage: receiveMessage,
};
