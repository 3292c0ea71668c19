/**
 * The SQS queue actions (create, look up, list, delete, purge, attributes, tags, dead-letter
 * sources) over the op layer: each reads its input with sqs-input.ts, calls queue-ops.ts, and
 * returns the JSON model's output shape.
 */
import type { QueueInfo } from '../../queue/index.js';
import * as ops from '../queue-ops.js';
import type { SqsAction, SqsContext } from './sqs-context.js';
import { SqsError } from './sqs-errors.js';
import { optionalInt, optionalString, optionalStringList, optionalStringMap, requiredString, type SqsInput } from './sqs-input.js';
import { queueNameOfUrl, queueUrl } from './sqs-names.js';
import { checkRedriveAllowed, parseQueueAttributes, renderQueueAttributes } from './sqs-queue-attributes.js';

/** Tags per queue (SQS: 50). */
const tagsMax = 50;

/** The queue named by the input's QueueUrl. */
export function queueOf(ctx: SqsContext, input: SqsInput): string {
  return queueNameOfUrl(ctx.id, requiredString(input, 'QueueUrl'));
}

function urlOf(ctx: SqsContext, name: string): string {
  return queueUrl(ctx.baseUrl, ctx.id, name);
}

/** The dead-letter queue a change names must allow `source` (its RedriveAllowPolicy), as far as this node knows it. */
function checkDeadLetterTarget(ctx: SqsContext, source: string, dlq: string | undefined): void {
  if (dlq === undefined || dlq === '') return;
  const info = ctx.ops.app.stateMachine.getQueue(dlq);
  if (info === undefined) throw new SqsError('InvalidParameterValue', `Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`);
  checkRedriveAllowed(ctx.id, info, source);
}

function checkTags(tags: Readonly<Record<string, string>>): void {
  const entries = Object.entries(tags);
  if (entries.length > tagsMax) throw new SqsError('InvalidParameterValue', `Too many tags: a queue has at most ${tagsMax}.`);
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 128 || v.length > 256) throw new SqsError('InvalidParameterValue', 'Tag keys are 1 to 128 characters, values at most 256.');
  }
}

const createQueue: SqsAction = async (ctx, input) => {
  const name = requiredString(input, 'QueueName');
  const attrs = parseQueueAttributes(ctx.id, name, optionalStringMap(input, 'Attributes') ?? {}, true);
  const tags = optionalStringMap(input, 'tags');
  if (tags !== undefined) checkTags(tags);
  checkDeadLetterTarget(ctx, name, attrs.deadLetterQueue);
  await ops.createQueue(ctx.ops, name, attrs, tags);
  return { QueueUrl: urlOf(ctx, name) };
};

const getQueueUrl: SqsAction = async (ctx, input) => {
  const name = requiredString(input, 'QueueName');
  const owner = optionalString(input, 'QueueOwnerAWSAccountId');
  if (owner !== undefined && owner !== ctx.id.accountId) throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
  await ops.getQueue(ctx.ops, name);
  return { QueueUrl: urlOf(ctx, name) };
};

/** Splits sorted names into one page after NextToken (the last name of the previous page, base64url). */
function page(names: readonly string[], input: SqsInput): { names: string[]; next?: string } {
  const max = optionalInt(input, 'MaxResults', 1, 1000);
  const token = optionalString(input, 'NextToken');
  let from = 0;
  if (token !== undefined) {
    const after = Buffer.from(token, 'base64url').toString('utf8');
    if (token === '' || Buffer.from(after, 'utf8').toString('base64url') !== token) throw new SqsError('InvalidParameterValue', 'Invalid NextToken value.');
    from = names.findIndex((n) => n > after);
    if (from < 0) from = names.length;
  }
  const size = max ?? 1000;
  const out = names.slice(from, from + size);
  // SQS hands out a NextToken only when MaxResults was given and more remain.
  const more = max !== undefined && from + size < names.length;
  return more ? { names: out, next: Buffer.from(out[out.length - 1]!, 'utf8').toString('base64url') } : { names: out };
}

