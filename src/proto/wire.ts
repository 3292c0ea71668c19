/**
 * A minimal protobuf wire-format writer and reader for the hot paths (one log entry per
 * message, several records per apply). The schemas stay in src/proto/*.proto and protobufjs
 * stays the reference: every hand-written codec built on this module is tested to produce the
 * same bytes as protobufjs and to decode protobufjs bytes to the same values.
 *
 * Why not protobufjs here: its Writer builds a linked list of operations per field and its
 * decoders allocate a message instance that callers then copy into plain objects; on a 2-core
 * machine running three nodes that was several microseconds and a dozen short-lived objects per
 * message. This writer fills one growing scratch buffer and copies the result out once; the
 * reader walks the input without copying.
 *
 * Strings use protobufjs's own UTF-8 routines so that even unpaired surrogates encode to the
 * same bytes, and decoding rejects invalid UTF-8 as protobufjs does for proto3.
 */
import protobuf from 'protobufjs';

const utf8 = protobuf.util.utf8;

/** Protobuf wire types. */
export const wireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** Largest integer a varint field of ours may hold: numbers are exact below 2^53. */
const varintMax = Number.MAX_SAFE_INTEGER;

/**
 * Appends protobuf fields to a growing buffer. Single use per encode: reset() starts over.
 * Invariant: 0 <= #pos <= #buf.length.
 */
export class ProtoWriter {
  #buf: Buffer;
  #pos = 0;
  /** Scratch for doubles: written through the Float64Array, copied out of the byte view. */
  readonly #f64 = new Float64Array(1);
  readonly #f64Bytes = new Uint8Array(this.#f64.buffer);

