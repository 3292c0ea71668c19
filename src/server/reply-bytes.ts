import { RaftqError } from '../errors.js';

/**
 * The primitives of the binary reply layout (queue-reply-binary.ts), little-endian:
 * - u8, u32;
 * - num: a float64, so every JS number (offsets, counts, ms timestamps) round-trips exactly;
 * - str: u32 byte length | UTF-8 (a lone surrogate becomes U+FFFD, as in any UTF-8 text);
 * - bytes: u32 byte length | raw bytes (no base64).
 *
 * Sizes for cut-to-fit come from `strBytesBound` / `bytesFieldBytes`, from lengths alone.
 */

/** Bytes of a u32 length prefix. */
export const lengthPrefixBytes = 4;
/** Bytes of a num field. */
export const numBytes = 8;

/** Upper bound of a str field from the string's length: UTF-8 takes at most 3 bytes per UTF-16 unit. */
export function strBytesBound(s: string): number {
  return lengthPrefixBytes + 3 * s.length;
}

/** Exact bytes of a bytes field. */
export function bytesFieldBytes(b: Uint8Array): number {
  return lengthPrefixBytes + b.byteLength;
}

/**
 * Appends fields to a buffer sized up front from a bound.
 * Invariant: #pos <= #buf.byteLength (asserted by DataView's range checks: a bound too small throws RangeError).
 */
export class ReplyWriter {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(bytesBound: number) {
    this.#buf = new Uint8Array(bytesBound);
    this.#view = new DataView(this.#buf.buffer);
  }

  u8(v: number): void {
    this.#view.setUint8(this.#pos, v);
    this.#pos += 1;
  }

  u32(v: number): void {
    this.#view.setUint32(this.#pos, v, true);
    this.#pos += 4;
  }

  num(v: number): void {
    this.#view.setFloat64(this.#pos, v, true);
    this.#pos += numBytes;
  }

  str(s: string): void {
    const start = this.#pos + lengthPrefixBytes;
    let written = 0;
    // Ids, receipts and attribute names are short and ASCII: a plain loop beats encodeInto's
    // call overhead there. Anything else takes encodeInto, which writes at most 3 bytes per
    // UTF-16 unit: the room strBytesBound reserved.
    if (s.length <= asciiLoopCharsMax) {
      for (; written < s.length; written++) {
        const c = s.charCodeAt(written);
        if (c >= 0x80) break;
        this.#buf[start + written] = c;
      }
    }
    if (written < s.length) written = encoder.encodeInto(s, this.#buf.subarray(start)).written;
    this.u32(written);
    this.#pos += written;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.byteLength);
    this.#buf.set(b, this.#pos);
    this.#pos += b.byteLength;
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

/** Reads fields back; any read past the end, or bytes left over, is INTERNAL (an undecodable reply). */
export class ReplyReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#pos++);
  }

  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  num(): number {
    this.#need(numBytes);
    const v = this.#view.getFloat64(this.#pos, true);
    this.#pos += numBytes;
    return v;
  }

  str(): string {
    const n = this.u32();
    this.#need(n);
    const start = this.#pos;
    this.#pos += n;
    if (n <= asciiLoopCharsMax) {
      let s = '';
      for (let i = start; i < start + n; i++) {
        const c = this.#buf[i]!;
        if (c >= 0x80) return decoder.decode(this.#buf.subarray(start, start + n));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return decoder.decode(this.#buf.subarray(start, start + n));
  }

  /** A view into the frame, not a copy: the reply lives no longer than the request it answers. */
  bytes(): Uint8Array {
    const n = this.u32();
    this.#need(n);
    const b = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }

  /** Throws unless every byte was read. */
  end(): void {
    if (this.#pos !== this.#buf.byteLength) throw undecodable(`${this.#buf.byteLength - this.#pos} bytes left over`);
  }

  #need(n: number): void {
    if (this.#pos + n > this.#buf.byteLength) throw undecodable('truncated');
  }
}

/** The error of a reply that does not decode. */
export function undecodable(why: string): RaftqError {
  return new RaftqError('INTERNAL', `undecodable binary reply from the leader: ${why}`);
}

const encoder = new TextEncoder();
/** Invalid UTF-8 decodes to U+FFFD, as protobuf strings do: the leader wrote these bytes from strings. */
const decoder = new TextDecoder();

/** Strings up to this many UTF-16 units (or bytes) take the ASCII loop before the codec. */
const asciiLoopCharsMax = 64;