const listQueues: SqsAction = async (ctx, input) => {
  const prefix = optionalString(input, 'QueueNamePrefix') ?? '';
  const names = (await ops.listQueues(ctx.ops)).map((q) => q.name).filter((n) => n.startsWith(prefix));
  const p = page(names, input);
  return { ...(p.names.length > 0 ? { QueueUrls: p.names.map((n) => urlOf(ctx, n)) } : {}), ...(p.next !== undefined ? { NextToken: p.next } : {}) };
};

const deleteQueue: SqsAction = async (ctx, input) => {
  await ops.deleteQueue(ctx.ops, queueOf(ctx, input));
  return {};
};

const purgeQueue: SqsAction = async (ctx, input) => {
  await ops.purgeQueue(ctx.ops, queueOf(ctx, input));
  return {};
};

const getQueueAttributes: SqsAction = async (ctx, input) => {
  const q = await ops.getQueue(ctx.ops, queueOf(ctx, input));
  const attrs = renderQueueAttributes(ctx.id, q, optionalStringList(input, 'AttributeNames') ?? []);
  return Object.keys(attrs).length > 0 ? { Attributes: attrs } : {};
};

const setQueueAttributes: SqsAction = async (ctx, input) => {
  const name = queueOf(ctx, input);
  const given = optionalStringMap(input, 'Attributes');
  if (given === undefined) throw new SqsError('MissingParameter', 'The request must contain the parameter Attributes.');
  const attrs = parseQueueAttributes(ctx.id, name, given, false);
  checkDeadLetterTarget(ctx, name, attrs.deadLetterQueue);
  if (Object.keys(attrs).length > 0) await ops.setQueueAttributes(ctx.ops, name, attrs);
  else await ops.getQueue(ctx.ops, name);
  return {};
};

const tagQueue: SqsAction = async (ctx, input) => {
  const name = queueOf(ctx, input);
  const tags = optionalStringMap(input, 'Tags');
  if (tags === undefined) throw new SqsError('MissingParameter', 'The request must contain the parameter Tags.');
  checkTags(tags);
  await ops.tagQueue(ctx.ops, name, tags);
  return {};
};

const untagQueue: SqsAction = async (ctx, input) => {
  const name = queueOf(ctx, input);
  const keys = optionalStringList(input, 'TagKeys');
  if (keys === undefined) throw new SqsError('MissingParameter', 'The request must contain the parameter TagKeys.');
  await ops.untagQueue(ctx.ops, name, keys);
  return {};
};

const listQueueTags: SqsAction = async (ctx, input) => {
  const q = await ops.getQueue(ctx.ops, queueOf(ctx, input));
  return Object.keys(q.tags).length > 0 ? { Tags: { ...q.tags } } : {};
};

/** The queues whose redrive policy names `dlq`, sorted by name. */
export function deadLetterSources(queues: readonly QueueInfo[], dlq: string): string[] {
  return queues.filter((q) => q.attributes.deadLetterQueue === dlq).map((q) => q.name);
}

const listDeadLetterSourceQueues: SqsAction = async (ctx, input) => {
  const dlq = queueOf(ctx, input);
  await ops.getQueue(ctx.ops, dlq);
  const p = page(deadLetterSources(await ops.listQueues(ctx.ops), dlq), input);
  return { queueUrls: p.names.map((n) => urlOf(ctx, n)), ...(p.next !== undefined ? { NextToken: p.next } : {}) };
};

/** The queue actions by name. */
export const queueActions: Readonly<Record<string, SqsAction>> = {
  CreateQueue: createQueue,
  GetQueueUrl: getQueueUrl,
  ListQueues: listQueues,
  DeleteQueue: deleteQueue,
  PurgeQueue: purgeQueue,
  GetQueueAttributes: getQueueAttributes,
  SetQueueAttributes: setQueueAttributes,
  TagQueue: tagQueue,
  UntagQueue: untagQueue,
  ListQueueTags: listQueueTags,
  ListDeadLetterSourceQueues: listDeadLetterSourceQueues,
};
