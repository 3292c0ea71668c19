import { RaftqError } from '../errors.js';

/**
 * The payload of a request a follower forwards to the leader: the client's request id (so the
 * leader's logs carry the same id as the follower's and the client's) and the command.
 *
 * Layout: u8 idLength | id (UTF-8) | command.
 */
const requestIdBytesMax = 128;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a forwarded request. Ids longer than 128 bytes are cut. */
export function encodeForward(requestId: string, command: Uint8Array): Uint8Array {
  const id = encoder.encode(requestId).subarray(0, requestIdBytesMax);
  const out = new Uint8Array(1 + id.byteLength + command.byteLength);
  out[0] = id.byteLength;
  out.set(id, 1);
  out.set(command, 1 + id.byteLength);
  return out;
}

/** Decodes a forwarded request; a frame too short for its header is INVALID_ARGUMENT. */
export function decodeForward(bytes: Uint8Array): { requestId: string; command: Uint8Array } {
  const n = bytes[0];
  if (n === undefined || bytes.byteLength < 1 + n) throw new RaftqError('INVALID_ARGUMENT', 'malformed forwarded request');
  return { requestId: decoder.decode(bytes.subarray(1, 1 + n)), command: bytes.subarray(1 + n) };
}
