/**
 * The shapes of the binary client protocol's messages as protobufjs decodes them (see
 * client-wire.ts for the decoding rules). Types only, so that client-wire.ts and
 * client-wire-fast.ts can both use them without importing each other.
 */

/** Queue attributes as sent by a client (each optional). Times in milliseconds. */
export interface WireAttributes {
  visibilityTimeoutMs?: number | null;
  delayMs?: number | null;
  retentionMs?: number | null;
  maxMessageBytes?: number | null;
  maxReceiveCount?: number | null;
  deadLetterQueue?: string | null;
  fifo?: boolean | null;
  contentBasedDeduplication?: boolean | null;
  receiveWaitTimeMs?: number | null;
  redriveAllowPolicy?: string | null;
}

/** One message of an Enqueue. */
export interface WireOutgoing {
  body: Uint8Array;
  attributes?: Record<string, string>;
  delayMs?: number | null;
  groupId?: string | null;
  dedupId?: string | null;
}

/** The arguments of every request op, keyed by the op's field name in Request. */
export interface RequestOps {
  hello: { client?: string; token?: string };
  ping: Record<string, never>;
  createQueue: { queue: string; attributes?: WireAttributes | null; tags?: Record<string, string> };
  tagQueue: { queue: string; tags?: Record<string, string> };
  untagQueue: { queue: string; keys?: string[] };
  deleteQueue: { queue: string };
  purgeQueue: { queue: string };
  setQueueAttributes: { queue: string; attributes?: WireAttributes | null };
  getQueue: { queue: string };
  listQueues: Record<string, never>;
  enqueue: {
    queue: string;
    messages: WireOutgoing[];
    idempotencyKey?: string | null;
    producer?: { producerId: string; sequence: number } | null;
    /** Decoded only: which producer key is set. */
    producerKey?: 'idempotencyKey' | 'producer';
  };
  receive: { queue: string; max: number; visibilityTimeoutMs?: number | null; waitMs?: number };
  ack: { queue: string; receipts: string[] };
  nack: { queue: string; receipt: string; delayMs?: number };
  changeVisibility: { queue: string; receipt: string; visibilityTimeoutMs: number };
  redrive: { queue: string; destination?: string | null };
  clusterStatus: Record<string, never>;
  transferLeader: { to: string };
  subscribe: { queue: string; visibilityTimeoutMs?: number | null; credit: number };
  credit: { subscription: number; messages: number };
  unsubscribe: { subscription: number };
}

/** The name of a request op. */
export type RequestOpName = keyof RequestOps;

/** Exactly one op with its arguments, as a client builds it. */
export type RequestBody = { [K in RequestOpName]: { [P in K]: RequestOps[K] } }[RequestOpName];

/** A decoded request: its id and the one op that is set. */
export type DecodedRequest = { [K in RequestOpName]: { readonly id: number; readonly op: K; readonly args: RequestOps[K] } }[RequestOpName];

/** A node and its addresses ('' when unknown). */
export interface WireNodeRef {
  id: string;
  client: string;
  http: string;
}

/** An error response: a stable code of src/errors.ts, a message, and the leader when known. */
export interface WireError {
  code: string;
  message: string;
  leader?: WireNodeRef | null;
}

/** A queue as reported by getQueue / listQueues. */
export interface WireQueueInfo {
  name: string;
  attributes: {
    visibilityTimeoutMs: number;
    delayMs: number;
    retentionMs: number;
    maxMessageBytes: number;
    maxReceiveCount: number;
    deadLetterQueue: string;
    fifo: boolean;
    contentBasedDeduplication: boolean;
    receiveWaitTimeMs: number;
    redriveAllowPolicy: string;
  } | null;
  createdAtMs: number;
  stats: { visible: number; inFlight: number; delayed: number; oldestMessageAgeMs: number; deadLettered: number } | null;
  tags?: Record<string, string>;
  lastRedrive?: { taskIndex: number; startedAtMs: number; moved: number; destination: string } | null;
}

/** A delivered message. */
export interface WireIncoming {
  id: string;
  offset: number;
  body: Uint8Array;
  receipt: string;
  receiveCount: number;
  enqueuedAtMs: number;
  attributes: Record<string, string>;
  groupId: string;
  sentAtMs?: number;
  firstReceivedAtMs?: number;
  dedupId?: string;
}

/** One member of the cluster as ClusterStatus reports it. */
export interface WireNodeInfo {
  id: string;
  voter: boolean;
  peer: string;
  http: string;
  client: string;
  match?: number | null;
  state: string;
  connected?: boolean | null;
}

/** ClusterStatus: the answering node's Raft state and the members. */
export interface WireClusterStatus {
  id: string;
  role: string;
  leader: string;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  nodes: WireNodeInfo[];
}

/** The value of every response result, keyed by its field name in Response. */
export interface ResultTypes {
  error: WireError;
  hello: { nodeId: string; leader?: WireNodeRef | null; frameBytesMax: number; requestsInflightMax: number; idleTimeoutMs: number };
  pong: Record<string, never>;
  createQueue: { created: boolean; queue: WireQueueInfo | null };
  deleteQueue: { deletedMessages: number };
  purgeQueue: { purgedMessages: number };
  setQueueAttributes: { queue: WireQueueInfo | null };
  getQueue: { queue: WireQueueInfo | null };
  listQueues: { queues: WireQueueInfo[] };
  enqueue: { messages: Array<{ id: string; offset: number }>; duplicate: boolean };
  receive: { messages: WireIncoming[]; deadLettered: number };
  ack: { outcomes: string[] };
  nack: { outcome: string };
  changeVisibility: { outcome: string };
  redrive: { moved: number; taskIndex?: number };
  clusterStatus: WireClusterStatus;
  transferLeader: { leader: string };
  subscribe: Record<string, never>;
  unsubscribe: Record<string, never>;
  delivery: { message: WireIncoming | null };
  tagQueue: Record<string, never>;
  untagQueue: Record<string, never>;
}

/** The name of a response result. */
export type ResultName = keyof ResultTypes;

/** Exactly one result with its value, as a server builds it. */
export type ResultBody = { [K in ResultName]: { [P in K]: ResultTypes[K] } }[ResultName];

/** A decoded response; `type` is undefined for a result this client does not know. */
export type DecodedResponse =
  | { [K in ResultName]: { readonly id: number; readonly leader: WireNodeRef | undefined; readonly type: K; readonly value: ResultTypes[K] } }[ResultName]
  | { readonly id: number; readonly leader: WireNodeRef | undefined; readonly type: undefined; readonly value: undefined };
