/** The one framing of raftq's TCP streams (peers, binary API, client): src/proto/framing.ts. */
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { FrameError } from '../../src/proto/frame-error.js';
import { FrameDecoder, encodeFrame, frameBytesMaxCeiling, frameHeader } from '../../src/proto/framing.js';

/** Fixed unless FC_SEED is set; fast-check prints the seed and path of any failure. */
const seed = Number(process.env['FC_SEED'] ?? 20240601);

function frame(body: Uint8Array): Uint8Array {
  return Buffer.concat([frameHeader(body.byteLength), body]);
}

function errorCode(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (err) {
    if (err instanceof FrameError) return err.code;
    throw err;
  }
}

describe('FrameDecoder', () => {
  it('reassembles frames from any chunking of the stream (property, fixed seed)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (bodies, cutSeeds) => {
          const stream = Buffer.concat(bodies.map(frame));
          const cuts = [...new Set(cutSeeds.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const decoder = new FrameDecoder(1024);
          const out: Uint8Array[] = [];
          let prev = 0;
          for (const cut of [...cuts, stream.length]) {
            out.push(...decoder.push(stream.subarray(prev, cut)));
            prev = cut;
          }
          expect(out.map((b) => Buffer.from(b))).toStrictEqual(bodies.map((b) => Buffer.from(b)));
          expect(decoder.pendingBytes).toBe(0);
          decoder.end();
        },
      ),
      { seed, numRuns: 300 },
    );
  });

  it('rejects an oversized length prefix before any body byte arrives', () => {
    const decoder = new FrameDecoder(1024);
    expect(decoder.push(new Uint8Array([0x00, 0x00]))).toStrictEqual([]);
    expect(errorCode(() => decoder.push(new Uint8Array([0x04, 0x01])))).toBe('FRAME_TOO_LARGE');
    expect(decoder.pendingBytes).toBe(0);
    // The stream is broken for good.
    expect(errorCode(() => decoder.push(frame(new Uint8Array(1))))).toBe('FRAME_TOO_LARGE');
  });

  it('accepts a frame of exactly frameBytesMax', () => {
    const decoder = new FrameDecoder(1024);
    expect(decoder.push(frame(new Uint8Array(1024)))).toHaveLength(1);
  });

  it('reports a stream that ends inside a header or a body as truncated', () => {
    const inHeader = new FrameDecoder(1024);
    inHeader.push(new Uint8Array([0, 0, 0]));
    expect(errorCode(() => inHeader.end())).toBe('TRUNCATED_FRAME');
    const inBody = new FrameDecoder(1024);
    inBody.push(frame(new Uint8Array(10)).subarray(0, 9));
    expect(errorCode(() => inBody.end())).toBe('TRUNCATED_FRAME');
  });

  it('returns a body lying within one chunk as a view, without copying', () => {
    const chunk = frame(new Uint8Array([1, 2, 3]));
    const [body] = new FrameDecoder(1024).push(chunk);
    expect(body?.buffer).toBe(chunk.buffer);
  });

  it('writes the length prefix in front of the encoded frame, big-endian', () => {
    const type = new protobuf.Type('Blob').add(new protobuf.Field('payload', 1, 'bytes'));
    const f = encodeFrame(type, { payload: new Uint8Array(300) });
    expect(new DataView(f.buffer, f.byteOffset).getUint32(0, false)).toBe(f.byteLength - 4);
    const [body] = new FrameDecoder(1024).push(f);
    expect(type.toObject(type.decode(body!))).toStrictEqual({ payload: Buffer.from(new Uint8Array(300)) });
  });

  it('throws RangeError for arguments no frame can have (a caller bug, not a FrameError)', () => {
    expect(() => frameHeader(-1)).toThrow(RangeError);
    expect(() => frameHeader(1.5)).toThrow(RangeError);
    expect(() => frameHeader(2 ** 32)).toThrow(RangeError);
    expect(frameHeader(2 ** 32 - 1)).toStrictEqual(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    expect(() => new FrameDecoder(0)).toThrow(RangeError);
    expect(() => new FrameDecoder(frameBytesMaxCeiling + 1)).toThrow(RangeError);
    expect(() => new FrameDecoder(frameBytesMaxCeiling)).not.toThrow();
  });
});
