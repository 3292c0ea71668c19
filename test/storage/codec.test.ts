/** CRC-32C, entry values and snapshot chunk framing. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEntryValue, encodeEntryValue } from '../../src/storage/codec.js';
import { crc32c, crc32cBytewise } from '../../src/storage/crc32.js';
import { decodeSnapshotChunk, encodeSnapshotChunks, type StatePair } from '../../src/storage/snapshot-chunks.js';
import { entry, utf8 } from './helpers.js';

async function collect(pairs: readonly StatePair[], chunkBytesMax: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const c of encodeSnapshotChunks((async function* () {
    yield* pairs;
  })(), chunkBytesMax)) chunks.push(c);
  return chunks;
}

describe('crc32c', () => {
  it('matches the standard check value and chains', () => {
    expect(crc32c(utf8('123456789'))).toBe(0xe3069283);
    expect(crc32c(utf8('56789'), crc32c(utf8('1234')))).toBe(0xe3069283);
  });

  it('slicing-by-8 equals the bytewise reference for every length, offset and seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(7), fc.nat({ max: 0xffffffff }), (bytes, offset, seed) => {
        const view = bytes.subarray(Math.min(offset, bytes.length));
        expect(crc32c(view, seed)).toBe(crc32cBytewise(view, seed));
      }),
    );
  });
});

describe('entry values', () => {
  it('round-trip and detect an entry stored under the wrong index', () => {
    const e = entry(12, 3);
    const decoded = decodeEntryValue(12, encodeEntryValue(e));
    expect({ ...decoded, data: Array.from(decoded.data) }).toEqual({ ...e, data: Array.from(e.data) });
    expect(() => decodeEntryValue(13, encodeEntryValue(e))).toThrow(/log\[13\].*checksum/);
    expect(() => decodeEntryValue(12, new Uint8Array(3))).toThrow(/log\[12\]/);
  });
});

describe('snapshot chunks', () => {
  it('round-trip any pairs within the chunk bound (a larger pair travels alone)', async () => {
    const pair = fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 }));
    await fc.assert(
      fc.asyncProperty(fc.array(pair, { maxLength: 30 }), fc.integer({ min: 64, max: 1024 }), async (pairs, bound) => {
        const chunks = await collect(pairs, bound);
        const decoded = chunks.flatMap((c, i) => decodeSnapshotChunk(c, i));
        expect(decoded.map(([k, v]) => [Array.from(k), Array.from(v)])).toEqual(pairs.map(([k, v]) => [Array.from(k), Array.from(v)]));
        for (const [i, c] of chunks.entries()) {
          if (c.length > bound) expect(decodeSnapshotChunk(c, i)).toHaveLength(1);
        }
      }),
      { numRuns: 50 },
    );
  });

  it.each([
    ['shorter than the checksum', (c: Uint8Array) => c.subarray(0, 2), /checksum/],
    ['flipped byte', (c: Uint8Array) => Uint8Array.from(c, (b, i) => (i === 6 ? b ^ 1 : b)), /checksum mismatch/],
    ['truncated', (c: Uint8Array) => c.subarray(0, c.length - 1), /checksum mismatch/],
  ])('reject a chunk: %s', async (_, damage, message) => {
    const [chunk] = await collect([[utf8('key'), utf8('value')]], 1024);
    expect(() => decodeSnapshotChunk(damage(chunk!), 7)).toThrow(message);
    expect(() => decodeSnapshotChunk(damage(chunk!), 7)).toThrow(/chunk 7/);
  });
});
