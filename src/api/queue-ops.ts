/**
 * The protocol-neutral queue operations: one function per operation, shared by the HTTP and
 * the binary API, which only decode requests into these arguments and encode the results
 * (issue 17 item 5). Every write is validated here, once, before it is proposed
 * (`proposeCommand`), whichever protocol it came from; every failure a client should see is a
 * RaftqError. The long-poll receive lives in long-poll-receive.ts.
 */
import { RaftqError } from '../errors.js';
import {
  validateCommand,
  type AckOutcome,
  type Command,
  type CommandResult,
  type CreateQueueCommand,
  type EnqueueCommand,
  type QueueAttributesInput,
  type QueueInfo,
  type QueueTags,
} from '../queue/index.js';
import type { Logger } from 'pino';
import { queueResource, type Principal } from '../queue/permissions.js';
import { toRaftqError } from '../server/error-map.js';
import type { NodeRuntime } from '../server/node-runtime.js';
import type { QueueApplication, QueueReply } from '../server/queue-app.js';
import { accessOf, audited } from './auth/access.js';
import { canSee } from './auth/authorize.js';
import { submitCommand, type ReplyTo } from './submit-command.js';

/** What the queue operations run against. */
export interface QueueOpsContext {
  readonly node: NodeRuntime<CommandResult, QueueReply>;
  readonly app: QueueApplication;
  /** The id of the client request this op serves, carried with a forwarded command (logs). */
  readonly requestId?: string;
  /** Who the request acts as; undefined when authentication is off (everything allowed). */
  readonly principal?: Principal;
  /** Where audit lines of administrative actions go (auth/access.ts). */
  readonly logger?: Logger;
  /** The ops serve a subscription: receives, acks and nacks need `consume` instead of `receive`. */
  readonly consuming?: boolean;
}

/** The outcome of changing a message's visibility (a nack is one with a delay). */
export type VisibilityOutcome = ReplyTo<'changeVisibility'>['outcome'];

/**
 * Validates `cmd` (so that bad input fails at once, before any proposal or long poll),
 * authorizes it for `ctx.principal` (FORBIDDEN; administrative commands write an audit line),
 * proposes it through the leader, and turns an error result into a RaftqError. The only door
 * through which the APIs propose a queue command: a follower authorizes here, before it
 * forwards, and the leader trusts its peers (mutually authenticated by TLS).
 */
export async function proposeCommand<C extends Command>(ctx: QueueOpsContext, cmd: C): Promise<ReplyTo<C['type']>> {
  checkCommand(cmd);
  const submit = (): Promise<ReplyTo<C['type']>> => submitCommand(ctx.node, cmd, ctx.requestId !== undefined ? { requestId: ctx.requestId } : {});
  const access = accessOf(cmd, ctx.consuming === true);
  // The hot path (auth off, a message op): nothing to check or audit.
  if (ctx.principal === undefined && !access.audit) return submit();
  return audited(ctx, access, cmd.type, submit);
}

/**
 * Throws INVALID_ARGUMENT (a RaftqError) when `cmd` is malformed: a bad queue name, a value
 * out of range, a malformed receipt. Checks against current state (does the queue exist, does
 * the body fit its limit) happen where the command is proposed, on the leader.
 */
export function checkCommand(cmd: Command): void {
  const err = validateCommand(cmd);
  if (err !== undefined) throw toRaftqError(err);
}

/** The queue `name` after a linearizable read barrier (undefined when it does not exist). */
async function readQueue(ctx: QueueOpsContext, name: string): Promise<QueueInfo | undefined> {
  await ctx.node.linearizableRead();
  return ctx.app.stateMachine.getQueue(name);
}

/**
 * Creates queue `queue` (idempotent for identical attributes; `tags` apply only when this call
 * creates it). Returns whether this call created it and the queue as read afterwards
 * (undefined if deleted in between).
 */
export async function createQueue(
  ctx: QueueOpsContext,
  queue: string,
  attributes: QueueAttributesInput | undefined,
  tags?: QueueTags,
): Promise<{ created: boolean; queue: QueueInfo | undefined }> {
  const cmd: CreateQueueCommand = {
    type: 'createQueue',
    queue,
    ...(attributes === undefined ? {} : { attributes }),
    ...(tags === undefined ? {} : { tags }),
  };
  const res = await proposeCommand(ctx, cmd);
  return { created: res.created, queue: await readQueue(ctx, queue) };
}

