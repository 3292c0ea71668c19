/**
 * The one length-prefixed framing of raftq's TCP streams: each frame is a 4-byte big-endian body
 * length followed by the body. Used by the peer transport (src/transport: PeerFrames between
 * nodes), the binary client API (src/api/binary-connection.ts) and the client library
 * (src/client/connection.ts). FrameDecoder turns an arbitrarily chunked byte stream back into
 * bodies and enforces the maximum frame size from the header alone, before it buffers a single
 * byte of the body.
 *
 * This module is in the bottom layer (the client imports it), so it imports nothing from raft/
 * or other src/ directories. Bytes from the network that break the framing throw FrameError
 * (frame-error.ts); a caller's bad argument throws RangeError, and a broken invariant of this
 * module an Error: both are bugs, never operating conditions.
 */
import protobuf from 'protobufjs';
import { FrameError } from './frame-error.js';

/** Throws an Error (a bug in this module) unless `condition` holds. */
function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`framing invariant broken: ${message}`);
}

/** Size of the length prefix in bytes. */
export const frameHeaderBytes = 4;

/**
 * Default largest frame body in bytes: 16 MiB. It must hold the largest RaftBatch the core
 * emits (its per-message byte limit times the messages one flush coalesces) and a snapshot
 * chunk with headroom, while bounding what a single (possibly hostile) peer can make this node
 * buffer per connection before a frame is complete.
 */
export const frameBytesMaxDefault = 16 * 1024 * 1024;

/** Hard ceiling for frameBytesMax: the length prefix is a uint32, and Buffers cap near 2 GiB. */
export const frameBytesMaxCeiling = 0x7fff_ffff - frameHeaderBytes;

/**
 * Encodes a protobuf message into one buffer that already holds its length prefix: the writer
 * reserves 4 bytes, the message is encoded after them, and the prefix is patched in place, so
 * the body is written into its final buffer exactly once (no header+body concatenation).
 */
export function encodeFrame(type: protobuf.Type, message: Readonly<Record<string, unknown>>): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.fixed32(0);
  type.encode(message, writer);
  const frame = writer.finish();
  const bodyBytes = frame.byteLength - frameHeaderBytes;
  new DataView(frame.buffer, frame.byteOffset, frameHeaderBytes).setUint32(0, bodyBytes, false);
  return frame;
}

/**
 * Prefixes an already encoded body with its length (two buffers, for a vectored write). Throws
 * RangeError unless bodyBytes is an integer in 0..2^32-1 (what a length prefix can express).
 */
export function frameHeader(bodyBytes: number): Uint8Array {
  if (!(Number.isInteger(bodyBytes) && bodyBytes >= 0 && bodyBytes <= 0xffff_ffff)) throw new RangeError(`a frame body of ${bodyBytes} bytes cannot be framed`);
  const header = new Uint8Array(frameHeaderBytes);
  new DataView(header.buffer).setUint32(0, bodyBytes, false);
  return header;
}

/**
 * Reassembles frame bodies from a TCP byte stream split and merged at arbitrary points.
 * After it throws once, the stream is unusable (framing is lost): every later push throws the
 * same error.
 */
export class FrameDecoder {
  readonly #frameBytesMax: number;
  /** Invariant: the concatenation of #chunks is the unconsumed stream; no chunk is empty. */
  #chunks: Uint8Array[] = [];
  /** Invariant: #bufferedBytes equals the sum of #chunks' lengths. */
  #bufferedBytes = 0;
  /** The body length of the frame being assembled, once its header was read; else -1. */
  #bodyBytes = -1;
  /** Set once the stream broke; every later push rethrows it. */
  #failure: FrameError | undefined;

  /**
   * @param frameBytesMax largest accepted body in bytes (see frameBytesMaxDefault); throws
   *   RangeError unless it is an integer in 1..frameBytesMaxCeiling.
   */
  constructor(frameBytesMax: number = frameBytesMaxDefault) {
    if (!(Number.isInteger(frameBytesMax) && frameBytesMax > 0 && frameBytesMax <= frameBytesMaxCeiling)) {
      throw new RangeError(`frameBytesMax ${frameBytesMax} is outside 1..${frameBytesMaxCeiling}`);
    }
    this.#frameBytesMax = frameBytesMax;
  }

  /** Bytes buffered that do not yet form a complete frame (non-zero at EOF = truncated). */
  get pendingBytes(): number {
    return this.#bufferedBytes;
  }

  /**
   * Feeds the next bytes of the stream; returns every body completed by them, in order. A body
   * lying within one chunk is a view of that chunk (no copy). Throws FrameError
   * FRAME_TOO_LARGE as soon as a header announces more than frameBytesMax.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure !== undefined) throw this.#failure;
    if (chunk.byteLength > 0) {
      this.#chunks.push(chunk);
      this.#bufferedBytes += chunk.byteLength;
    }
    const bodies: Uint8Array[] = [];
    for (;;) {
      if (this.#bodyBytes < 0) {
        if (this.#bufferedBytes < frameHeaderBytes) break;
        const header = this.#take(frameHeaderBytes);
        const bodyBytes = new DataView(header.buffer, header.byteOffset, frameHeaderBytes).getUint32(0, false);
        if (bodyBytes > this.#frameBytesMax) {
          this.#failure = new FrameError('FRAME_TOO_LARGE', `frame of ${bodyBytes} bytes exceeds frameBytesMax ${this.#frameBytesMax}`);
          this.#chunks = [];
          this.#bufferedBytes = 0;
          throw this.#failure;
        }
        this.#bodyBytes = bodyBytes;
      }
      if (this.#bufferedBytes < this.#bodyBytes) break;
      bodies.push(this.#take(this.#bodyBytes));
      this.#bodyBytes = -1;
    }
    return bodies;
  }

  /** Throws TRUNCATED_FRAME if the stream ended inside a frame; call on EOF. */
  end(): void {
    if (this.#failure !== undefined) return;
    if (this.#bufferedBytes > 0 || this.#bodyBytes >= 0) {
      this.#failure = new FrameError('TRUNCATED_FRAME', `stream ended inside a frame (${this.#bufferedBytes} bytes buffered)`);
      throw this.#failure;
    }
  }

  /** Removes and returns the first `n` buffered bytes. Precondition: n <= #bufferedBytes. */
  #take(n: number): Uint8Array {
    invariant(n <= this.#bufferedBytes, 'take beyond buffered bytes');
    this.#bufferedBytes -= n;
    const first = this.#chunks[0];
    if (n === 0) return new Uint8Array(0);
    invariant(first !== undefined, 'no chunk buffered');
    if (first.byteLength >= n) {
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0];
      invariant(c !== undefined, 'chunks ran out');
      const used = Math.min(c.byteLength, n - filled);
      out.set(c.subarray(0, used), filled);
      filled += used;
      if (used === c.byteLength) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(used);
    }
    return out;
  }
}
