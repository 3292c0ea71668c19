/**
 * The two protocols behind one interface for the shared semantic suite (semantics.test.ts):
 * each adapter sends the same queue operation as its protocol's request (HTTP API v1 JSON, or
 * a binary client.proto frame on a fresh connection) and normalizes the answer, so that the
 * suite compares outcomes, not encodings. Failures become ApiCallError with the error code.
 */
import type { DecodedResponse, RequestBody, ResultTypes, WireQueueInfo } from '../../src/proto/client-wire.js';
import type { Cluster } from '../integration/cluster-harness.js';
import { RawConnection } from './raw-client.js';

/** A failed call: the protocol's error code (QUEUE_NOT_FOUND, INVALID_ARGUMENT, ...). */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A queue, normalized. */
export interface QueueView {
  readonly name: string;
  readonly attributes: Record<string, unknown>;
  readonly stats: Record<string, number>;
}

/** A received message, normalized (bodies are UTF-8 text in this suite). */
export interface MessageView {
  readonly id: string;
  readonly body: string;
  readonly receipt: string;
  readonly receiveCount: number;
}

/** Queue attributes as the suite passes them. */
export type Attributes = Partial<Record<'visibilityTimeoutMs' | 'delayMs' | 'maxReceiveCount', number>> & { deadLetterQueue?: string };

/** Every queue operation, as the suite calls it. */
export interface SemanticApi {
  createQueue(queue: string, attributes: Attributes): Promise<QueueView>;
  /** Absent where the protocol has no such operation (HTTP API v1). */
  readonly setQueueAttributes: ((queue: string, attributes: Attributes) => Promise<QueueView>) | undefined;
  getQueue(queue: string): Promise<QueueView>;
  listQueues(): Promise<string[]>;
  deleteQueue(queue: string): Promise<{ deletedMessages: number }>;
  purgeQueue(queue: string): Promise<{ purgedMessages: number }>;
  /** Returns the new messages' ids. */
  enqueue(queue: string, bodies: readonly string[]): Promise<string[]>;
  receive(queue: string, args: { max: number; visibilityTimeoutMs?: number; waitMs?: number }): Promise<MessageView[]>;
  /** One receipt: its outcome; a superseded receipt fails STALE_RECEIPT. */
  ack(queue: string, receipt: string): Promise<string>;
  nack(queue: string, receipt: string, delayMs: number | undefined): Promise<string>;
  changeVisibility(queue: string, receipt: string, visibilityTimeoutMs: number): Promise<string>;
  redrive(queue: string): Promise<{ moved: number; taskIndex: number }>;
  /** The answering node, the leader it knows (undefined when none) and the configured node ids. */
  cluster(): Promise<{ id: string; leader: string | undefined; nodes: string[] }>;
}

type Json = Record<string, unknown>;

/** The HTTP API v1 of node `id`. */
export function httpApi(cluster: Cluster, id: string): SemanticApi {
  const call = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const r = await cluster.http<Json & { error?: { code: string; message: string } }>(id, method, path, body, 30_000);
    if (r.status !== 200) throw new ApiCallError(r.body.error?.code ?? `HTTP ${r.status}`, r.body.error?.message ?? '');
    return r.body;
  };
  const path = (queue: string, tail = ''): string => `/v1/queues/${encodeURIComponent(queue)}${tail}`;
  const queueOf = (o: unknown): QueueView => o as QueueView;
  return {
    createQueue: async (queue, attributes) => queueOf((await call('PUT', path(queue), attributes))['queue']),
    setQueueAttributes: undefined,
    getQueue: async (queue) => queueOf(await call('GET', path(queue))),
    listQueues: async () => ((await call('GET', '/v1/queues'))['queues'] as QueueView[]).map((v) => v.name),
    deleteQueue: async (queue) => (await call('DELETE', path(queue))) as { deletedMessages: number },
    purgeQueue: async (queue) => (await call('POST', path(queue, '/purge'), {})) as { purgedMessages: number },
    enqueue: async (queue, bodies) => {
      const r = await call('POST', path(queue, '/messages'), { messages: bodies.map((body) => ({ body })) });
      return (r['messages'] as Array<{ id: string }>).map((m) => m.id);
    },
    receive: async (queue, args) => {
      const r = await call('POST', path(queue, '/receive'), args);
      return (r['messages'] as MessageView[]).map(({ id, body, receipt, receiveCount }) => ({ id, body, receipt, receiveCount }));
    },
    ack: async (queue, receipt) => {
      await call('POST', path(queue, '/ack'), { receipt });
      return 'deleted';
    },
    nack: async (queue, receipt, delayMs) => (await call('POST', path(queue, '/nack'), delayMs === undefined ? { receipt } : { receipt, delayMs }))['outcome'] as string,
    changeVisibility: async (queue, receipt, visibilityTimeoutMs) => (await call('POST', path(queue, '/visibility'), { receipt, visibilityTimeoutMs }))['outcome'] as string,
    redrive: async (queue) => (await call('POST', path(queue, '/redrive'), {})) as { moved: number; taskIndex: number },
    cluster: async () => {
      const r = await call('GET', '/v1/cluster');
      // HTTP documents an unknown leader as null.
      const leader = r['leader'];
      if (leader !== null && typeof leader !== 'string') throw new Error(`leader is ${JSON.stringify(leader)}`);
      return { id: r['id'] as string, leader: leader ?? undefined, nodes: (r['nodes'] as Array<{ id: string }>).map((n) => n.id) };
    },
  };
}

