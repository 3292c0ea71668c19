/**
 * Fuzz target 3, binary frames: the binary client protocol's decoding door as
 * src/api/binary-connection.ts runs it (FrameDecoder with the connection's frame limit, then
 * decodeRequest of src/proto/client-wire.ts with its hand-written enqueue path,
 * client-wire-fast.ts) on arbitrary byte chunks split at random points, random valid-length
 * frames with random payloads, and bit-flipped encodings of real requests. Only FrameError may
 * come out, and the decoder never buffers more than one frame's limit. Then the ops the decoded
 * requests carry run through src/api/binary-ops.ts runOp over a real state machine
 * (fake-node.ts): a result or a client RaftqError, and refusals leave the store unchanged.
 * Seed and case count: test/fuzz/fuzz-config.ts (RAFTQ_FUZZ_SEED, RAFTQ_FUZZ_RUNS).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { runOp, type SimpleOp } from '../../src/api/binary-ops.js';
import { RaftqError } from '../../src/errors.js';
import { decodeRequest, encodeRequestFrame, type DecodedRequest, type RequestBody, type WireOutgoing } from '../../src/proto/client-wire.js';
import { FrameError } from '../../src/proto/frame-error.js';
import { FrameDecoder, frameHeader, frameHeaderBytes } from '../../src/proto/framing.js';
import { fakeNode, setUpQueues, stopped, type Watch } from './fake-node.js';
import { fuzzOptions, fuzzRuns, fuzzTimeoutMs, Outcomes } from './fuzz-config.js';
import { mutate, mutations, splitAt } from './mutate.js';

const text = fc.oneof(fc.constantFrom('', 'q', 'orders.fifo', 'é'), fc.string({ maxLength: 8 }));
const u32 = fc.oneof(fc.constantFrom(0, 1, 127, 128, 0xffffffff), fc.nat());
const id = fc.integer({ min: 1, max: 0xffffffff });
const outgoing: fc.Arbitrary<WireOutgoing> = fc
  .record({ body: fc.uint8Array({ maxLength: 24 }), attributes: fc.dictionary(text, text, { maxKeys: 2 }), delayMs: u32, groupId: text, dedupId: text }, { requiredKeys: ['body'] })
  .map((m) => ({ ...m }));

/** Real requests of most ops (enqueue weighted up: it has its own hand-written decoder). */
const request: fc.Arbitrary<RequestBody> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({ queue: text, messages: fc.array(outgoing, { maxLength: 3 }), key: fc.option(fc.oneof(fc.record({ idempotencyKey: text }), fc.record({ producer: fc.record({ producerId: text, sequence: u32 }) })), { nil: undefined }) })
      .map(({ queue, messages, key }): RequestBody => ({ enqueue: { queue, messages, ...(key !== undefined ? { ...key } : {}) } })),
  },
  fc.record({ client: text, token: text }).map((r): RequestBody => ({ hello: { ...r } })),
  fc.constant<RequestBody>({ ping: {} }),
  fc.record({ queue: text, max: u32, waitMs: u32 }).map((r): RequestBody => ({ receive: { ...r } })),
  fc.record({ queue: text, receipts: fc.array(text, { maxLength: 3 }) }).map((r): RequestBody => ({ ack: { ...r } })),
  fc.record({ queue: text, receipt: text, delayMs: u32 }).map((r): RequestBody => ({ nack: { ...r } })),
  fc.record({ queue: text, attributes: fc.record({ visibilityTimeoutMs: u32, fifo: fc.boolean(), deadLetterQueue: text }, { requiredKeys: [] }) }).map((r): RequestBody => ({ createQueue: { queue: r.queue, attributes: { ...r.attributes } } })),
  fc.record({ queue: text, credit: u32 }).map((r): RequestBody => ({ subscribe: { ...r } })),
  fc.record({ subscription: u32, messages: u32 }).map((r): RequestBody => ({ credit: { ...r } })),
  fc.record({ to: text }).map((r): RequestBody => ({ transferLeader: { ...r } })),
  fc.record({ queue: fc.constantFrom('jobs', 'orders.fifo', 'dlq', 'nope'), receipt: text, visibilityTimeoutMs: u32 }).map((r): RequestBody => ({ changeVisibility: { ...r } })),
  fc.record({ queue: fc.constantFrom('jobs', 'dlq'), attributes: fc.record({ visibilityTimeoutMs: u32, maxReceiveCount: u32, deadLetterQueue: fc.constantFrom('dlq', 'jobs', '') }, { requiredKeys: [] }) }).map((r): RequestBody => ({ setQueueAttributes: { queue: r.queue, attributes: { ...r.attributes } } })),
  fc.record({ queue: fc.constantFrom('jobs', 'dlq', 'orders.fifo'), tags: fc.dictionary(text, text, { maxKeys: 2 }) }).map((r): RequestBody => ({ tagQueue: { ...r } })),
  fc.record({ queue: fc.constantFrom('jobs', 'dlq', 'nope'), destination: text }).map((r): RequestBody => ({ redrive: { ...r } })),
  fc.constantFrom<RequestBody>({ purgeQueue: { queue: 'jobs' } }, { deleteQueue: { queue: 'dlq' } }, { getQueue: { queue: 'jobs' } }, { listQueues: {} }),
);

/** The ops runOp answers from the state machine alone (cluster status and leader transfer need a real node). */
function isStateOp(r: DecodedRequest): r is SimpleOp {
  return !['hello', 'ping', 'subscribe', 'credit', 'unsubscribe', 'clusterStatus', 'transferLeader'].includes(r.op);
}

const silent = pino({ level: 'silent' });

