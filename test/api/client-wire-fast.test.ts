/**
 * The hand-written enqueue exchange of the binary client protocol (src/proto/client-wire-fast.ts)
 * against the protobufjs path of client-wire.ts: the same bytes encoded, the same values decoded
 * (read the way the server and the client library read them), and the same outcome on mangled
 * input, frame or error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeRequest,
  decodeRequestWithProtobufjs,
  decodeResponse,
  decodeResponseWithProtobufjs,
  encodeRequestFrame,
  encodeRequestFrameWithProtobufjs,
  encodeResponseFrame,
  encodeResponseFrameWithProtobufjs,
  type RequestOps,
  type WireOutgoing,
} from '../../src/proto/client-wire.js';

const seed = Number(process.env['FC_SEED'] ?? 20261201);
const text = fc.oneof(fc.constantFrom('', 'jobs', 'é€😀'), fc.string({ maxLength: 6 }));
const number = fc.oneof(fc.constantFrom(0, -0, 1, 2 ** 53 - 1, 1500.5), fc.double({ noNaN: true }));
const id = fc.integer({ min: 1, max: 0xffffffff });

const outgoing: fc.Arbitrary<WireOutgoing> = fc.record(
  { body: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: 200, maxLength: 300 })), attributes: fc.dictionary(text, text, { maxKeys: 3 }), delayMs: number, groupId: text, dedupId: text },
  { requiredKeys: ['body'] },
);
const enqueue: fc.Arbitrary<RequestOps['enqueue']> = fc
  .record({ queue: text, messages: fc.array(outgoing, { maxLength: 4 }), key: fc.option(fc.oneof(fc.record({ idempotencyKey: text }), fc.record({ producer: fc.record({ producerId: text, sequence: number }) })), { nil: undefined }) })
  .map(({ queue, messages, key }) => ({ queue, messages, ...(key ?? {}) }));
const result = fc.record({ messages: fc.array(fc.record({ id: text, offset: number }), { maxLength: 4 }), duplicate: fc.boolean() });

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What the server reads of a decoded enqueue request (binary-ops enqueueFromWire). */
function asRead(r: ReturnType<typeof decodeRequest>): unknown {
  if (r.op !== 'enqueue') return r;
  const a = r.args;
  return {
    id: r.id,
    queue: a.queue,
    messages: a.messages.map((m) => ({
      body: hex(m.body),
      attributes: m.attributes !== undefined && Object.keys(m.attributes).length > 0 ? { ...m.attributes } : undefined,
      delayMs: m.delayMs ?? undefined,
      groupId: m.groupId ?? undefined,
      dedupId: m.dedupId ?? undefined,
    })),
    key: a.producerKey === 'idempotencyKey' ? { idempotencyKey: a.idempotencyKey } : a.producerKey === 'producer' ? { producer: { producerId: a.producer?.producerId, sequence: a.producer?.sequence } } : undefined,
  };
}

/** What the client library reads of a decoded response. */
function asReadResponse(r: ReturnType<typeof decodeResponse>): unknown {
  if (r.type !== 'enqueue') return { id: r.id, type: r.type };
  return { id: r.id, leader: r.leader, messages: r.value.messages.map((m) => ({ id: m.id, offset: m.offset })), duplicate: r.value.duplicate };
}

function outcome<T>(f: () => T): T | string {
  try {
    return f();
  } catch (e) {
    return `throws ${e instanceof Error ? e.name : typeof e}`;
  }
}

describe('enqueue exchange of the client protocol', () => {
  it('requests: protobufjs bytes, and the same values read back (from a Buffer at an offset too)', () => {
    fc.assert(
      fc.property(id, enqueue, (i, args) => {
        const ref = encodeRequestFrameWithProtobufjs(i, { enqueue: args });
        expect(hex(encodeRequestFrame(i, { enqueue: args }))).toBe(hex(ref));
        const body = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(ref.subarray(4))]).subarray(3);
        expect(outcome(() => asRead(decodeRequest(body)))).toEqual(outcome(() => asRead(decodeRequestWithProtobufjs(body))));
      }),
      { seed, numRuns: 400 },
    );
  });

  it('responses: protobufjs bytes, and the same values read back', () => {
    fc.assert(
      fc.property(id, result, (i, r) => {
        const ref = encodeResponseFrameWithProtobufjs(i, undefined, { enqueue: r });
        expect(hex(encodeResponseFrame(i, undefined, { enqueue: r }))).toBe(hex(ref));
        const body = ref.subarray(4);
        expect(asReadResponse(decodeResponse(body))).toEqual(asReadResponse(decodeResponseWithProtobufjs(body)));
      }),
      { seed, numRuns: 400 },
    );
  });

  it('mangled frames: the same value or the same refusal as protobufjs', () => {
    fc.assert(
      fc.property(id, enqueue, result, fc.nat(), fc.nat(255), (i, args, r, at, byte) => {
        for (const frame of [encodeRequestFrame(i, { enqueue: args }), encodeResponseFrame(i, undefined, { enqueue: r })]) {
          const body = Uint8Array.from(frame.subarray(4));
          const corrupted = Uint8Array.from(body);
          corrupted[at % body.length] = byte;
          for (const b of [body.subarray(0, at % body.length), corrupted]) {
            expect(outcome(() => asRead(decodeRequest(b)))).toEqual(outcome(() => asRead(decodeRequestWithProtobufjs(b))));
            expect(outcome(() => asReadResponse(decodeResponse(b)))).toEqual(outcome(() => asReadResponse(decodeResponseWithProtobufjs(b))));
          }
        }
      }),
      { seed, numRuns: 400 },
    );
  });
});
