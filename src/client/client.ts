import { randomUUID } from 'node:crypto';
import { RaftqError } from '../errors.js';
import type { RequestBody, ResultName, WireAttributes, WireClusterStatus, WireOutgoing, WireQueueInfo } from '../proto/client-wire.js';
import type { Ok } from './connection.js';
import { AckBatcher } from './ack-batcher.js';
import { Consumer, type MessageHandler } from './consumer.js';
import { Message, type Settler } from './message.js';
import { MessageStream } from './message-stream.js';
import { type CallOptions, Router } from './router.js';
import type {
  BatchEntry,
  Body,
  ClientOptions,
  ClusterStatus,
  ConsumeOptions,
  MessagesOptions,
  QueueAttributes,
  QueueInfo,
  ReceiveOptions,
  SendBatchResult,
  SendOptions,
  SendResult,
  MessageOptions,
} from './types.js';

const utf8 = new TextEncoder();

/**
 * Connects to a raftq cluster over the binary protocol. Resolves once one node answered (so a
 * wrong address fails here, after retrying for retryTimeoutMs); from then on the client finds
 * the leader and moves between nodes by itself.
 *
 * ```ts
 * const client = await connect({ nodes: ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'] });
 * await client.createQueue('jobs');
 * await client.send('jobs', 'hello');
 * const [m] = await client.receive('jobs', { waitMs: 1000 });
 * await m?.ack();
 * await client.close();
 * ```
 */
export async function connect(options: ClientOptions): Promise<Client> {
  const client = new Client(options);
  try {
    await client.cluster();
  } catch (e) {
    await client.close();
    throw e;
  }
  return client;
}

/**
 * A raftq client: queue management, sends (idempotent: retries never duplicate), receives,
 * acks, and push consumers. Every operation retries transparently on connection loss and leader
 * change (see ClientOptions); failures are RaftqError with a stable `code`.
 */
export class Client {
  /** This client's producer id: with a per-send sequence number it deduplicates retried sends. */
  readonly producerId: string;
  readonly #router: Router;
  readonly #acks: AckBatcher;
  readonly #settler: Omit<Settler, 'settled'>;
  /** Sequence number of the last send. Invariant: strictly increasing per producerId. */
  #sequence = 0;
  readonly #consumers = new Set<Consumer | MessageStream>();

