/**
 * The one long-poll receive of both APIs (and the wake-up rule of binary subscriptions).
 *
 * A receive is a write (it leases messages), so waiting must not propose a receive per check:
 * the loop proposes only when this node's applied state says one may find something (a visible
 * message, or a lease or delay that has run out), and otherwise sleeps until the first of
 * - activity on the queue (an enqueue, nack or redrive applied: QueueApplication.waitForActivity),
 * - the earliest lease or delay expiry of the queue (QueueStateMachine.nextVisibleAtMs, against
 *   QueueApplication.clockEstimateMs): an expiry wakes nobody else, and the state machine's
 *   clock only moves when an entry applies (housekeeping every 5 s), so its stats alone would
 *   show an expired lease up to 5 s late,
 * - a recheck every `recheckMs`, a safety net,
 * - the end of the wait, or shutdown (`stop` aborted): then one last receive is proposed and
 *   its result returned, so a long poll never outlives the server by more than one proposal.
 */
import { RaftqError } from '../errors.js';
import type { ReceiveCommand } from '../queue/index.js';
import type { ReceiveReply } from '../server/queue-app.js';
import { checkCommand, proposeCommand, type QueueOpsContext } from './queue-ops.js';

/** Longest long-poll wait of a receive, in milliseconds (both APIs; README "HTTP API v1"). */
export const receiveWaitMsMax = 20_000;

/** How often a waiting receive re-checks without queue activity, in milliseconds. */
export const recheckMs = 500;

/** The arguments of a receive: up to `max` messages, waiting up to `waitMs` for one. */
export interface ReceiveArgs {
  readonly queue: string;
  readonly max: number;
  /** Lease of the received messages, in milliseconds; the queue's default when undefined. */
  readonly visibilityTimeoutMs?: number | undefined;
  /** Longest wait for a message, in milliseconds, 0..receiveWaitMsMax; 0 when undefined. */
  readonly waitMs?: number | undefined;
}

/** A receive command of up to `max` messages. */
export function receiveCommand(queue: string, max: number, visibilityTimeoutMs: number | undefined): ReceiveCommand {
  return visibilityTimeoutMs === undefined ? { type: 'receive', queue, max } : { type: 'receive', queue, max, visibilityTimeoutMs };
}

/**
 * Receives up to `max` messages, long-polling up to `waitMs` while none is available. Every
 * argument is validated before the first proposal and before any wait (INVALID_ARGUMENT). Ends
 * early when `stop` aborts (shutdown), with one last receive.
 */
export async function receiveWithWait(ctx: QueueOpsContext, args: ReceiveArgs, stop: AbortSignal): Promise<ReceiveReply> {
  const waitMs = args.waitMs ?? 0;
  if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > receiveWaitMsMax) throw new RaftqError('INVALID_ARGUMENT', `waitMs must be an integer within 0..${receiveWaitMsMax}`);
  const cmd = receiveCommand(args.queue, args.max, args.visibilityTimeoutMs);
  checkCommand(cmd);
  const until = Date.now() + waitMs;
  for (;;) {
    const last = Date.now() >= until || stop.aborted;
    if (last || worthReceiving(ctx, args.queue)) {
      const res = await proposeCommand(ctx, cmd);
      if (res.messages.length > 0 || last) return res;
    }
    const left = until - Date.now();
    if (left > 0) await waitForWake(ctx, args.queue, Math.min(left, wakeDelayMs(ctx, args.queue)), stop);
  }
}

/**
 * Whether a receive on `queue` may find something, judged from this node's applied state: the
 * queue is unknown here (the leader answers QUEUE_NOT_FOUND or knows better), a message is
 * visible, or a lease or delay has run out since the state machine's clock last moved.
 */
export function worthReceiving(ctx: Pick<QueueOpsContext, 'app'>, queue: string): boolean {
  const q = ctx.app.stateMachine.getQueue(queue);
  if (q === undefined || q.stats.visible > 0) return true;
  return expiryInMs(ctx, queue) <= 0;
}

/**
 * How long a waiter on `queue` may sleep before it should look again, in ms: until the
 * earliest lease or delay expiry, at most `recheckMs` (also when that expiry is already past
 * and a receive just found nothing: the leader's clock may not be there yet).
 */
export function wakeDelayMs(ctx: Pick<QueueOpsContext, 'app'>, queue: string): number {
  const dueMs = expiryInMs(ctx, queue);
  return dueMs > 0 ? Math.min(recheckMs, Math.ceil(dueMs)) : recheckMs;
}

/** Milliseconds until the earliest lease or delay of `queue` runs out (<= 0: it has; Infinity: none). */
function expiryInMs(ctx: Pick<QueueOpsContext, 'app'>, queue: string): number {
  return ctx.app.stateMachine.nextVisibleAtMs(queue) - ctx.app.clockEstimateMs();
}

/** Resolves on activity on `queue`, after `timeoutMs`, or when `stop` aborts, whichever is first. */
export function waitForWake(ctx: Pick<QueueOpsContext, 'app'>, queue: string, timeoutMs: number, stop: AbortSignal): Promise<void> {
  if (stop.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const onAbort = (): void => resolve();
    stop.addEventListener('abort', onAbort, { once: true });
    void ctx.app.waitForActivity(queue, timeoutMs).then(() => {
      stop.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
