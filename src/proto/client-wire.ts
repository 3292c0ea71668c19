/**
 * Typed access to the binary client protocol of client.proto, shared by the server
 * (src/api/binary-*.ts) and the client library (src/client). protobufjs decodes into objects of
 * the schema's shape: unset scalars read as their zero value, unset sub-messages and proto3
 * `optional` scalars as null, repeated fields as arrays, maps as objects; a oneof's virtual field
 * (`op`, `result`) names the member that is set. The interfaces of client-wire-types.ts (re-exported
 * here) describe exactly that shape, so the one cast per decode is the only unchecked step.
 */
import { decodeEnqueueRequest, decodeEnqueueResponse, encodeEnqueueRequestFrame, encodeEnqueueResponseFrame } from './client-wire-fast.js';
import { FrameError } from './frame-error.js';
import { encodeFrame } from './framing.js';
import { loadProto } from './load.js';
import type { RequestOpName, RequestBody, DecodedRequest, WireNodeRef, ResultName, ResultBody, DecodedResponse } from './client-wire-types.js';

export type * from './client-wire-types.js';

const root = loadProto('client.proto');
const requestType = root.lookupType('raftq.client.Request');
const responseType = root.lookupType('raftq.client.Response');

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
 * Decodes a Request body. Throws FrameError MALFORMED_FRAME (the protobufjs error as its cause)
 * when the bytes are not a Request; returns op undefined when no op is set (an op from a newer
 * protocol).
 */
export function decodeRequest(body: Uint8Array): DecodedRequest | { readonly id: number; readonly op: undefined; readonly args: undefined } {
  const fast = decodeEnqueueRequest(body);
  if (fast !== undefined) return { id: fast.id, op: 'enqueue', args: fast.args };
  return decodeRequestWithProtobufjs(body);
}

/** decodeRequest through protobufjs only (the reference of the hand-written path). */
export function decodeRequestWithProtobufjs(body: Uint8Array): DecodedRequest | { readonly id: number; readonly op: undefined; readonly args: undefined } {
  let m: Record<string, unknown> & { id: number; op?: RequestOpName };
  try {
    m = requestType.decode(body) as unknown as Record<string, unknown> & { id: number; op?: RequestOpName };
  } catch (e) {
    // protobufjs throws plain Errors and RangeErrors; bytes from the network get the typed error.
    throw new FrameError('MALFORMED_FRAME', e instanceof Error ? e.message : String(e), { cause: e });
  }
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