  /** Prefer connect(), which also checks that the cluster is reachable. */
  constructor(options: ClientOptions) {
    this.producerId = options.producerId ?? randomUUID();
    this.#router = new Router({
      nodes: [...options.nodes],
      connectTimeoutMs: positive(options.connectTimeoutMs, 3000, 'connectTimeoutMs'),
      requestTimeoutMs: positive(options.requestTimeoutMs, 15_000, 'requestTimeoutMs'),
      retryTimeoutMs: positive(options.retryTimeoutMs, 30_000, 'retryTimeoutMs', true),
      retryDelayMs: positive(options.retryDelayMs, 50, 'retryDelayMs'),
      retryDelayMsMax: positive(options.retryDelayMsMax, 2000, 'retryDelayMsMax'),
      keepAliveMs: positive(options.keepAliveMs, 10_000, 'keepAliveMs'),
      name: options.name ?? 'raftq-client',
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
    });
    this.#acks = new AckBatcher(this.#router);
    this.#settler = {
      ack: (q, r) => this.ack(q, r),
      nack: (q, r, d) => this.nack(q, r, { delayMs: d }),
      changeVisibility: (q, r, v) => this.changeVisibility(q, r, v),
    };
  }

  // ---- queues ----

  /**
   * Creates a queue; idempotent when it exists with the same attributes (then `created` is
   * false), QUEUE_EXISTS when they differ.
   */
  async createQueue(name: string, attributes: QueueAttributes = {}, tags?: Readonly<Record<string, string>>): Promise<QueueInfo & { readonly created: boolean }> {
    const res = await this.#call({ createQueue: { queue: name, attributes: attributesToWire(attributes), ...(tags === undefined ? {} : { tags: { ...tags } }) } }, 'createQueue');
    return { ...queueFromWire(res.queue, name), created: res.created };
  }

  /** Deletes a queue and its messages; returns how many messages it held. */
  async deleteQueue(name: string): Promise<{ deletedMessages: number }> {
    const res = await this.#router.call({ deleteQueue: { queue: name } }, 'deleteQueue', { doneIfAfterUnknown: 'QUEUE_NOT_FOUND' });
    return { deletedMessages: res?.deletedMessages ?? 0 };
  }

  /** Deletes every message of a queue; returns how many. */
  async purgeQueue(name: string): Promise<{ purgedMessages: number }> {
    const res = await this.#call({ purgeQueue: { queue: name } }, 'purgeQueue');
    return { purgedMessages: res.purgedMessages };
  }

  /** Changes some attributes of a queue (`fifo` cannot change); returns the queue. */
  async setQueueAttributes(name: string, attributes: QueueAttributes): Promise<QueueInfo> {
    const res = await this.#call({ setQueueAttributes: { queue: name, attributes: attributesToWire(attributes) } }, 'setQueueAttributes');
    return queueFromWire(res.queue, name);
  }

  /** A queue with its statistics (a linearizable read). QUEUE_NOT_FOUND when it does not exist. */
  async getQueue(name: string): Promise<QueueInfo> {
    const res = await this.#call({ getQueue: { queue: name } }, 'getQueue');
    return queueFromWire(res.queue, name);
  }

  /** Every queue, by name (a linearizable read). */
  async listQueues(): Promise<QueueInfo[]> {
    const res = await this.#call({ listQueues: {} }, 'listQueues');
    return res.queues.map((q) => queueFromWire(q, q.name));
  }

  // ---- producing ----

  /**
   * Enqueues one message; resolves once it is committed on a majority of nodes (fsynced) and
   * applied. Retries never duplicate it: the send carries this client's producer id and a
   * sequence number (or `idempotencyKey`), which the cluster deduplicates for 5 minutes.
   */
  async send(queue: string, body: Body, options: MessageOptions & SendOptions = {}): Promise<SendResult> {
    const { idempotencyKey, ...message } = options;
    const res = await this.#enqueue(queue, [{ ...message, body }], idempotencyKey);
    const first = res.messages[0];
    if (first === undefined) throw new RaftqError('INTERNAL', 'enqueue returned no message id');
    return { id: first.id, offset: first.offset, duplicate: res.duplicate };
  }

  /** Enqueues 1..100 messages atomically (all or none), idempotently like send(). */
  async sendBatch(queue: string, entries: ReadonlyArray<Body | BatchEntry>, options: SendOptions = {}): Promise<SendBatchResult> {
    const messages = entries.map((e) => (typeof e === 'string' || e instanceof Uint8Array ? { body: e } : e));
    return this.#enqueue(queue, messages, options.idempotencyKey);
  }

  async #enqueue(queue: string, entries: readonly BatchEntry[], idempotencyKey: string | undefined): Promise<SendBatchResult> {
    const messages = entries.map(outgoing);
    // The sequence is taken once: every retry of this send carries the same key.
    const key = idempotencyKey !== undefined ? { idempotencyKey } : { producer: { producerId: this.producerId, sequence: ++this.#sequence } };
    const res = await this.#call({ enqueue: { queue, messages, ...key } }, 'enqueue');
    return { messages: res.messages.map((m) => ({ id: m.id, offset: m.offset })), duplicate: res.duplicate };
  }

  // ---- consuming ----

  /**
   * Receives up to `max` messages (default 1), waiting up to `waitMs` for one when none is
   * visible. Each message stays invisible to others for its visibility timeout; ack it when done.
   */
  async receive(queue: string, options: ReceiveOptions = {}): Promise<Message[]> {
    const waitMs = options.waitMs ?? 0;
    const vis = options.visibilityTimeoutMs;
    const res = await this.#call(
      { receive: { queue, max: options.max ?? 1, waitMs, ...(vis !== undefined ? { visibilityTimeoutMs: vis } : {}) } },
      'receive',
      { extraTimeoutMs: waitMs },
    );
    return res.messages.map((m) => new Message(queue, m, this.#settler));
  }

  /**
   * Deletes a received message. Resolves also when it was already deleted; rejects with
   * STALE_RECEIPT when a later delivery superseded this receipt (the message stays).
   * Acks issued together are sent as one request.
   */
  ack(queue: string, receipt: string): Promise<void> {
    return this.#acks.ack(queue, receipt);
  }

  /** Returns a received message to the queue, visible again after `delayMs` (default 0). */
  async nack(queue: string, receipt: string, options: { delayMs?: number } = {}): Promise<void> {
    await this.#call({ nack: { queue, receipt, delayMs: options.delayMs ?? 0 } }, 'nack', { unknownIfAfterUnknown: 'STALE_RECEIPT' });
  }

  /** Sets a received message's lease to end `visibilityTimeoutMs` from now (extend or shorten). */
  async changeVisibility(queue: string, receipt: string, visibilityTimeoutMs: number): Promise<void> {
    await this.#call({ changeVisibility: { queue, receipt, visibilityTimeoutMs } }, 'changeVisibility', { unknownIfAfterUnknown: 'STALE_RECEIPT' });
  }

  /** Adds tags to a queue (replacing the values of keys it has); at most 50 tags in the end. */
  async tagQueue(queue: string, tags: Readonly<Record<string, string>>): Promise<void> {
    await this.#call({ tagQueue: { queue, tags: { ...tags } } }, 'tagQueue');
  }

  /** Removes tags from a queue by key (keys it does not have are ignored). */
  async untagQueue(queue: string, keys: readonly string[]): Promise<void> {
    await this.#call({ untagQueue: { queue, keys: [...keys] } }, 'untagQueue');
  }

  /**
   * Moves every message of a dead-letter queue back to its source queue, or every one to
   * `destination` when given; returns how many, and the task's id (taskIndex, 0 from a server
   * that predates it).
   */
  async redrive(queue: string, destination?: string): Promise<{ moved: number; taskIndex: number }> {
    const res = await this.#call({ redrive: destination === undefined ? { queue } : { queue, destination } }, 'redrive');
    return { moved: res.moved, taskIndex: res.taskIndex ?? 0 };
  }

  /**
   * Consumes `queue` with a push subscription: `handler` runs for each message, at most
   * `concurrency` at once; the message is acked when it returns and nacked when it throws.
   * At most `prefetch` messages are delivered and not yet settled (flow control by credit).
   * Survives node failures (it subscribes again). `close()` stops it cleanly.
   */
  consume(queue: string, handler: MessageHandler, options: ConsumeOptions = {}): Consumer {
    const c = new Consumer(this.#router, this.#settler, queue, handler, options);
    this.#consumers.add(c);
    void c.closed.finally(() => this.#consumers.delete(c));
    return c;
  }

  /**
   * The messages of `queue` as an async iterator, pushed by the cluster with at most
   * `prefetch` delivered and not yet settled: ack or nack each one. Breaking out of the loop
   * unsubscribes.
   */
  messages(queue: string, options: MessagesOptions = {}): MessageStream {
    const s = new MessageStream(this.#router, this.#settler, queue, options);
    this.#consumers.add(s);
    void s.finished.then(() => this.#consumers.delete(s));
    return s;
  }

  // ---- cluster ----

  /** The Raft status of the node the client is connected to, and the cluster's members. */
  async cluster(): Promise<ClusterStatus> {
    return clusterFromWire(await this.#call({ clusterStatus: {} }, 'clusterStatus'));
  }

  /** Hands leadership to node `to` (an id such as "n2"); resolves once it leads. */
  async transferLeader(to: string): Promise<string> {
    const res = await this.#call({ transferLeader: { to } }, 'transferLeader');
    return res.leader;
  }

  /**
   * Stops consumers (waiting for running handlers, see Consumer.close), then closes every
   * connection. Operations still in progress fail with UNAVAILABLE. Leaves no timers or sockets.
   */
  async close(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.close().catch(() => {})));
    await this.#router.close();
  }

  async #call<K extends ResultName>(body: RequestBody, expect: K, opts: CallOptions = {}): Promise<Ok<K>> {
    const res = await this.#router.call(body, expect, opts);
    if (res === undefined) throw new RaftqError('INTERNAL', `no ${expect} result`);
    return res;
  }
}

function positive(v: number | undefined, fallback: number, name: string, allowZero = false): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new RangeError(`connect: ${name} must be a positive number of milliseconds`);
  return v;
}

function bodyBytes(b: Body): Uint8Array {
  if (typeof b === 'string') return utf8.encode(b);
  if (b instanceof Uint8Array) return b;
  throw new TypeError('a message body must be a string or a Uint8Array');
}

function outgoing(e: BatchEntry): WireOutgoing {
  const m: WireOutgoing = { body: bodyBytes(e.body) };
  if (e.attributes !== undefined) m.attributes = { ...e.attributes };
  if (e.delayMs !== undefined) m.delayMs = e.delayMs;
  if (e.groupId !== undefined) m.groupId = e.groupId;
  if (e.dedupId !== undefined) m.dedupId = e.dedupId;
  return m;
}

function attributesToWire(a: QueueAttributes): WireAttributes {
  const out: WireAttributes = {};
  for (const [k, v] of Object.entries(a)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function queueFromWire(q: WireQueueInfo | null, name: string): QueueInfo {
  if (q === null || q.attributes === null || q.stats === null) throw new RaftqError('INTERNAL', `incomplete queue info for ${name}`);
  // Field by field: decoded protobuf objects keep zero values on their prototype.
  const a = q.attributes;
  const s = q.stats;
  return {
    name: q.name,
    attributes: {
      visibilityTimeoutMs: a.visibilityTimeoutMs,
      delayMs: a.delayMs,
      retentionMs: a.retentionMs,
      maxMessageBytes: a.maxMessageBytes,
      maxReceiveCount: a.maxReceiveCount,
      deadLetterQueue: a.deadLetterQueue,
      fifo: a.fifo,
      contentBasedDeduplication: a.contentBasedDeduplication,
      receiveWaitTimeMs: a.receiveWaitTimeMs,
      redriveAllowPolicy: a.redriveAllowPolicy,
    },
    createdAtMs: q.createdAtMs,
    stats: { visible: s.visible, inFlight: s.inFlight, delayed: s.delayed, oldestMessageAgeMs: s.oldestMessageAgeMs, deadLettered: s.deadLettered },
    // fromEntries defines own properties, so a key such as "__proto__" stays a plain tag.
    tags: Object.fromEntries(Object.entries(q.tags ?? {})),
    ...(q.lastRedrive === null || q.lastRedrive === undefined
      ? {}
      : { lastRedrive: { taskIndex: q.lastRedrive.taskIndex, startedAtMs: q.lastRedrive.startedAtMs, moved: q.lastRedrive.moved, destination: q.lastRedrive.destination } }),
  };
}

/** A ClusterStatus result in the client's public shape. */
export function clusterFromWire(s: WireClusterStatus): ClusterStatus {
  return {
    id: s.id,
    role: s.role,
    leader: s.leader === '' ? null : s.leader,
    term: s.term,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    lastIndex: s.lastIndex,
    snapshotIndex: s.snapshotIndex,
    nodes: s.nodes.map((n) => ({
      id: n.id,
      voter: n.voter,
      peer: n.peer,
      ...(n.http !== '' ? { http: n.http } : {}),
      ...(n.client !== '' ? { client: n.client } : {}),
      ...(n.match !== null && n.match !== undefined ? { match: n.match } : {}),
      ...(n.state !== '' ? { state: n.state } : {}),
      ...(n.connected !== null && n.connected !== undefined ? { connected: n.connected } : {}),
    })),
  };
}
