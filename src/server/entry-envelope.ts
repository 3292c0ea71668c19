import { assert } from '../../raft/assert.js';

/**
 * The runtime's envelope around every normal log entry: a format byte, the leader's wall-clock
 * stamp (the only time the state machine ever sees), then the application command.
 *
 * Layout: u8 version (1) | f64 big-endian nowMs | payload.
 */
const envelopeVersion = 1;
const headerBytes = 9;

/** Wraps `payload` with the proposing leader's clock. */
export function encodeEntry(nowMs: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(headerBytes + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, envelopeVersion);
  view.setFloat64(1, nowMs);
  out.set(payload, headerBytes);
  return out;
}

/** Unwraps an entry written by encodeEntry. An unknown format is corruption: it asserts. */
export function decodeEntry(data: Uint8Array): { nowMs: number; payload: Uint8Array } {
  assert(data.byteLength >= headerBytes, () => `log entry of ${data.byteLength} bytes has no envelope`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  assert(view.getUint8(0) === envelopeVersion, () => `unknown log entry format ${view.getUint8(0)}`);
  return { nowMs: view.getFloat64(1), payload: data.subarray(headerBytes) };
}
