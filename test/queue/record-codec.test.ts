/** The hand-written record codecs (src/queue/record-codec.ts) against protobufjs, the reference. */
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  decodeDedup,
  decodeDedupPage,
  decodeMessage,
  decodePayload,
  decodeQueue,
  encodeDedup,
  encodeDedupPage,
  encodeMessage,
  encodePayload,
  encodeQueue,
  type DedupPageEntry,
  type DedupRecord,
  type MessageRecord,
  type PayloadRecord,
  type QueueRecord,
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

const messageRecord: fc.Arbitrary<MessageRecord> = fc
  .record({
    seq: number,
    enqueuedAtMs: number,
    // Most messages were never moved: sentAtMs equals enqueuedAtMs and is not written.
    sentAtMs: fc.option(number, { nil: undefined }),
    firstReceivedAtMs: number,
    visibleAtMs: number,
    receiveCount: number,
    deliveryIndex: number,
    groupId: text,
    sourceQueue: text,
  })
  .map(({ sentAtMs, ...r }) => ({ ...r, sentAtMs: sentAtMs ?? r.enqueuedAtMs }));
const payloadRecord: fc.Arbitrary<PayloadRecord> = fc.record({
  body: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: 100, maxLength: 300 })),
  attributes: fc.dictionary(text, text, { maxKeys: 4 }),
  sentAtMs: number,
  dedupId: text,
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

/** The layouts of earlier releases, before the fields that must decode to their defaults. */
const oldSchema = protobuf.parse(
  `syntax = "proto3";
  message MessageRecordPb { double seq = 1; double enqueuedAtMs = 2; double visibleAtMs = 3; double receiveCount = 4; double deliveryIndex = 5; string groupId = 6; string sourceQueue = 7; }
  message AttributePb { string key = 1; string value = 2; }
  message PayloadRecordPb { bytes body = 1; repeated AttributePb attributes = 2; double sentAtMs = 3; }
  message QueueRecordPb {
    double id = 1; string name = 2; double visibilityTimeoutMs = 3; double delayMs = 4; double retentionMs = 5; double maxMessageBytes = 6;
    double maxReceiveCount = 7; string deadLetterQueue = 8; bool fifo = 9; double createdAtMs = 10; double nextOffset = 11;
    double deadLetteredCount = 12; double dedupFloorSeq = 13;
  }`,
  { keepCase: true },
).root;

function encodeOld(type: string, value: object): Uint8Array {
  const t = oldSchema.lookupType(type);
  return t.encode(t.fromObject(value)).finish();
}

describe('records of earlier releases', () => {
  it('a message record without sentAtMs and firstReceivedAtMs: sentAtMs = enqueuedAtMs, never received', () => {
    const old = { seq: 1280, enqueuedAtMs: 1_700_000_000_123, visibleAtMs: 1_700_000_030_123, receiveCount: 2, deliveryIndex: 17, groupId: 'g', sourceQueue: 'src' };
    const b = encodeOld('MessageRecordPb', old);
    const expected: MessageRecord = { ...old, sentAtMs: old.enqueuedAtMs, firstReceivedAtMs: 0 };
    expect(decodeMessage(b)).toEqual(expected);
    expect(decodeMessageWithProtobufjs(b)).toEqual(expected);
    // A message never moved encodes to the old bytes exactly.
    expect(hex(encodeMessage({ ...expected, firstReceivedAtMs: 0 }))).toBe(hex(b));
  });

  it('sentAtMs is kept even at 0, and read back as written', () => {
    const r: MessageRecord = { seq: 1, enqueuedAtMs: 5, sentAtMs: 0, firstReceivedAtMs: 3, visibleAtMs: 5, receiveCount: 0, deliveryIndex: 0, groupId: '', sourceQueue: '' };
    expect(decodeMessage(encodeMessage(r))).toEqual(r);
    expect(hex(encodeMessage(r))).toBe(hex(encodeMessageWithProtobufjs(r)));
  });

  it('a payload record without dedupId: dedupId ""', () => {
    const b = encodeOld('PayloadRecordPb', { body: Uint8Array.of(1, 2), attributes: [{ key: 'k', value: 'v' }], sentAtMs: 42 });
    const expected: PayloadRecord = { body: Uint8Array.of(1, 2), attributes: { k: 'v' }, sentAtMs: 42, dedupId: '' };
    expect(decodePayload(b)).toEqual(expected);
    expect(decodePayloadWithProtobufjs(b)).toEqual(expected);
    expect(hex(encodePayload(expected))).toBe(hex(b));
  });

  it('a queue record without the new attributes, tags and last redrive: their defaults', () => {
    const old = {
      id: 3, name: 'q.fifo', visibilityTimeoutMs: 30_000, delayMs: 0, retentionMs: 345_600_000, maxMessageBytes: 262_144,
      maxReceiveCount: 2, deadLetterQueue: 'd.fifo', fifo: true, createdAtMs: 1_700_000_000_000, nextOffset: 9, deadLetteredCount: 1, dedupFloorSeq: 7,
    };
    const b = encodeOld('QueueRecordPb', old);
    const expected: QueueRecord = {
      id: 3,
      name: 'q.fifo',
      attributes: {
        visibilityTimeoutMs: 30_000, delayMs: 0, retentionMs: 345_600_000, maxMessageBytes: 262_144, maxReceiveCount: 2, deadLetterQueue: 'd.fifo', fifo: true,
        contentBasedDeduplication: false, receiveWaitTimeMs: 0, redriveAllowPolicy: '',
      },
      createdAtMs: 1_700_000_000_000,
      nextOffset: 9,
      deadLetteredCount: 1,
      dedupFloorSeq: 7,
      tags: {},
    };
    expect(decodeQueue(b)).toEqual(expected);
    // A queue with default new fields encodes to the old bytes exactly.
    expect(hex(encodeQueue(expected))).toBe(hex(b));
  });

  it('queue records round-trip the new fields (tags sorted, a "__proto__" tag kept)', () => {
    const r: QueueRecord = {
      id: 1,
      name: 'dlq.fifo',
      attributes: {
        visibilityTimeoutMs: 1, delayMs: 2, retentionMs: 60_000, maxMessageBytes: 4, maxReceiveCount: 0, deadLetterQueue: '', fifo: true,
        contentBasedDeduplication: true, receiveWaitTimeMs: 20_000, redriveAllowPolicy: '{"redrivePermission":"denyAll"}',
      },
      createdAtMs: 10,
      nextOffset: 0,
      deadLetteredCount: 0,
      dedupFloorSeq: 0,
      tags: Object.fromEntries([['b', ''], ['__proto__', 'x'], ['a', '1']]),
      lastRedrive: { taskIndex: 77, startedAtMs: 11, moved: 0, destination: 'src.fifo' },
    };
    const back = decodeQueue(encodeQueue(r));
    expect(back).toEqual(r);
    expect(Object.keys(back.tags)).toEqual(['__proto__', 'a', 'b']);
    expect(Object.hasOwn(back.tags, '__proto__')).toBe(true);
  });
});
