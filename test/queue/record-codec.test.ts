/** The hand-written record codecs (src/queue/record-codec.ts) against protobufjs, the reference. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeDedup,
  decodeDedupPage,
  decodeMessage,
  decodePayload,
  encodeDedup,
  encodeDedupPage,
  encodeMessage,
  encodePayload,
  type DedupPageEntry,
  type DedupRecord,
  type MessageRecord,
  type PayloadRecord,
} from '../../src/queue/records.js';
import {
  decodeDedupPageWithProtobufjs,
  decodeDedupWithProtobufjs,
  decodeMessageWithProtobufjs,
  decodePayloadWithProtobufjs,
  encodeDedupPageWithProtobufjs,
  encodeDedupWithProtobufjs,
  encodeMessageWithProtobufjs,
  encodePayloadWithProtobufjs,
} from '../../src/queue/records-protobufjs.js';
import { runOptions } from './arbitraries.js';

const text = fc.oneof(fc.constantFrom('', 'g1', 'dlq', 'é€😀'), fc.string({ maxLength: 5 }));
const number = fc.oneof(fc.constantFrom(0, -0, 1, 2 ** 53 - 1, 1_700_000_000_123), fc.double({ noNaN: true }));

const messageRecord: fc.Arbitrary<MessageRecord> = fc.record({
  seq: number,
  enqueuedAtMs: number,
  visibleAtMs: number,
  receiveCount: number,
  deliveryIndex: number,
  groupId: text,
  sourceQueue: text,
});
const payloadRecord: fc.Arbitrary<PayloadRecord> = fc.record({
  body: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: 100, maxLength: 300 })),
  attributes: fc.dictionary(text, text, { maxKeys: 4 }),
  sentAtMs: number,
});
const dedupRecord: fc.Arbitrary<DedupRecord> = fc.record({
  key: text,
  createdAtMs: number,
  seqs: fc.array(number, { maxLength: 20 }),
  offsets: fc.array(number, { maxLength: 20 }),
});

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Checks one record kind: same bytes as protobufjs, same values decoded from them (also from a Buffer at an offset). */
function equivalent<T>(arb: fc.Arbitrary<T>, fast: (r: T) => Uint8Array, ref: (r: T) => Uint8Array, dec: (b: Uint8Array) => T, refDec: (b: Uint8Array) => T): void {
  fc.assert(
    fc.property(arb, (r) => {
      const bytes = ref(r);
      expect(hex(fast(r))).toBe(hex(bytes));
      const padded = Buffer.concat([Buffer.from([7, 7]), Buffer.from(bytes)]).subarray(2);
      expect(dec(bytes)).toEqual(refDec(bytes));
      expect(dec(padded)).toEqual(refDec(bytes));
    }),
    runOptions(400),
  );
}

describe('record codecs', () => {
  it('message records: protobufjs bytes and values', () => equivalent(messageRecord, encodeMessage, encodeMessageWithProtobufjs, decodeMessage, decodeMessageWithProtobufjs));
  it('payload records: protobufjs bytes and values', () => equivalent(payloadRecord, encodePayload, encodePayloadWithProtobufjs, decodePayload, decodePayloadWithProtobufjs));
  it('dedup records: protobufjs bytes and values', () => equivalent(dedupRecord, encodeDedup, encodeDedupWithProtobufjs, decodeDedup, decodeDedupWithProtobufjs));

  it('dedup pages: protobufjs bytes and values', () =>
    equivalent(
      fc.array(fc.record({ seq: number, record: dedupRecord }), { maxLength: 6 }) as fc.Arbitrary<DedupPageEntry[]>,
      encodeDedupPage,
      encodeDedupPageWithProtobufjs,
      decodeDedupPage,
      decodeDedupPageWithProtobufjs,
    ));

  it('reads unpacked repeated doubles and unknown fields as protobufjs does', () => {
    // key "k", seqs 1 and 2 unpacked (field 3, wire type 1), an unknown varint field 9.
    const b = Buffer.concat([Buffer.from([0x0a, 1, 0x6b, 0x19]), f64(1), Buffer.from([0x19]), f64(2), Buffer.from([0x48, 5])]);
    expect(decodeDedup(b)).toEqual(decodeDedupWithProtobufjs(b));
    expect(decodeDedup(b).seqs).toEqual([1, 2]);
    // A known field with an unexpected wire type goes to the reference decoder.
    const odd = Buffer.from([0x08, 0x05]);
    expect(decodeMessage(odd)).toEqual(decodeMessageWithProtobufjs(odd));
  });
});

function f64(x: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b;
}