/** Adds tags to `queue` (replacing the values of keys it has); at most 50 tags in the end. */
export async function tagQueue(ctx: QueueOpsContext, queue: string, tags: QueueTags): Promise<void> {
  await proposeCommand(ctx, { type: 'tagQueue', queue, tags });
}

/** Removes the tags `keys` from `queue` (keys it does not have are ignored). */
export async function untagQueue(ctx: QueueOpsContext, queue: string, keys: readonly string[]): Promise<void> {
  await proposeCommand(ctx, { type: 'untagQueue', queue, keys: [...keys] });
}

/** Changes the attributes of `queue`; returns the queue as read afterwards. */
export async function setQueueAttributes(ctx: QueueOpsContext, queue: string, attributes: QueueAttributesInput): Promise<QueueInfo | undefined> {
  await proposeCommand(ctx, { type: 'setQueueAttributes', queue, attributes });
  return readQueue(ctx, queue);
}

/** Deletes `queue` and its messages; returns how many messages went with it. */
export async function deleteQueue(ctx: QueueOpsContext, queue: string): Promise<{ deletedMessages: number }> {
  const res = await proposeCommand(ctx, { type: 'deleteQueue', queue });
  return { deletedMessages: res.deletedMessages };
}

/** Deletes every message of `queue`; returns how many. */
export async function purgeQueue(ctx: QueueOpsContext, queue: string): Promise<{ purgedMessages: number }> {
  const res = await proposeCommand(ctx, { type: 'purgeQueue', queue });
  return { purgedMessages: res.purgedMessages };
}

/** The queue `queue` (linearizable); QUEUE_NOT_FOUND when it does not exist. */
export async function getQueue(ctx: QueueOpsContext, queue: string): Promise<QueueInfo> {
  if (!canSee(ctx.principal, queueResource(queue))) throw new RaftqError('FORBIDDEN', `principal ${ctx.principal?.name} has no permission on ${queueResource(queue)}`);
  const info = await readQueue(ctx, queue);
  if (info === undefined) throw new RaftqError('QUEUE_NOT_FOUND', `queue ${queue} does not exist`);
  return info;
}

/** Every queue the principal may see (any permission on it), linearizable. */
export async function listQueues(ctx: QueueOpsContext): Promise<QueueInfo[]> {
  await ctx.node.linearizableRead();
  return ctx.app.stateMachine.listQueues().filter((q) => canSee(ctx.principal, queueResource(q.name)));
}

/** Enqueues messages; answers once committed on a majority and applied. */
export async function enqueue(ctx: QueueOpsContext, cmd: Omit<EnqueueCommand, 'type'>): Promise<{ messages: Array<{ id: string; offset: number }>; duplicate: boolean }> {
  const res = await proposeCommand(ctx, { ...cmd, type: 'enqueue' });
  return { messages: res.messages.map((m) => ({ id: m.id, offset: m.offset })), duplicate: res.duplicate };
}

/** Acks (deletes) the messages of `receipts`; one outcome per receipt, in order. */
export async function ack(ctx: QueueOpsContext, queue: string, receipts: readonly string[]): Promise<AckOutcome[]> {
  const res = await proposeCommand(ctx, { type: 'ack', queue, receipts: [...receipts] });
  return [...res.outcomes];
}

/**
 * Makes the message of `receipt` invisible for `visibilityTimeoutMs` from now (0: visible at
 * once). STALE_RECEIPT when the message was delivered again since.
 */
export async function changeVisibility(ctx: QueueOpsContext, queue: string, receipt: string, visibilityTimeoutMs: number): Promise<VisibilityOutcome> {
  const res = await proposeCommand(ctx, { type: 'changeVisibility', queue, receipt, visibilityTimeoutMs });
  return res.outcome;
}

/** Returns a received message to the queue, visible again after `delayMs` (default 0). */
export function nack(ctx: QueueOpsContext, queue: string, receipt: string, delayMs: number | undefined): Promise<VisibilityOutcome> {
  return changeVisibility(ctx, queue, receipt, delayMs ?? 0);
}

/**
 * Moves every message of dead-letter queue `queue` back to its sources, or every one to
 * `destination` when given; returns how many, and the task's id (the log index of the
 * redrive, also in the queue's QueueInfo.lastRedrive).
 */
export async function redrive(ctx: QueueOpsContext, queue: string, destination?: string): Promise<{ moved: number; taskIndex: number }> {
  const res = await proposeCommand(ctx, destination === undefined ? { type: 'redrive', queue } : { type: 'redrive', queue, destination });
  return { moved: res.moved, taskIndex: res.taskIndex };
}