/** The binary protocol of node `id`, one connection per call. */
export function binaryApi(cluster: Cluster, id: string): SemanticApi {
  async function call<K extends keyof ResultTypes>(body: RequestBody, expected: K): Promise<ResultTypes[K]> {
    const c = await RawConnection.open(cluster.node(id).clientPort);
    let r: DecodedResponse;
    try {
      c.request(1, body);
      r = await c.nextFor(1, 30_000);
    } finally {
      c.close();
    }
    if (r.type === 'error') throw new ApiCallError(r.value.code, r.value.message);
    if (r.type !== expected) throw new Error(`expected a ${expected} result, got ${String(r.type)}`);
    return r.value as ResultTypes[K];
  }
  const queueOf = (q: WireQueueInfo | null): QueueView => {
    if (q === null) throw new Error('no queue in the result');
    return { name: q.name, attributes: q.attributes ?? {}, stats: q.stats ?? {} };
  };
  const decoder = new TextDecoder();
  return {
    createQueue: async (queue, attributes) => queueOf((await call({ createQueue: { queue, attributes } }, 'createQueue')).queue),
    setQueueAttributes: async (queue, attributes) => queueOf((await call({ setQueueAttributes: { queue, attributes } }, 'setQueueAttributes')).queue),
    getQueue: async (queue) => queueOf((await call({ getQueue: { queue } }, 'getQueue')).queue),
    listQueues: async () => (await call({ listQueues: {} }, 'listQueues')).queues.map((q) => q.name),
    deleteQueue: async (queue) => call({ deleteQueue: { queue } }, 'deleteQueue'),
    purgeQueue: async (queue) => call({ purgeQueue: { queue } }, 'purgeQueue'),
    enqueue: async (queue, bodies) => {
      const messages = bodies.map((b) => ({ body: new TextEncoder().encode(b) }));
      return (await call({ enqueue: { queue, messages } }, 'enqueue')).messages.map((m) => m.id);
    },
    receive: async (queue, args) => {
      const r = await call({ receive: { queue, ...args } }, 'receive');
      return r.messages.map((m) => ({ id: m.id, body: decoder.decode(m.body), receipt: m.receipt, receiveCount: m.receiveCount }));
    },
    ack: async (queue, receipt) => {
      const [outcome] = (await call({ ack: { queue, receipts: [receipt] } }, 'ack')).outcomes;
      // The binary ack answers an outcome per receipt; the client library turns 'stale' into
      // STALE_RECEIPT (src/client/ack-batcher.ts), as HTTP does for a single receipt.
      if (outcome === 'stale') throw new ApiCallError('STALE_RECEIPT', 'superseded receipt');
      return outcome ?? '';
    },
    nack: async (queue, receipt, delayMs) => (await call({ nack: delayMs === undefined ? { queue, receipt } : { queue, receipt, delayMs } }, 'nack')).outcome,
    changeVisibility: async (queue, receipt, visibilityTimeoutMs) => (await call({ changeVisibility: { queue, receipt, visibilityTimeoutMs } }, 'changeVisibility')).outcome,
    redrive: async (queue) => {
      const r = await call({ redrive: { queue } }, 'redrive');
      return { moved: r.moved, taskIndex: r.taskIndex ?? 0 };
    },
    cluster: async () => {
      const r = await call({ clusterStatus: {} }, 'clusterStatus');
      // A proto3 string: an unknown leader is ''.
      return { id: r.id, leader: r.leader === '' ? undefined : r.leader, nodes: r.nodes.map((n) => n.id) };
    },
  };
}
