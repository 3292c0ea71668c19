/**
 * Framing of applied-state snapshots as a stream of self-contained chunks, so a sender and a
 * receiver each hold at most one chunk in memory:
 *
 *   chunk = u32be crc32c(body) | body
 *   body  = { u32be keyLength | u32be valueLength | key | value }*
 *
 * A pair never straddles two chunks. A chunk holds pairs while it stays within the chunk bound;
 * a single pair larger than the bound travels alone in an oversized chunk.
 */
import { assert } from '../../raft/assert.js';
import { crc32c } from './crc32.js';
import { SnapshotFormatError } from './errors.js';

/**
 * Default bound on a chunk's size in bytes: 1 MiB keeps the transport's frames and both ends'
 * buffers small while amortizing per-chunk overhead (one checksum, one LevelDB batch).
 */
export const snapshotChunkBytesMax = 1024 * 1024;

const crcBytes = 4;
const pairHeaderBytes = 8;

/** A key/value pair of the applied state. */
export type StatePair = readonly [key: Uint8Array, value: Uint8Array];

/** Groups `pairs` into encoded chunks of at most `chunkBytesMax` bytes (see module comment). */
export async function* encodeSnapshotChunks(pairs: AsyncIterable<StatePair>, chunkBytesMax: number = snapshotChunkBytesMax): AsyncGenerator<Uint8Array> {
  assert(chunkBytesMax > crcBytes + pairHeaderBytes, () => `chunk bound ${chunkBytesMax} too small`);
  let pending: StatePair[] = [];
  let pendingBytes = crcBytes;
  for await (const pair of pairs) {
    const pairBytes = pairHeaderBytes + pair[0].length + pair[1].length;
    if (pending.length > 0 && pendingBytes + pairBytes > chunkBytesMax) {
      yield encodeChunk(pending, pendingBytes);
      pending = [];
      pendingBytes = crcBytes;
    }
    pending.push(pair);
    pendingBytes += pairBytes;
  }
  if (pending.length > 0) yield encodeChunk(pending, pendingBytes);
}

function encodeChunk(pairs: readonly StatePair[], chunkBytes: number): Uint8Array {
  const chunk = new Uint8Array(chunkBytes);
  const view = new DataView(chunk.buffer);
  let at = crcBytes;
  for (const [k, v] of pairs) {
    view.setUint32(at, k.length);
    view.setUint32(at + 4, v.length);
    chunk.set(k, at + pairHeaderBytes);
    chunk.set(v, at + pairHeaderBytes + k.length);
    at += pairHeaderBytes + k.length + v.length;
  }
  assert(at === chunkBytes, () => `chunk size ${at} != computed ${chunkBytes}`);
  view.setUint32(0, crc32c(chunk.subarray(crcBytes)));
  return chunk;
}

/**
 * Verifies and decodes one chunk. The pairs are views into `chunk`. Throws SnapshotFormatError
 * naming `chunkNumber` when the chunk is truncated or fails its checksum.
 */
export function decodeSnapshotChunk(chunk: Uint8Array, chunkNumber: number): StatePair[] {
  if (chunk.length < crcBytes) throw new SnapshotFormatError(chunkNumber, `${chunk.length} bytes is shorter than the checksum`);
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const stored = view.getUint32(0);
  if (stored !== crc32c(chunk.subarray(crcBytes))) throw new SnapshotFormatError(chunkNumber, 'checksum mismatch');
  const pairs: StatePair[] = [];
  let at = crcBytes;
  while (at < chunk.length) {
    if (at + pairHeaderBytes > chunk.length) throw new SnapshotFormatError(chunkNumber, `truncated pair header at byte ${at}`);
    const keyBytes = view.getUint32(at);
    const valueBytes = view.getUint32(at + 4);
    const end = at + pairHeaderBytes + keyBytes + valueBytes;
    if (end > chunk.length) throw new SnapshotFormatError(chunkNumber, `pair at byte ${at} runs past the chunk end`);
    const keyAt = at + pairHeaderBytes;
    pairs.push([chunk.subarray(keyAt, keyAt + keyBytes), chunk.subarray(keyAt + keyBytes, end)]);
    at = end;
  }
  return pairs;
}
