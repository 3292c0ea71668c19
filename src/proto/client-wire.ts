/**
 * Typed access to the binary client protocol of client.proto, shared by the server
 * (src/api/binary-*.ts) and the client library (src/client). protobufjs decodes into objects of
 * the schema's shape: unset scalars read as their zero value, unset sub-messages and proto3
 * `optional` scalars as null, repeated fields as arrays, maps as objects; a oneof's virtual field
 * (`op`, `result`) names the member that is set. The interfaces below describe exactly that shape,
 * so the one cast per decode is the only unchecked step.
 */
import { decodeEnqueueRequest, decodeEnqueueResponse, encodeEnqueueRequestFrame, encodeEnqueueResponseFrame } from './client-wire-fast.js';
import { encodeFrame } from './framing.js';
import { loadProto } from './load.js';

const root = loadProto('client.proto');
const requestType = root.lookupType('raftq.client.Request');
const responseType = root.lookupType('raftq.client.Response');

/** Queue attributes as sent by a client (each optional). Times in milliseconds. */
export interface WireAttributes {
  visibilityTimeoutMs?: number | null;
  delayMs?: number | null;
  retentionMs?: number | null;
  maxMessageBytes?: number | null;
  maxReceiveCount?: number | null;
  deadLetterQueue?: string | null;
  fifo?: boolean | null;
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
  hello: { client?: string };
  ping: Record<string, never>;
  createQueue: { queue: string; attributes?: WireAttributes | null };
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
  redrive: { queue: string };
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
  } | null;
  createdAtMs: number;
  stats: { visible: number; inFlight: number; delayed: number; oldestMessageAgeMs: number; deadLettered: number } | null;
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
  redrive: { moved: number };
  clusterStatus: WireClusterStatus;
  transferLeader: { leader: string };
  subscribe: Record<string, never>;
  unsubscribe: Record<string, never>;
  delivery: { message: WireIncoming | null };
}

/** The name of a response result. */
export type ResultName = keyof ResultTypes;

/** Exactly one result with its value, as a server builds it. */
export type ResultBody = { [K in ResultName]: { [P in K]: ResultTypes[K] } }[ResultName];

/** A decoded response; `type` is undefined for a result this client does not know. */
export type DecodedResponse =
  | { [K in ResultName]: { readonly id: number; readonly leader: WireNodeRef | undefined; readonly type: K; readonly value: ResultTypes[K] } }[ResultName]
  | { readonly id: number; readonly leader: WireNodeRef | undefined; readonly type: undefined; readonly value: undefined };

/**
 * A length-prefixed Request frame. Precondition: 0 < id < 2^32. Enqueues take the hand-written
 * path (client-wire-fast.ts: the same bytes).
 */
export function encodeRequestFrame(id: number, body: RequestBody): Uint8Array {
  if ('enqueue' in body) return encodeEnqueueRequestFrame(id, body.enqueue);
  return encodeRequestFrameWithProtobufjs(id, body);
}

/** encodeRequestFrame through protobufjs only (the reference of the hand-written path). */
export function encodeRequestFrameWithProtobufjs(id: number, body: RequestBody): Uint8Array {
  return encodeFrame(requestType, { id, ...body });
}

/** A length-prefixed Response frame (an enqueue result without a leader: hand-written, same bytes). */
export function encodeResponseFrame(id: number, leader: WireNodeRef | undefined, body: ResultBody): Uint8Array {
  if (leader === undefined && 'enqueue' in body) return encodeEnqueueResponseFrame(id, body.enqueue);
  return encodeResponseFrameWithProtobufjs(id, leader, body);
}

/** encodeResponseFrame through protobufjs only (the reference of the hand-written path). */
export function encodeResponseFrameWithProtobufjs(id: number, leader: WireNodeRef | undefined, body: ResultBody): Uint8Array {
  return encodeFrame(responseType, leader === undefined ? { id, ...body } : { id, leader, ...body });
}

/**
 * Decodes a Request body. Throws (an Error with a protobufjs message) when the bytes are not a
 * Request; returns op undefined when no op is set (an op from a newer protocol).
 */
export function decodeRequest(body: Uint8Array): DecodedRequest | { readonly id: number; readonly op: undefined; readonly args: undefined } {
  const fast = decodeEnqueueRequest(body);
  if (fast !== undefined) return { id: fast.id, op: 'enqueue', args: fast.args };
  return decodeRequestWithProtobufjs(body);
}

/** decodeRequest through protobufjs only (the reference of the hand-written path). */
export function decodeRequestWithProtobufjs(body: Uint8Array): DecodedRequest | { readonly id: number; readonly op: undefined; readonly args: undefined } {
  const m = requestType.decode(body) as unknown as Record<string, unknown> & { id: number; op?: RequestOpName };
  const op = m.op;
  if (op === undefined) return { id: m.id, op: undefined, args: undefined };
  return { id: m.id, op, args: m[op] } as DecodedRequest;
}

/** Decodes a Response body; throws when the bytes are not a Response. */
export function decodeResponse(body: Uint8Array): DecodedResponse {
  const fast = decodeEnqueueResponse(body);
  if (fast !== undefined) return { id: fast.id, leader: undefined, type: 'enqueue', value: fast.value };
  return decodeResponseWithProtobufjs(body);
}

/** decodeResponse through protobufjs only (the reference of the hand-written path). */
export function decodeResponseWithProtobufjs(body: Uint8Array): DecodedResponse {
  const m = responseType.decode(body) as unknown as Record<string, unknown> & { id: number; result?: ResultName; leader: WireNodeRef | null };
  const leader = m.leader ?? undefined;
  const type = m.result;
  if (type === undefined) return { id: m.id, leader, type: undefined, value: undefined };
  return { id: m.id, leader, type, value: m[type] } as DecodedResponse;
}
