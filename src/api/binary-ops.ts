/**
 * The request ops of the binary client protocol (client.proto) that complete with one
 * response, as a codec: each decoded request becomes a call of the shared op layer
 * (queue-ops.ts, long-poll-receive.ts, cluster-view.ts) and its result a wire result. Subscriptions live in
 * binary-subscription.ts, the connection in binary-connection.ts.
 */
import type { Logger } from 'pino';
import type { CommandResult, EnqueueCommand, EnqueueMessage, QueueAttributesInput, QueueInfo, ReceivedMessage } from '../queue/index.js';
import type { NodeRuntime } from '../server/node-runtime.js';
import type { QueueApplication, QueueReply } from '../server/queue-app.js';
import type { DecodedRequest, RequestOps, ResultBody, WireAttributes, WireClusterStatus, WireIncoming, WireOutgoing, WireQueueInfo } from '../proto/client-wire.js';
import { clusterView, type ClusterView } from './cluster-view.js';
import { transferLeadershipAndWait } from './leader-transfer.js';
import { receiveWithWait } from './long-poll-receive.js';
import { audited } from './auth/access.js';
import type { Authenticator } from './auth/authenticator.js';
import type { Principal } from '../queue/permissions.js';
import * as ops from './queue-ops.js';

/** What the binary API serves from. */
export interface BinaryContext {
  readonly node: NodeRuntime<CommandResult, QueueReply>;
  readonly app: QueueApplication;
  readonly logger: Logger;
  /** Aborted once the server shuts down (or the connection closes): long polls end early. */
  readonly closing: AbortSignal;
  /** Counts a completed request by op and result code ("OK" on success), for metrics. */
  readonly countRequest?: (op: string, code: string) => void;
  /** Who the connection acts as, once its Hello authenticated it; undefined with auth off. */
  readonly principal?: Principal;
  /** Authentication (`--auth`); absent: off. */
  readonly auth?: Authenticator;
}

/** The ops answered by runOp (everything but the connection and subscription ops). */
export type SimpleOp = Exclude<DecodedRequest, { op: 'hello' | 'ping' | 'subscribe' | 'credit' | 'unsubscribe' }>;

/** Runs one op to completion (queue-ops.ts); throws RaftqError for every failure a client should see. */
export async function runOp(ctx: BinaryContext, req: SimpleOp): Promise<ResultBody> {
  switch (req.op) {
    case 'createQueue': {
      const tags = req.args.tags;
      const res = await ops.createQueue(ctx, req.args.queue, attributesFromWire(req.args.attributes), tags !== undefined && Object.keys(tags).length > 0 ? { ...tags } : undefined);
      return { createQueue: { created: res.created, queue: res.queue === undefined ? null : queueToWire(res.queue) } };
    }
    case 'deleteQueue':
      return { deleteQueue: await ops.deleteQueue(ctx, req.args.queue) };
    case 'purgeQueue':
      return { purgeQueue: await ops.purgeQueue(ctx, req.args.queue) };
    case 'setQueueAttributes': {
      const info = await ops.setQueueAttributes(ctx, req.args.queue, attributesFromWire(req.args.attributes) ?? {});
      return { setQueueAttributes: { queue: info === undefined ? null : queueToWire(info) } };
    }
    case 'getQueue':
      return { getQueue: { queue: queueToWire(await ops.getQueue(ctx, req.args.queue)) } };
    case 'listQueues':
      return { listQueues: { queues: (await ops.listQueues(ctx)).map(queueToWire) } };
    case 'enqueue':
      return { enqueue: await ops.enqueue(ctx, enqueueFromWire(req.args)) };
    case 'receive': {
      const { queue, max, visibilityTimeoutMs, waitMs } = req.args;
      const res = await receiveWithWait(ctx, { queue, max, visibilityTimeoutMs: visibilityTimeoutMs ?? undefined, waitMs: waitMs ?? undefined }, ctx.closing);
      return { receive: { messages: res.messages.map(messageToWire), deadLettered: res.deadLettered } };
    }
    case 'ack':
      return { ack: { outcomes: await ops.ack(ctx, req.args.queue, req.args.receipts) } };
    case 'nack':
      return { nack: { outcome: await ops.nack(ctx, req.args.queue, req.args.receipt, req.args.delayMs ?? undefined) } };
    case 'changeVisibility':
      return { changeVisibility: { outcome: await ops.changeVisibility(ctx, req.args.queue, req.args.receipt, req.args.visibilityTimeoutMs) } };
    case 'redrive':
      return { redrive: await ops.redrive(ctx, req.args.queue, req.args.destination ?? undefined) };
    case 'tagQueue':
      await ops.tagQueue(ctx, req.args.queue, { ...(req.args.tags ?? {}) });
      return { tagQueue: {} };
    case 'untagQueue':
      await ops.untagQueue(ctx, req.args.queue, req.args.keys ?? []);
      return { untagQueue: {} };
    case 'clusterStatus':
      return { clusterStatus: clusterStatusToWire(clusterView(ctx.node)) };
    case 'transferLeader':
      return { transferLeader: { leader: await audited(ctx, { action: 'admin', resources: ['cluster'], audit: true }, 'transferLeader', () => transferLeadershipAndWait(ctx.node, req.args.to)) } };
  }
}

