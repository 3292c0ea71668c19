import { assert } from '../../raft/assert.js';

/**
 * The runtime's envelope around every normal log entry: a format byte, the leader's wall-clock
 * stamp (the only time the state machine ever sees), then the application command.
 *
 * Layout: u8 version (1) | f64 big-endian nowMs | payload.
 */
const envelopeVersion = 1;
const headerBytes = 9;
/** Scratch for reading the big-endian stamp without a DataView per entry. */
const stampBytes = new Uint8Array(8);
const stampView = new DataView(stampBytes.buffer);

/** Wraps `payload` with the proposing leader's clock. */
export function encodeEntry(nowMs: number, payload: Uint8Array): Uint8Array {
  // A pooled Buffer: a fresh Uint8Array of this size would get a backing store of its own.
  const out = Buffer.allocUnsafe(headerBytes + payload.byteLength);
  out[0] = envelopeVersion;
  out.writeDoubleBE(nowMs, 1);
  out.set(payload, headerBytes);
  return out;
}

/** Unwraps an entry written by encodeEntry. An unknown format is corruption: it asserts. */
export function decodeEntry(data: Uint8Array): { nowMs: number; payload: Uint8Array } {
  assert(data.byteLength >= headerBytes, () => `log entry of ${data.byteLength} bytes has no envelope`);
  assert(data[0] === envelopeVersion, () => `unknown log entry format ${data[0]}`);
  for (let i = 0; i < 8; i++) stampBytes[i] = data[1 + i]!;
  return { nowMs: stampView.getFloat64(0), payload: data.subarray(headerBytes) };
}
