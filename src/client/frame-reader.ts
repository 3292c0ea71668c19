import { RaftqError } from '../errors.js';
import { frameHeaderBytes } from '../proto/client-wire.js';

/**
 * Splits a TCP byte stream into length-prefixed frame bodies (4-byte big-endian length, as in
 * src/transport/framing.ts, which the client cannot import: src/client depends only on src/proto
 * and the shared errors). Refuses a frame above `frameBytesMax` from its header alone. Chunks
 * are kept as a list and joined once per frame, so a large frame arriving in many small chunks
 * costs linear, not quadratic, copying.
 */
export class FrameReader {
  readonly #frameBytesMax: number;
  /** Invariant: the unconsumed stream is the concatenation of #chunks; none is empty. */
  #chunks: Buffer[] = [];
  /** Invariant: the sum of #chunks' lengths. */
  #buffered = 0;

  /** @param frameBytesMax largest accepted frame body, in bytes */
  constructor(frameBytesMax: number) {
    this.#frameBytesMax = frameBytesMax;
  }

  /** Feeds bytes; returns every body they complete. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const out: Buffer[] = [];
    while (this.#buffered >= frameHeaderBytes) {
      const head = this.#chunks[0]!.length >= frameHeaderBytes ? this.#chunks[0]! : this.#join();
      const bodyBytes = head.readUInt32BE(0);
      if (bodyBytes > this.#frameBytesMax) throw new RaftqError('TOO_LARGE', `server sent a frame of ${bodyBytes} bytes, above the limit of ${this.#frameBytesMax}`);
      if (this.#buffered < frameHeaderBytes + bodyBytes) break;
      const first = this.#chunks[0]!.length >= frameHeaderBytes + bodyBytes ? this.#chunks[0]! : this.#join();
      out.push(first.subarray(frameHeaderBytes, frameHeaderBytes + bodyBytes));
      const rest = first.subarray(frameHeaderBytes + bodyBytes);
      this.#buffered -= frameHeaderBytes + bodyBytes;
      if (rest.length > 0) this.#chunks[0] = rest;
      else this.#chunks.shift();
    }
    return out;
  }

  /** Joins every buffered chunk into one; returns it. */
  #join(): Buffer {
    const all = Buffer.concat(this.#chunks, this.#buffered);
    this.#chunks = [all];
    return all;
  }
}