  /** @param initialBytes first capacity; the buffer doubles as needed. */
  constructor(initialBytes = 1024) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Forgets everything written. */
  reset(): this {
    this.#pos = 0;
    return this;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  /** A field key: field number and wire type. */
  tag(field: number, type: number): this {
    return this.uint((field << 3) | type);
  }

  /** A varint of a non-negative integer below 2^53. */
  uint(n: number): this {
    if (!(Number.isInteger(n) && n >= 0 && n <= varintMax)) throw new RangeError(`varint out of range: ${n}`);
    this.#ensure(8);
    const buf = this.#buf;
    while (n >= 0x80) {
      buf[this.#pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.#pos++] = n;
    return this;
  }

  /** A 64-bit IEEE double, little-endian. */
  double(x: number): this {
    this.#ensure(8);
    this.#f64[0] = x;
    this.#buf.set(this.#f64Bytes, this.#pos);
    this.#pos += 8;
    return this;
  }

  /** A 4-byte big-endian unsigned integer (a frame's length prefix; not a protobuf type). */
  fixed32be(n: number): this {
    this.#ensure(4);
    this.#buf.writeUInt32BE(n, this.#pos);
    this.#pos += 4;
    return this;
  }

  /** A bool as a varint 0 or 1. */
  bool(b: boolean): this {
    return this.uint(b ? 1 : 0);
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): this {
    this.uint(b.length);
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  /** A length-prefixed UTF-8 string (protobufjs's encoding, surrogates included). */
  string(s: string): this {
    if (s.length < 128 && isAscii(s)) {
      // The common case (queue names, ids): one byte per character, no UTF-8 machinery.
      this.#ensure(s.length + 1);
      const buf = this.#buf;
      buf[this.#pos++] = s.length;
      for (let i = 0; i < s.length; i++) buf[this.#pos++] = s.charCodeAt(i);
      return this;
    }
    const n = utf8.length(s);
    this.uint(n);
    this.#ensure(n);
    utf8.write(s, this.#buf, this.#pos);
    this.#pos += n;
    return this;
  }

  /**
   * Starts a length-delimited sub-message: reserves one byte for its length. Returns the mark
   * to hand to join() once the sub-message's fields are written.
   */
  fork(): number {
    this.#ensure(1);
    return this.#pos++;
  }

  /** Ends the sub-message started at `mark`: writes its length, moving it if it needs more bytes. */
  join(mark: number): this {
    const len = this.#pos - mark - 1;
    let size = 1;
    for (let v = len; v >= 0x80; v = Math.floor(v / 0x80)) size++;
    if (size > 1) {
      this.#ensure(size - 1);
      this.#buf.copyWithin(mark + size, mark + 1, this.#pos);
      this.#pos += size - 1;
    }
    let at = mark;
    let v = len;
    while (v >= 0x80) {
      this.#buf[at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[at] = v;
    return this;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** A copy of what was written (a pooled Buffer when small). */
  finish(): Uint8Array {
    const out = Buffer.allocUnsafe(this.#pos);
    out.set(new Uint8Array(this.#buf.buffer, this.#buf.byteOffset, this.#pos));
    return out;
  }

  /**
   * What was written, without a copy: for a writer made for one message of a size computed in
   * advance (`new ProtoWriter(exactBytes)`). The writer must not be used afterwards.
   */
  take(): Uint8Array {
    return this.#pos === this.#buf.length ? this.#buf : this.#buf.subarray(0, this.#pos);
  }
}

/** Bytes of the varint encoding of `n` (a non-negative integer below 2^53). */
export function varintBytes(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Bytes of a length-delimited field with a one-byte key: key, length varint, contents. */
export function delimitedBytes(contentBytes: number): number {
  return 1 + varintBytes(contentBytes) + contentBytes;
}

/**
 * Thrown inside a hand-written decoder on input it leaves to the protobufjs reference path (a
 * known field with another wire type, a second oneof member, ...): the caller catches it and
 * falls back, so both paths agree on every input.
 */
export class NotFastPath extends Error {
  override readonly name = 'NotFastPath';
}

/** Throws NotFastPath unless the field key `tag` has wire type `type`. */
export function expectWireType(tag: number, type: number): void {
  if ((tag & 7) !== type) throw new NotFastPath();
}

/** Thrown by ProtoReader on bytes that are not valid protobuf for the reader's expectations. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

/**
 * Reads protobuf fields from a byte range without copying. Every read checks bounds and throws
 * WireFormatError on truncated or malformed input.
 * Invariant: #start <= #pos <= #end <= buf.length.
 */
export class ProtoReader {
  /** The input as a Buffer view (same indexes), for latin1 string slices. */
  readonly #buf: Buffer;
  #pos: number;
  readonly #end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf instanceof Buffer ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#pos = start;
    this.#end = end;
  }

  /** A reader over [start, end) of the same input. */
  static #over(buf: Buffer, start: number, end: number): ProtoReader {
    return new ProtoReader(buf, start, end);
  }

  /** True once every byte of the range was read. */
  get done(): boolean {
    return this.#pos >= this.#end;
  }

  /** The next field key (field number << 3 | wire type). */
  tag(): number {
    const t = this.uint();
    if (t > 0xffffffff) throw new WireFormatError('field key out of range');
    if (t >>> 3 === 0) throw new WireFormatError('field number 0'); // illegal, as protobufjs says
    return t;
  }

  /** A varint; values of 2^53 and above are refused (they would not be exact). */
  uint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) throw new WireFormatError('truncated varint');
      const b = this.#buf[this.#pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > varintMax) throw new WireFormatError('varint beyond 2^53');
        return result;
      }
      scale *= 0x80;
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  /** A bool varint. */
  bool(): boolean {
    return this.uint() !== 0;
  }

  /** A 64-bit IEEE double, little-endian. */
  double(): number {
    if (this.#pos + 8 > this.#end) throw new WireFormatError('truncated double');
    f64Bytes.set(this.#buf.subarray(this.#pos, this.#pos + 8));
    this.#pos += 8;
    return f64[0]!;
  }

  /** The start and end of a length-delimited field's contents; the reader moves past it. */
  #lengthDelimited(): [number, number] {
    const len = this.uint();
    const start = this.#pos;
    if (len > this.#end - start) throw new WireFormatError('length-delimited field runs past its message');
    this.#pos = start + len;
    return [start, start + len];
  }

  /** Length-prefixed bytes, as a view into the input (use bytesCopy to keep them). */
  bytes(): Uint8Array {
    const [start, end] = this.#lengthDelimited();
    return new Uint8Array(this.#buf.buffer, this.#buf.byteOffset + start, end - start);
  }

  /**
   * Length-prefixed bytes, copied: a plain Uint8Array over a pooled Buffer slab.
   * `new Uint8Array(n)` above 64 bytes gets a backing store of its own (a malloc and GC
   * tracking each), which cost more than the rest of a decode.
   */
  bytesCopy(): Uint8Array {
    const [start, end] = this.#lengthDelimited();
    const out = Buffer.allocUnsafe(end - start);
    this.#buf.copy(out, 0, start, end);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  /** A length-prefixed UTF-8 string; invalid UTF-8 throws (as protobufjs does for proto3). */
  string(): string {
    const [start, end] = this.#lengthDelimited();
    if (start === end) return '';
    if (end - start <= 64) {
      // Short ASCII strings (queue names, ids) without a TextDecoder call.
      const buf = this.#buf;
      let ascii = true;
      for (let i = start; i < end; i++) if (buf[i]! >= 0x80) ascii = false;
      if (ascii) return buf.toString('latin1', start, end);
    }
    try {
      return utf8.readStrict(this.#buf, start, end);
    } catch (cause) {
      throw new WireFormatError('invalid UTF-8 in a string field', { cause });
    }
  }

  /** A reader over a length-delimited sub-message. */
  sub(): ProtoReader {
    const [start, end] = this.#lengthDelimited();
    return ProtoReader.#over(this.#buf, start, end);
  }

  /** Skips a field of wire type `type` (groups are refused). */
  skip(type: number): void {
    switch (type) {
      case wireType.varint:
        this.uint();
        return;
      case wireType.fixed64:
        this.#advance(8);
        return;
      case wireType.bytes:
        this.#lengthDelimited();
        return;
      case wireType.fixed32:
        this.#advance(4);
        return;
      default:
        throw new WireFormatError(`unsupported wire type ${type}`);
    }
  }

  #advance(n: number): void {
    if (this.#pos + n > this.#end) throw new WireFormatError('truncated field');
    this.#pos += n;
  }
}

/** Whether every UTF-16 unit of `s` is below 0x80. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
