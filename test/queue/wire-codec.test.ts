/**
 * The hand-written protobuf codecs (src/proto/wire.ts and the fast paths of src/queue/codec.ts)
 * against protobufjs, the reference: the same bytes out, the same values back, for random
 * inputs including empty and default values, -0, NaN, unpaired surrogates and large bodies.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command, EnqueueMessage } from '../../src/queue/commands.js';
import { decodeCommand, decodeCommandWithProtobufjs, encodeCommand, encodeCommandWithProtobufjs } from '../../src/queue/codec.js';
import { ProtoReader, ProtoWriter, WireFormatError } from '../../src/proto/wire.js';
import { runOptions } from './arbitraries.js';

const text = fc.oneof(fc.constantFrom('', 'a', 'jobs', '\ud800', '\udc00x', 'é€😀'), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 }));
const number = fc.oneof(fc.constantFrom(0, -0, 1, NaN, Infinity, 2 ** 53 - 1, 1500.5), fc.double());

const message: fc.Arbitrary<EnqueueMessage> = fc.record(
  {
    body: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ minLength: 200, maxLength: 300 })),
    attributes: fc.dictionary(text, text, { maxKeys: 3 }),
    delayMs: number,
    groupId: text,
    dedupId: text,
  },
  { requiredKeys: ['body'] },
);

const enqueue: fc.Arbitrary<Command> = fc.record({
  queue: text,
  messages: fc.array(message, { maxLength: 4 }),
  producerKey: fc.option(fc.oneof(fc.record({ idempotencyKey: text }), fc.record({ producerId: text, sequence: number })), { nil: undefined }),
}).map(({ queue, messages, producerKey }): Command => ({ type: 'enqueue', queue, messages, ...(producerKey === undefined ? {} : { producerKey }) }));

/** Whether `s` has no unpaired surrogate (String#isWellFormed is ES2024, beyond our lib). */
function isWellFormed(s: string): boolean {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

describe('enqueue command codec', () => {
  it('writes exactly the bytes protobufjs writes', () => {
    fc.assert(
      fc.property(enqueue, (cmd) => {
        expect(Buffer.from(encodeCommand(cmd)).toString('hex')).toBe(Buffer.from(encodeCommandWithProtobufjs(cmd)).toString('hex'));
      }),
      runOptions(500),
    );
  });

  it('decodes protobufjs bytes to what the protobufjs path decodes', () => {
    fc.assert(
      fc.property(enqueue, (cmd) => {
        const bytes = encodeCommandWithProtobufjs(cmd);
        const reference = decodeCommandWithProtobufjs(bytes);
        // Also from a Buffer with an offset, as LevelDB and sockets hand them out.
        const padded = Buffer.concat([Buffer.from([9, 9, 9]), Buffer.from(bytes)]).subarray(3);
        for (const input of [bytes, padded]) {
          const fast = decodeCommand(input);
          // Unpaired surrogates encode to bytes that proto3 decoding refuses: both paths refuse
          // them with the same code (their messages name different low-level causes).
          if (reference instanceof Error) expect(fast instanceof Error ? fast.code : fast).toBe(reference.code);
          else expect(fast).toEqual(reference);
        }
      }),
      runOptions(500),
    );
  });

  it('refuses truncated and corrupted bytes as INVALID_ARGUMENT, never throwing', () => {
    fc.assert(
      fc.property(enqueue, fc.nat(), fc.nat(255), (cmd, at, byte) => {
        const bytes = Uint8Array.from(encodeCommand(cmd));
        const truncated = bytes.subarray(0, Math.max(1, at % bytes.length));
        const corrupted = Uint8Array.from(bytes);
        corrupted[at % bytes.length] = byte;
        for (const b of [truncated, corrupted]) {
          const r = decodeCommand(b);
          if (r instanceof Error) expect(r.code).toBe('INVALID_ARGUMENT');
          else expect(typeof r.type).toBe('string');
        }
      }),
      runOptions(500),
    );
  });

  it('ack commands: protobufjs bytes and values', () => {
    const ack = fc.record({ queue: text, receipts: fc.array(text, { maxLength: 5 }) }).map(({ queue, receipts }): Command => ({ type: 'ack', queue, receipts }));
    fc.assert(
      fc.property(ack, (cmd) => {
        const bytes = encodeCommandWithProtobufjs(cmd);
        expect(Buffer.from(encodeCommand(cmd)).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
        const reference = decodeCommandWithProtobufjs(bytes);
        const fast = decodeCommand(bytes);
        if (reference instanceof Error) expect(fast instanceof Error ? fast.code : fast).toBe(reference.code);
        else expect(fast).toEqual(reference);
      }),
      runOptions(300),
    );
  });

  it('decodes the other commands through protobufjs unchanged', () => {
    const cmds: Command[] = [
      { type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 5 } },
      { type: 'receive', queue: 'q', max: 3 },
      { type: 'expire' },
    ];
    for (const cmd of cmds) expect(decodeCommand(encodeCommand(cmd))).toEqual(decodeCommandWithProtobufjs(encodeCommandWithProtobufjs(cmd)));
  });
});

describe('ProtoWriter and ProtoReader', () => {
  it('round-trip varints, doubles, strings, bytes and nested messages of any length', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.double(), text, fc.uint8Array({ maxLength: 300 })), { maxLength: 20 }), (rows) => {
        const w = new ProtoWriter(4);
        for (const [n, x, s, b] of rows) {
          const mark = w.fork();
          w.tag(1, 0).uint(n).tag(2, 1).double(x).tag(3, 2).string(s).tag(4, 2).bytes(b);
          w.join(mark);
        }
        const r = new ProtoReader(w.finish());
        for (const [n, x, s, b] of rows) {
          const sub = r.sub();
          expect(sub.tag()).toBe(8);
          expect(sub.uint()).toBe(n);
          expect(sub.tag()).toBe(17);
          expect(Object.is(sub.double(), x)).toBe(true);
          expect(sub.tag()).toBe(26);
          if (isWellFormed(s)) expect(sub.string()).toBe(s);
          else expect(() => sub.string()).toThrow(WireFormatError);
          expect(sub.tag()).toBe(34);
          expect(Array.from(sub.bytes())).toEqual(Array.from(b));
          expect(sub.done).toBe(true);
        }
        expect(r.done).toBe(true);
      }),
      runOptions(200),
    );
  });

  it('throws WireFormatError on truncation and on a varint beyond 2^53', () => {
    expect(() => new ProtoReader(Uint8Array.of(0x80)).uint()).toThrow(WireFormatError);
    expect(() => new ProtoReader(Uint8Array.of(0x0a, 0x05, 1)).bytes()).toThrow(WireFormatError);
    expect(() => new ProtoReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)).uint()).toThrow(WireFormatError);
    expect(() => new ProtoReader(Uint8Array.of(1, 2, 3)).double()).toThrow(WireFormatError);
  });
});
