import { assert } from '../../raft/assert.js';
import type { ClockStamp } from './cluster-clock.js';

/**
 * The runtime's envelope around every normal log entry: a format byte, the proposing leader's
 * clock stamp (the only time the state machine ever sees, through cluster-clock.ts), then the
 * application command.
 *
 * Layout, version 2: u8 2 | f64 big-endian elapsedMs (leader's monotonic clock since its
 * term's origin) | f64 big-endian wallMs (leader's wall clock) | payload.
 * Version 1 (read only, older logs): u8 1 | f64 big-endian wall-clock stamp | payload.
 */
const envelopeVersion = 2;
const headerBytes = 17;
const legacyVersion = 1;
const legacyHeaderBytes = 9;
/** Scratch for reading the big-endian stamps without a DataView per entry. */
const stampBytes = new Uint8Array(8);
const stampView = new DataView(stampBytes.buffer);

/** Wraps `payload` with the proposing leader's clock stamp. */
export function encodeEntry(stamp: ClockStamp, payload: Uint8Array): Uint8Array {
  // A pooled Buffer: a fresh Uint8Array of this size would get a backing store of its own.
  const out = Buffer.allocUnsafe(headerBytes + payload.byteLength);
  out[0] = envelopeVersion;
  out.writeDoubleBE(stamp.elapsedMs, 1);
  out.writeDoubleBE(stamp.wallMs, 9);
  out.set(payload, headerBytes);
  return out;
}

/** Unwraps an entry written by encodeEntry (or by a version-1 leader). An unknown format is corruption: it asserts. */
export function decodeEntry(data: Uint8Array): { stamp: ClockStamp | { readonly legacyWallMs: number }; payload: Uint8Array } {
  assert(data.byteLength >= legacyHeaderBytes, () => `log entry of ${data.byteLength} bytes has no envelope`);
  if (data[0] === legacyVersion) return { stamp: { legacyWallMs: readDouble(data, 1) }, payload: data.subarray(legacyHeaderBytes) };
  assert(data[0] === envelopeVersion, () => `unknown log entry format ${data[0]}`);
  assert(data.byteLength >= headerBytes, () => `log entry of ${data.byteLength} bytes has no envelope`);
  return { stamp: { elapsedMs: readDouble(data, 1), wallMs: readDouble(data, 9) }, payload: data.subarray(headerBytes) };
}

function readDouble(data: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) stampBytes[i] = data[at + i]!;
  return stampView.getFloat64(0);
}
