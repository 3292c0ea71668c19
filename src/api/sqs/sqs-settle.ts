/**
 * What a consumer does with a received message: DeleteMessage(Batch) and
 * ChangeMessageVisibility(Batch). A malformed receipt handle is ReceiptHandleIsInvalid before
 * anything is proposed. Deleting with a superseded receipt succeeds and deletes nothing, as in
 * SQS (the message was delivered again; the newer receipt deletes it); deleting a message
 * already gone succeeds (idempotent). The good entries of a DeleteMessageBatch are one ack
 * command.
 */
import { validateCommand } from '../../queue/index.js';
import * as ops from '../queue-ops.js';
import type { SqsAction } from './sqs-context.js';
import { failedEntry } from './sqs-error-map.js';
import { SqsError } from './sqs-errors.js';
import { batchEntries, optionalInt, requiredString, type SqsInput } from './sqs-input.js';
import { queueOf } from './sqs-queues.js';

/** Longest visibility timeout SQS accepts, in seconds (12 hours). */
const visibilitySecondsMax = 43_200;

/** The ReceiptHandle of `entry`, checked to be a well-formed receipt of `queue`. */
function receiptOf(queue: string, entry: SqsInput): string {
  const receipt = requiredString(entry, 'ReceiptHandle');
  if (validateCommand({ type: 'ack', queue, receipts: [receipt] }) !== undefined) {
    throw new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${receipt.slice(0, 160)}" is not a valid receipt handle.`);
  }
  return receipt;
}

function visibilityOf(entry: SqsInput): number {
  const v = optionalInt(entry, 'VisibilityTimeout', 0, visibilitySecondsMax);
  if (v === undefined) throw new SqsError('MissingParameter', 'The request must contain the parameter VisibilityTimeout.');
  return v * 1000;
}

/** Changes the visibility of one delivery; the SQS error for a message no longer in flight. */
async function changeVisibility(ctx: Parameters<SqsAction>[0], queue: string, receipt: string, ms: number): Promise<void> {
  const outcome = await ops.changeVisibility(ctx.ops, queue, receipt, ms);
  if (outcome === 'gone') throw new SqsError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.');
}

const deleteMessage: SqsAction = async (ctx, input) => {
  const queue = queueOf(ctx, input);
  await ops.ack(ctx.ops, queue, [receiptOf(queue, input)]);
  return {};
};

const deleteMessageBatch: SqsAction = async (ctx, input) => {
  const queue = queueOf(ctx, input);
  const failed: Record<string, unknown>[] = [];
  const good: Array<{ id: string; receipt: string }> = [];
  for (const entry of batchEntries(input)) {
    const id = entry['Id'] as string;
    try {
      good.push({ id, receipt: receiptOf(queue, entry) });
    } catch (e) {
      failed.push(failedEntry(id, e));
    }
  }
  if (good.length > 0) await ops.ack(ctx.ops, queue, good.map((g) => g.receipt));
  return { Successful: good.map((g) => ({ Id: g.id })), Failed: failed };
};

const changeMessageVisibility: SqsAction = async (ctx, input) => {
  const queue = queueOf(ctx, input);
  await changeVisibility(ctx, queue, receiptOf(queue, input), visibilityOf(input));
  return {};
};

const changeMessageVisibilityBatch: SqsAction = async (ctx, input) => {
  const queue = queueOf(ctx, input);
  const results = await Promise.all(
    batchEntries(input).map(async (entry) => {
      const id = entry['Id'] as string;
      try {
        await changeVisibility(ctx, queue, receiptOf(queue, entry), visibilityOf(entry));
        return { ok: true as const, id };
      } catch (e) {
        return { ok: false as const, failed: failedEntry(id, e) };
      }
    }),
  );
  return {
    Successful: results.filter((r) => r.ok).map((r) => ({ Id: r.id })),
    Failed: results.flatMap((r) => (r.ok ? [] : [r.failed])),
  };
};

/** The settle actions by name. */
export const settleActions: Readonly<Record<string, SqsAction>> = {
  DeleteMessage: deleteMessage,
  DeleteMessageBatch: deleteMessageBatch,
  ChangeMessageVisibility: changeMessageVisibility,
  ChangeMessageVisibilityBatch: changeMessageVisibilityBatch,
};
