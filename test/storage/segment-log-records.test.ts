/** Record framing: round trip, and the three verdicts of decoding (valid, incomplete, bad). */
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/storage/crc32.js';
import { decodeRecord, encodeRecord, recordHeaderBytes, recordPayloadBytesMax } from '../../src/storage/segment-log/record-format.js';

const sample = { term: 7, index: 2 ** 40 + 3, payload: new TextEncoder().encode('hello segment') };

describe('segment record framing', () => {
  it('round-trips term, index (beyond 32 bits) and payload', () => {
    const bytes = encodeRecord(sample);
    expect(bytes.length).toBe(recordHeaderBytes + sample.payload.length);
    const d = decodeRecord(bytes, 0);
    expect(d.type).toBe('valid');
    if (d.type !== 'valid') return;
    expect(d.recordBytes).toBe(bytes.length);
    expect(d.record.term).toBe(7);
    expect(d.record.index).toBe(2 ** 40 + 3);
    expect(Array.from(d.record.payload)).toEqual(Array.from(sample.payload));
  });

  it('decodes at an offset and an empty payload', () => {
    const a = encodeRecord({ term: 1, index: 1, payload: new Uint8Array(0) });
    const b = encodeRecord(sample);
    const both = new Uint8Array([...a, ...b]);
    expect(decodeRecord(both, 0).type).toBe('valid');
    const d = decodeRecord(both, a.length);
    expect(d.type === 'valid' && d.record.index).toBe(sample.index);
  });

  it('says incomplete for every proper prefix', () => {
    const bytes = encodeRecord(sample);
    for (let n = 0; n < bytes.length; n++) expect(decodeRecord(bytes.subarray(0, n), 0).type, `prefix ${n}`).toBe('incomplete');
  });

  it('says bad for any flipped bit after the length field', () => {
    const bytes = encodeRecord(sample);
    for (let i = 4; i < bytes.length; i++) {
      const damaged = bytes.slice();
      damaged[i]! ^= 0x10;
      expect(decodeRecord(damaged, 0).type, `byte ${i}`).toBe('bad');
    }
  });

  it('says bad for an impossible length and for zeros', () => {
    const zeros = new Uint8Array(64);
    expect(decodeRecord(zeros, 0).type).toBe('bad');
    const huge = encodeRecord(sample);
    new DataView(huge.buffer).setUint32(0, recordPayloadBytesMax + 1000, true);
    expect(decodeRecord(huge, 0).type).toBe('bad');
  });

  it('says bad for an index that is not a safe integer, even with a valid checksum', () => {
    // Build by hand: index high word 2^21 (beyond 2^53), checksum recomputed over it.
    const bytes = encodeRecord(sample);
    const view = new DataView(bytes.buffer);
    view.setUint32(20, 0x200000, true);
    const fixed = encodeRecordChecksum(bytes);
    expect(decodeRecord(fixed, 0)).toEqual({ type: 'bad', reason: 'index is 0 or not a safe integer' });
  });
});

/** Recomputes the checksum field of an encoded record. */
function encodeRecordChecksum(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(4, crc32c(out.subarray(8)), true);
  return out;
}
