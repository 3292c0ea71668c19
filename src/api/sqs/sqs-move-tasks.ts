/**
 * Dead-letter queue redrive as SQS's message move tasks. raftq moves a dead-letter queue's
 * messages in one replicated step (one redrive command, atomic on every node), so a task is
 * complete when StartMessageMoveTask answers: ListMessageMoveTasks reports it COMPLETED with the
 * number moved, from the dead-letter queue's replicated record of its last redrive (so every
 * node answers alike), and a task can never be cancelled while it runs.
 * MaxNumberOfMessagesPerSecond is checked and not applied.
 */
import type { QueueInfo } from '../../queue/index.js';
import * as ops from '../queue-ops.js';
import type { SqsAction, SqsContext } from './sqs-context.js';
import { SqsError } from './sqs-errors.js';
import { optionalInt, optionalString, requiredString } from './sqs-input.js';
import { queueArn, queueNameOfArn } from './sqs-names.js';
import { deadLetterSources } from './sqs-queues.js';

interface TaskRef {
  readonly queue: string;
  readonly taskIndex: number;
}

function encodeHandle(t: TaskRef): string {
  return Buffer.from(JSON.stringify({ q: t.queue, i: t.taskIndex }), 'utf8').toString('base64url');
}

function decodeHandle(handle: string): TaskRef {
  try {
    const o = JSON.parse(Buffer.from(handle, 'base64url').toString('utf8')) as { q?: unknown; i?: unknown };
    if (typeof o.q === 'string' && typeof o.i === 'number' && Number.isInteger(o.i)) return { queue: o.q, taskIndex: o.i };
  } catch {
    // falls through to the error below
  }
  throw new SqsError('ResourceNotFoundException', 'The resource that you specified for the TaskHandle parameter does not exist.');
}

const startMessageMoveTask: SqsAction = async (ctx, input) => {
  const source = queueNameOfArn(ctx.id, requiredString(input, 'SourceArn'), 'SourceArn');
  const destArn = optionalString(input, 'DestinationArn');
  const destination = destArn !== undefined ? queueNameOfArn(ctx.id, destArn, 'DestinationArn') : undefined;
  optionalInt(input, 'MaxNumberOfMessagesPerSecond', 1, 500);
  const queues = await ops.listQueues(ctx.ops);
  if (!queues.some((q) => q.name === source)) throw new SqsError('ResourceNotFoundException', 'The resource that you specified for the SourceArn parameter does not exist.');
  if (deadLetterSources(queues, source).length === 0) throw new SqsError('InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.');
  const res = await ops.redrive(ctx.ops, source, destination);
  return { TaskHandle: encodeHandle({ queue: source, taskIndex: res.taskIndex }) };
};

/** The move task of `q`'s last redrive, as ListMessageMoveTasks reports it. */
function taskEntry(ctx: SqsContext, q: QueueInfo): Record<string, unknown> | undefined {
  const t = q.lastRedrive;
  if (t === undefined) return undefined;
  return {
    TaskHandle: encodeHandle({ queue: q.name, taskIndex: t.taskIndex }),
    Status: 'COMPLETED',
    SourceArn: queueArn(ctx.id, q.name),
    ...(t.destination !== '' ? { DestinationArn: queueArn(ctx.id, t.destination) } : {}),
    ApproximateNumberOfMessagesMoved: t.moved,
    ApproximateNumberOfMessagesToMove: t.moved,
    StartedTimestamp: t.startedAtMs,
  };
}

const listMessageMoveTasks: SqsAction = async (ctx, input) => {
  const source = queueNameOfArn(ctx.id, requiredString(input, 'SourceArn'), 'SourceArn');
  optionalInt(input, 'MaxResults', 1, 10);
  let q: QueueInfo;
  try {
    q = await ops.getQueue(ctx.ops, source);
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'QUEUE_NOT_FOUND') throw new SqsError('ResourceNotFoundException', 'The resource that you specified for the SourceArn parameter does not exist.');
    throw e;
  }
  const entry = taskEntry(ctx, q);
  return { Results: entry !== undefined ? [entry] : [] };
};

const cancelMessageMoveTask: SqsAction = async (ctx, input) => {
  const t = decodeHandle(requiredString(input, 'TaskHandle'));
  await ctx.ops.node.linearizableRead();
  const last = ctx.ops.app.stateMachine.getQueue(t.queue)?.lastRedrive;
  const known = last !== undefined && last.taskIndex === t.taskIndex;
  // SQS cancels RUNNING tasks only; raftq's are complete once started.
  throw new SqsError(
    'ResourceNotFoundException',
    known ? 'The task is not RUNNING: raftq completes a message move task in one replicated step, so it has already COMPLETED.' : 'The resource that you specified for the TaskHandle parameter does not exist.',
  );
};

/** The move task actions by name. */
export const moveTaskActions: Readonly<Record<string, SqsAction>> = {
  StartMessageMoveTask: startMessageMoveTask,
  ListMessageMoveTasks: listMessageMoveTasks,
  CancelMessageMoveTask: cancelMessageMoveTask,
};
