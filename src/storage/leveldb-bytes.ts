/**
 * Byte-level pieces of LevelDB's file formats (leveldb-verify.ts): masked CRC-32C, varints, and
 * a bounded positional reader. Nothing here knows raft or raftq's keys.
 */
import { readSync } from 'node:fs';
import { crc32c } from './crc32.js';

/** A damaged spot: what is wrong, at which byte of the file. */
export class FormatDamage extends Error {
  override readonly name = 'FormatDamage';
  constructor(
    readonly offset: number,
    detail: string,
  ) {
    super(detail);
  }
}

/** LevelDB's mask of a CRC stored in a file: rotate right by 15 bits, add a constant (mod 2^32). */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** The masked CRC-32C of `type` followed by `payload` (log records and table block trailers). */
export function maskedCrcOf(type: number, payload: Uint8Array, payloadFirst: boolean): number {
  typeScratch[0] = type;
  const crc = payloadFirst ? crc32c(typeScratch, crc32c(payload)) : crc32c(payload, crc32c(typeScratch));
  return maskCrc(crc);
}

/** Scratch for the one type byte a checksum covers (JS runs one call at a time). */
const typeScratch = new Uint8Array(1);

/** A cursor over a buffer decoding LevelDB varints; a read past the end throws FormatDamage. */
export class Cursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    /** Added to positions in error messages (the buffer's offset in its file). */
    readonly fileOffset: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint of up to 64 bits, as a number (exact below 2^53, which file numbers and sizes are). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.pos >= this.end) throw new FormatDamage(this.fileOffset + this.pos, 'varint runs past the end');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new FormatDamage(this.fileOffset + this.pos, 'varint longer than 10 bytes');
  }

  /** `n` bytes. */
  bytes(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw new FormatDamage(this.fileOffset + this.pos, `${n} bytes run past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A varint length followed by that many bytes. */
  lengthPrefixed(): Uint8Array {
    return this.bytes(this.varint());
  }
}

/**
 * Bound on the reader's window in bytes: 1 MiB keeps memory flat whatever the file size while
 * reading consecutive table blocks and log blocks in few system calls.
 */
export const readWindowBytesMax = 1024 * 1024;

/** Positional reads of one open file through a window of at most readWindowBytesMax bytes. */
export class WindowReader {
  #window: Buffer = Buffer.alloc(0);
  #windowAt = 0;
  constructor(
    readonly fd: number,
    readonly size: number,
  ) {}

  /** Bytes [offset, offset + length) of the file (a view valid until the next read). */
  read(offset: number, length: number): Buffer {
    if (offset < 0 || length < 0 || offset + length > this.size) throw new FormatDamage(offset, `read of ${length} bytes at ${offset} past the end (${this.size} bytes)`);
    if (offset >= this.#windowAt && offset + length <= this.#windowAt + this.#window.length) {
      return this.#window.subarray(offset - this.#windowAt, offset - this.#windowAt + length);
    }
    const want = Math.min(this.size - offset, Math.max(length, readWindowBytesMax));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, buf, got, want - got, offset + got);
      if (n === 0) throw new FormatDamage(offset + got, 'file shorter than its size');
      got += n;
    }
    this.#window = buf;
    this.#windowAt = offset;
    return buf.subarray(0, length);
  }
}
