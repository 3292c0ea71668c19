/**
 * The request ops of the binary client protocol (client.proto) that complete with one
 * response: queue commands (proposed through the node runtime, which forwards from a
 * follower), linearizable reads, cluster status and leadership transfer. Subscriptions live in
 * binary-subscription.ts, the connection in binary-connection.ts.
 */
import type { Logger } from 'pino';
import { RaftqError } from '../errors.js';
import { validateCommand, type Command, type EnqueueCommand, type ReceiveCommand, type CommandResult, type EnqueueMessage, type QueueAttributesInput, type QueueInfo, type ReceivedMessage } from '../queue/index.js';
import { toRaftqError } from '../server/error-map.js';
import type { NodeRuntime } from '../server/node-runtime.js';
import type { QueueApplication, QueueReply, ReceiveReply } from '../server/queue-app.js';
import type { DecodedRequest, RequestOps, ResultBody, WireAttributes, WireClusterStatus, WireIncoming, WireOutgoing, WireQueueInfo } from '../proto/client-wire.js';
import { transferLeadershipAndWait } from './leader-transfer.js';
import { submitCommand, type ReplyTo } from './submit-command.js';

/** What the binary API serves from. */
export interface BinaryContext {
  readonly node: NodeRuntime<CommandResult, QueueReply>;
  readonly app: QueueApplication;
  readonly logger: Logger;
  /** True once the server is shutting down: long polls return early. */
  isClosing(): boolean;
  /** Counts a completed request by op and result code ("OK" on success), for metrics. */
  readonly countRequest?: (op: string, code: string) => void;
}

/** The ops answered by runOp (everything but the connection and subscription ops). */
export type SimpleOp = Exclude<DecodedRequest, { op: 'hello' | 'ping' | 'subscribe' | 'credit' | 'unsubscribe' }>;

/** Longest long-poll wait of a receive, in milliseconds (as the HTTP API). */
export const receiveWaitMsMax = 20_000;

/**
 * How often a waiting receive re-checks without an enqueue, in milliseconds: messages also
 * become visible when a lease or a delay runs out, which wakes nobody.
 */
const recheckMs = 500;

/**
 * The state machine's clock only moves when an entry applies (the leader proposes housekeeping
 * every few seconds). When it is older than this, in milliseconds, stats may hide messages whose
 * lease or delay ran out, so a waiting receive proposes anyway to find out.
 */
const staleClockMs = 1000;

/** Runs one op to completion; throws RaftqError for every failure a client should see. */
export async function runOp(ctx: BinaryContext, req: SimpleOp): Promise<ResultBody> {
  switch (req.op) {
    case 'createQueue': {
      const attributes = attributesFromWire(req.args.attributes);
      const res = await submit(ctx, attributes === undefined ? { type: 'createQueue', queue: req.args.queue } : { type: 'createQueue', queue: req.args.queue, attributes });
      await ctx.node.linearizableRead();
      const info = ctx.app.stateMachine.getQueue(req.args.queue);
      return { createQueue: { created: res.created, queue: info === undefined ? null : queueToWire(info) } };
    }
    case 'deleteQueue': {
      const res = await submit(ctx, { type: 'deleteQueue', queue: req.args.queue });
      return { deleteQueue: { deletedMessages: res.deletedMessages } };
    }
    case 'purgeQueue': {
      const res = await submit(ctx, { type: 'purgeQueue', queue: req.args.queue });
      return { purgeQueue: { purgedMessages: res.purgedMessages } };
    }
    case 'setQueueAttributes': {
      await submit(ctx, { type: 'setQueueAttributes', queue: req.args.queue, attributes: attributesFromWire(req.args.attributes) ?? {} });
      await ctx.node.linearizableRead();
      const info = ctx.app.stateMachine.getQueue(req.args.queue);
      return { setQueueAttributes: { queue: info === undefined ? null : queueToWire(info) } };
    }
    case 'getQueue': {
      await ctx.node.linearizableRead();
      const info = ctx.app.stateMachine.getQueue(req.args.queue);
      if (info === undefined) throw new RaftqError('QUEUE_NOT_FOUND', `queue ${req.args.queue} does not exist`);
      return { getQueue: { queue: queueToWire(info) } };
    }
    case 'listQueues':
      await ctx.node.linearizableRead();
      return { listQueues: { queues: ctx.app.stateMachine.listQueues().map(queueToWire) } };
    case 'enqueue': {
      const res = await submit(ctx, enqueueFromWire(req.args));
      return { enqueue: { messages: res.messages.map((m) => ({ id: m.id, offset: m.offset })), duplicate: res.duplicate } };
    }
    case 'receive': {
      const res = await receive(ctx, req.args);
      return { receive: { messages: res.messages.map(messageToWire), deadLettered: res.deadLettered } };
    }
    case 'ack': {
      const res = await submit(ctx, { type: 'ack', queue: req.args.queue, receipts: req.args.receipts });
      return { ack: { outcomes: [...res.outcomes] } };
    }
    case 'nack': {
      const res = await submit(ctx, { type: 'changeVisibility', queue: req.args.queue, receipt: req.args.receipt, visibilityTimeoutMs: req.args.delayMs ?? 0 });
      return { nack: { outcome: res.outcome } };
    }
    case 'changeVisibility': {
      const { queue, receipt, visibilityTimeoutMs } = req.args;
      const res = await submit(ctx, { type: 'changeVisibility', queue, receipt, visibilityTimeoutMs });
      return { changeVisibility: { outcome: res.outcome } };
    }
    case 'redrive': {
      const res = await submit(ctx, { type: 'redrive', queue: req.args.queue });
      return { redrive: { moved: res.moved } };
    }
    case 'clusterStatus':
      return { clusterStatus: clusterStatus(ctx) };
    case 'transferLeader':
      return { transferLeader: { leader: await transferLeadershipAndWait(ctx.node, req.args.to) } };
  }
}