/** Decodes one frame body as the connection does; records the outcome; rethrows anything but a FrameError. */
function decodeCounted(body: Uint8Array, out: Outcomes): void {
  try {
    const r = decodeRequest(body);
    out.add(r.op === undefined ? 'accepted:no-op' : `accepted:${r.op}`);
  } catch (e) {
    if (!(e instanceof FrameError)) throw e;
    out.add(`refused:${e.code}`);
  }
}

/** Feeds `chunks` to a decoder with limit `max` as BinaryConnection#read does, checking its buffering bound. */
function feed(chunks: readonly Uint8Array[], max: number, out: Outcomes): void {
  const decoder = new FrameDecoder(max);
  try {
    for (const chunk of chunks) {
      for (const b of decoder.push(chunk)) {
        expect(b.byteLength).toBeLessThanOrEqual(max);
        decodeCounted(b, out);
      }
      // What stays buffered is at most one incomplete frame within the limit.
      expect(decoder.pendingBytes).toBeLessThan(frameHeaderBytes + max);
    }
    decoder.end();
  } catch (e) {
    if (!(e instanceof FrameError)) throw e;
    out.add(`refused:stream:${e.code}`);
  }
}

describe('fuzz: binary client frames', () => {
  it(
    'binaryFramesNeverCrash: arbitrary, random-length and mutated request frames decode or throw FrameError',
    () => {
      const out = new Outcomes();
      const frameBytesMax = 512;
      const frameBytes = fc.oneof(
        // Arbitrary bytes: mostly a broken length prefix.
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 128 }) },
        // A valid length prefix with a random payload.
        { weight: 2, arbitrary: fc.uint8Array({ maxLength: 128 }).map((b) => Uint8Array.from(Buffer.concat([frameHeader(b.length), b]))) },
        // A real request, encoded, then mutated (the prefix too: a flipped bit there may announce a huge frame).
        { weight: 5, arbitrary: fc.tuple(request, id, mutations).map(([r, i, m]) => mutate(encodeRequestFrame(i, r), m)) },
        // A real request with its prefix kept and only its body mutated.
        { weight: 3, arbitrary: fc.tuple(request, id, mutations).map(([r, i, m]) => { const body = mutate(encodeRequestFrame(i, r).subarray(frameHeaderBytes), m); return Uint8Array.from(Buffer.concat([frameHeader(body.length), body])); }) },
        // A real request, intact.
        { weight: 1, arbitrary: fc.tuple(request, id).map(([r, i]) => encodeRequestFrame(i, r)) },
      );
      fc.assert(
        fc.property(fc.array(frameBytes, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 6 }), (frames, cuts) => {
          feed(splitAt(Uint8Array.from(Buffer.concat(frames)), cuts), frameBytesMax, out);
        }),
        fuzzOptions(),
      );
      out.expectBothWays();
      expect(out.count('accepted:enqueue'), out.summary()).toBeGreaterThan(0);
      expect(out.count('refused:MALFORMED_FRAME'), out.summary()).toBeGreaterThan(0);
      expect(out.count('refused:stream:FRAME_TOO_LARGE'), out.summary()).toBeGreaterThan(0);
      expect(out.count('refused:stream:TRUNCATED_FRAME'), out.summary()).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  it(
    'binaryRequestsRoundTrip: every real request frame decodes to its op and id',
    () => {
      fc.assert(
        fc.property(request, id, (r, i) => {
          const bodies = new FrameDecoder().push(encodeRequestFrame(i, r));
          expect(bodies).toHaveLength(1);
          const d = decodeRequest(bodies[0] ?? new Uint8Array(0));
          expect(d.id).toBe(i);
          expect(d.op).toBe(Object.keys(r)[0]);
        }),
        fuzzOptions(Math.ceil(fuzzRuns / 10)),
      );
    },
    fuzzTimeoutMs,
  );

  it(
    'binaryOpsNoChangeOfState: decoded (mutated) requests run by runOp over a real state machine end in a result or a client RaftqError; refusals change nothing',
    async () => {
      const out = new Outcomes();
      const body = fc.oneof(
        { weight: 3, arbitrary: fc.tuple(request, id, mutations).map(([r, i, m]) => mutate(encodeRequestFrame(i, r).subarray(frameHeaderBytes), m)) },
        { weight: 1, arbitrary: fc.tuple(request, id).map(([r, i]) => encodeRequestFrame(i, r).subarray(frameHeaderBytes)) },
      );
      await fc.assert(
        fc.asyncProperty(body, async (b) => {
          let req: ReturnType<typeof decodeRequest>;
          try {
            req = decodeRequest(b);
          } catch (e) {
            if (!(e instanceof FrameError)) throw e;
            out.add('refused:decode');
            return;
          }
          if (req.op === undefined || !isStateOp(req)) return;
          const h = setUpQueues();
          const watch: Watch = { refusedCommands: 0, changedByRefusal: undefined };
          const before = h.store.fingerprint();
          try {
            await runOp({ ...fakeNode(h, watch), logger: silent, closing: stopped() }, req);
            out.add(`accepted:${req.op}`);
          } catch (e) {
            if (!(e instanceof RaftqError) || e.code === 'INTERNAL') throw e;
            out.add(`refused:${req.op}:${e.code}`);
            expect(h.store.fingerprint(), `${req.op} failed with ${e.code} and changed the store`).toBe(before);
          }
          expect(watch.changedByRefusal).toBeUndefined();
          if (watch.refusedCommands > 0) out.add('refused-command');
          h.sm.assertInvariants();
        }),
        fuzzOptions(Math.ceil(fuzzRuns / 2)),
      );
      out.expectBothWays();
      expect(out.count('refused-command'), out.summary()).toBeGreaterThan(0);
      expect(out.count('accepted:enqueue'), out.summary()).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );
});