function attributesFromWire(a: WireAttributes | null | undefined): QueueAttributesInput | undefined {
  if (a === null || a === undefined) return undefined;
  const out: QueueAttributesInput = {};
  for (const k of ['visibilityTimeoutMs', 'delayMs', 'retentionMs', 'maxMessageBytes', 'maxReceiveCount', 'receiveWaitTimeMs'] as const) {
    const v = a[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  if (a.deadLetterQueue !== null && a.deadLetterQueue !== undefined) out.deadLetterQueue = a.deadLetterQueue;
  if (a.fifo !== null && a.fifo !== undefined) out.fifo = a.fifo;
  if (a.contentBasedDeduplication !== null && a.contentBasedDeduplication !== undefined) out.contentBasedDeduplication = a.contentBasedDeduplication;
  if (a.redriveAllowPolicy !== null && a.redriveAllowPolicy !== undefined) out.redriveAllowPolicy = a.redriveAllowPolicy;
  return out;
}

function enqueueFromWire(args: RequestOps['enqueue']): Omit<EnqueueCommand, 'type'> {
  const messages = args.messages.map((m) => messageFromWire(m));
  if (args.producerKey === 'idempotencyKey' && typeof args.idempotencyKey === 'string') {
    return { queue: args.queue, messages, producerKey: { idempotencyKey: args.idempotencyKey } };
  }
  if (args.producerKey === 'producer' && args.producer !== null && args.producer !== undefined) {
    return { queue: args.queue, messages, producerKey: { producerId: args.producer.producerId, sequence: args.producer.sequence } };
  }
  return { queue: args.queue, messages };
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
  return {
    name: q.name,
    attributes: { ...q.attributes },
    createdAtMs: q.createdAtMs,
    stats: { ...q.stats },
    tags: { ...q.tags },
    ...(q.lastRedrive === undefined ? {} : { lastRedrive: { ...q.lastRedrive } }),
  };
}

/** A delivered message in wire form. */
export function messageToWire(m: ReceivedMessage): WireIncoming {
  return {
    id: m.id,
    offset: m.offset,
    body: m.body,
    receipt: m.receipt,
    receiveCount: m.receiveCount,
    enqueuedAtMs: m.enqueuedAtMs,
    attributes: m.attributes,
    groupId: m.groupId,
    sentAtMs: m.sentAtMs,
    firstReceivedAtMs: m.firstReceivedAtMs,
    dedupId: m.dedupId,
  };
}

/** The cluster view in wire form: an unknown leader, and absent addresses and state, are ''. */
function clusterStatusToWire(v: ClusterView): WireClusterStatus {
  const nodes = v.nodes.map((n) => ({
    id: n.id,
    voter: n.voter,
    peer: n.peer,
    http: n.http ?? '',
    client: n.client ?? '',
    ...(n.match !== undefined ? { match: n.match } : {}),
    state: n.state ?? '',
    ...(n.connected !== undefined ? { connected: n.connected } : {}),
  }));
  const { id, role, term, commitIndex, appliedIndex, lastIndex, snapshotIndex } = v;
  return { id, role, leader: v.leader ?? '', term, commitIndex, appliedIndex, lastIndex, snapshotIndex, nodes };
}