/**
 * Validates a command (so that bad input fails at once, even before a long poll), proposes it
 * through the leader, and turns an error result into a RaftqError.
 */
export function submit<C extends Command>(ctx: BinaryContext, cmd: C): Promise<ReplyTo<C['type']>> {
  const err = validateCommand(cmd);
  if (err !== undefined) return Promise.reject(toRaftqError(err));
  return submitCommand(ctx.node, cmd);
}

/** A receive, long-polling up to waitMs for a message when none is visible. */
async function receive(ctx: BinaryContext, args: RequestOps['receive']): Promise<ReceiveReply> {
  const waitMs = args.waitMs ?? 0;
  if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > receiveWaitMsMax) throw new RaftqError('INVALID_ARGUMENT', `waitMs must be an integer within 0..${receiveWaitMsMax}`);
  const cmd = receiveCommand(args.queue, args.max, args.visibilityTimeoutMs);
  const until = Date.now() + waitMs;
  for (;;) {
    const last = Date.now() >= until || ctx.isClosing();
    if (last || worthReceiving(ctx, args.queue)) {
      const res = await submit(ctx, cmd);
      if (res.messages.length > 0 || last) return res;
    }
    const left = until - Date.now();
    if (left > 0) await ctx.app.waitForActivity(args.queue, Math.min(left, recheckMs));
  }
}

/** A receive command of up to `max` messages. */
export function receiveCommand(queue: string, max: number, visibilityTimeoutMs: number | null | undefined): ReceiveCommand {
  return visibilityTimeoutMs === null || visibilityTimeoutMs === undefined ? { type: 'receive', queue, max } : { type: 'receive', queue, max, visibilityTimeoutMs };
}

/**
 * Whether a receive on `queue` may find something, judged from this node's applied state: the
 * queue is unknown here (the leader answers QUEUE_NOT_FOUND or knows better), a message is
 * visible, or leases and delays may have run out since the state machine's clock last moved.
 */
export function worthReceiving(ctx: BinaryContext, queue: string): boolean {
  const sm = ctx.app.stateMachine;
  const q = sm.getQueue(queue);
  if (q === undefined || q.stats.visible > 0) return true;
  return q.stats.inFlight + q.stats.delayed > 0 && Date.now() - sm.clockMs >= staleClockMs;
}

function attributesFromWire(a: WireAttributes | null | undefined): QueueAttributesInput | undefined {
  if (a === null || a === undefined) return undefined;
  const out: QueueAttributesInput = {};
  for (const k of ['visibilityTimeoutMs', 'delayMs', 'retentionMs', 'maxMessageBytes', 'maxReceiveCount'] as const) {
    const v = a[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  if (a.deadLetterQueue !== null && a.deadLetterQueue !== undefined) out.deadLetterQueue = a.deadLetterQueue;
  if (a.fifo !== null && a.fifo !== undefined) out.fifo = a.fifo;
  return out;
}

function enqueueFromWire(args: RequestOps['enqueue']): EnqueueCommand {
  const messages = args.messages.map((m) => messageFromWire(m));
  if (args.producerKey === 'idempotencyKey' && typeof args.idempotencyKey === 'string') {
    return { type: 'enqueue', queue: args.queue, messages, producerKey: { idempotencyKey: args.idempotencyKey } };
  }
  if (args.producerKey === 'producer' && args.producer !== null && args.producer !== undefined) {
    return { type: 'enqueue', queue: args.queue, messages, producerKey: { producerId: args.producer.producerId, sequence: args.producer.sequence } };
  }
  return { type: 'enqueue', queue: args.queue, messages };
}

function messageFromWire(m: WireOutgoing): EnqueueMessage {
  const out: EnqueueMessage = { body: m.body };
  if (m.attributes !== undefined && Object.keys(m.attributes).length > 0) out.attributes = { ...m.attributes };
  if (m.delayMs !== null && m.delayMs !== undefined) out.delayMs = m.delayMs;
  if (m.groupId !== null && m.groupId !== undefined) out.groupId = m.groupId;
  if (m.dedupId !== null && m.dedupId !== undefined) out.dedupId = m.dedupId;
  return out;
}

/** A queue in wire form. */
export function queueToWire(q: QueueInfo): WireQueueInfo {
  return { name: q.name, attributes: { ...q.attributes }, createdAtMs: q.createdAtMs, stats: { ...q.stats } };
}

/** A delivered message in wire form. */
export function messageToWire(m: ReceivedMessage): WireIncoming {
  return { id: m.id, offset: m.offset, body: m.body, receipt: m.receipt, receiveCount: m.receiveCount, enqueuedAtMs: m.enqueuedAtMs, attributes: m.attributes, groupId: m.groupId };
}

function clusterStatus(ctx: BinaryContext): WireClusterStatus {
  const s = ctx.node.status();
  const nodes = ctx.node.clusterNodes(s).map((n) => ({
    id: n.id,
    voter: n.voter,
    peer: n.peer,
    http: n.http ?? '',
    client: n.client ?? '',
    ...(n.match !== undefined ? { match: n.match } : {}),
    state: n.state ?? '',
    ...(n.connected !== undefined ? { connected: n.connected } : {}),
  }));
  return {
    id: s.id,
    role: s.role,
    leader: s.leader,
    term: s.term,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    lastIndex: s.lastIndex,
    snapshotIndex: s.snapshotIndex,
    nodes,
  };
}

