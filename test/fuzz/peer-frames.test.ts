/**
 * Fuzz target 4, peer frames: the peer transport's decoding door (src/transport peer-frame.ts,
 * its hand-written RaftBatch path raft-batch-codec.ts, the protobufjs reference path codec.ts,
 * and the field readers of wire-read.ts) on arbitrary bytes and on mutated valid frames
 * (AppendEntries with entries, votes, snapshot chunks, hellos with cluster ids...), behind the
 * shared FrameDecoder. Only FrameError may come out; every valid frame round-trips exactly.
 * Seed and case count: test/fuzz/fuzz-config.ts (RAFTQ_FUZZ_SEED, RAFTQ_FUZZ_RUNS).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, Message, SnapshotMessage } from '../../raft/types.js';
import { FrameDecoder, frameHeaderBytes } from '../../src/proto/framing.js';
import { FrameError } from '../../src/transport/errors.js';
import { decodePeerFrame, encodePeerFrame, type PeerFrame } from '../../src/transport/peer-frame.js';
import { fuzzOptions, fuzzRuns, fuzzTimeoutMs, Outcomes } from './fuzz-config.js';
import { mutate, mutations, splitAt } from './mutate.js';

const nodeId = fc.oneof(fc.constantFrom('n1', 'n2', 'node-3'), fc.string({ minLength: 1, maxLength: 6 }));
const u53 = fc.oneof(fc.constantFrom(0, 1, 127, 128, 2 ** 32, Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
const pos53 = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const bytes = fc.uint8Array({ maxLength: 32 });
const entry: fc.Arbitrary<Entry> = fc.record({ term: pos53, index: pos53, type: fc.constantFrom('normal' as const, 'conf' as const), data: bytes }).map((e) => ({ ...e })); // fc.record may make null-prototype objects
const confState = fc.uniqueArray(nodeId, { maxLength: 4 }).chain((ids) => fc.nat({ max: ids.length }).map((k) => ({ voters: ids.slice(0, k), learners: ids.slice(k) })));
const envelope = fc.record({ from: nodeId, to: nodeId, term: u53 });
const snapMessage: fc.Arbitrary<SnapshotMessage> = fc
  .record({ env: envelope, index: u53, term: u53, confState })
  .map(({ env, ...snapshot }): SnapshotMessage => ({ ...env, type: 'snap', snapshot }));

/** Every Raft message type, AppendEntries with entries weighted up. */
const message: fc.Arbitrary<Message> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({ env: envelope, index: u53, logTerm: u53, entries: fc.array(entry, { maxLength: 3 }), commit: u53 })
      .map(({ env, ...r }): Message => ({ ...env, type: 'app', ...r })),
  },
  fc.record({ env: envelope, index: u53, reject: fc.boolean(), rejectHint: u53, logTerm: u53 }).map(({ env, ...r }): Message => ({ ...env, type: 'appResp', ...r })),
  fc.record({ env: envelope, commit: u53, context: bytes }).map(({ env, ...r }): Message => ({ ...env, type: 'heartbeat', ...r })),
  fc.record({ env: envelope, context: bytes }).map(({ env, ...r }): Message => ({ ...env, type: 'heartbeatResp', ...r })),
  fc
    .record({ env: envelope, type: fc.constantFrom('vote' as const, 'preVote' as const), index: u53, logTerm: u53, transfer: fc.boolean() })
    .map(({ env, ...r }): Message => ({ ...env, ...r })),
  fc.record({ env: envelope, type: fc.constantFrom('voteResp' as const, 'preVoteResp' as const), reject: fc.boolean() }).map(({ env, ...r }): Message => ({ ...env, ...r })),
  snapMessage,
  envelope.map((env): Message => ({ ...env, type: 'timeoutNow' })),
  fc.record({ env: envelope, context: bytes }).map(({ env, ...r }): Message => ({ ...env, type: 'readIndex', ...r })),
  fc.record({ env: envelope, context: bytes, index: u53, reject: fc.boolean() }).map(({ env, ...r }): Message => ({ ...env, type: 'readIndexResp', ...r })),
);

/** Every kind of peer frame, valid. */
const peerFrame: fc.Arbitrary<PeerFrame> = fc.oneof(
  fc.record({ clusterId: fc.string({ minLength: 1, maxLength: 12 }), nodeId, protocolVersion: fc.nat({ max: 3 }) }).map((r): PeerFrame => ({ kind: 'hello', ...r })),
  fc.record({ nodeId, protocolVersion: fc.nat({ max: 3 }) }).map((r): PeerFrame => ({ kind: 'helloAck', ...r })),
  fc
    .record({ code: fc.constantFrom('CLUSTER_MISMATCH' as const, 'UNKNOWN_PEER' as const, 'SELF_CONNECTION' as const, 'PROTOCOL_VERSION_MISMATCH' as const), reason: fc.string({ maxLength: 10 }) })
    .map((r): PeerFrame => ({ kind: 'refuse', ...r })),
  { weight: 4, arbitrary: fc.array(message, { minLength: 1, maxLength: 3 }).map((messages): PeerFrame => ({ kind: 'raftBatch', messages })) },
  fc
    .record({ streamId: u53, seq: u53, data: bytes, done: fc.boolean(), meta: snapMessage })
    .map(({ meta, ...r }): PeerFrame => ({ kind: 'snapshotChunk', ...r, meta: r.seq === 0 ? meta : null })),
  fc.record({ streamId: u53, ok: fc.boolean(), reason: fc.string({ maxLength: 10 }) }).map((r): PeerFrame => ({ kind: 'snapshotAck', ...r })),
  fc
    .record({ appKind: fc.constantFrom('forward', 'reply', 'x'), requestId: u53, payload: bytes, flags: fc.nat({ max: 3 }) })
    .map(({ flags, ...r }): PeerFrame => (flags !== 0 ? { kind: 'app', ...r, flags } : { kind: 'app', ...r })),
);

/** Decodes one body; records the outcome; rethrows anything but a FrameError. */
function decodeCounted(body: Uint8Array, out: Outcomes): PeerFrame | undefined {
  try {
    const f = decodePeerFrame(body);
    out.add(`accepted:${f.kind}`);
    return f;
  } catch (e) {
    if (e instanceof FrameError) {
      out.add(`refused:${e.code}`);
      return undefined;
    }
    throw e;
  }
}

describe('fuzz: peer frames', () => {
  it(
    'peerFramesNeverCrash: arbitrary and mutated peer frame bodies decode or throw FrameError; valid frames round-trip',
    () => {
      const out = new Outcomes();
      const body = fc.oneof(
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 96 }) },
        // A leading RaftBatch / Hello / SnapshotChunk tag so random bytes reach the sub-decoders.
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a), fc.uint8Array({ maxLength: 96 })).map(([t, b]) => Uint8Array.from([t, b.length, ...b])) },
        { weight: 6, arbitrary: fc.tuple(peerFrame, mutations).map(([f, m]) => mutate(encodePeerFrame(f).subarray(frameHeaderBytes), m)) },
        { weight: 2, arbitrary: peerFrame.map((f) => encodePeerFrame(f).subarray(frameHeaderBytes)) },
      );
      fc.assert(
        fc.property(body, (b) => {
          const f = decodeCounted(b, out);
          // Whatever decodes is a frame the encoder reproduces (a canonical re-encoding decodes the same).
          if (f !== undefined) expect(decodePeerFrame(encodePeerFrame(f).subarray(frameHeaderBytes))).toStrictEqual(f);
        }),
        fuzzOptions(),
      );
      out.expectBothWays();
      expect(out.countPrefix('accepted:raftBatch')).toBeGreaterThan(0);
      expect(out.countPrefix('accepted:snapshotChunk')).toBeGreaterThan(0);
      expect(out.countPrefix('accepted:hello')).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  it(
    'peerFramesRoundTrip: every valid peer frame decodes to itself',
    () => {
      fc.assert(
        fc.property(peerFrame, (f) => {
          expect(decodePeerFrame(encodePeerFrame(f).subarray(frameHeaderBytes))).toStrictEqual(f);
        }),
        fuzzOptions(Math.ceil(fuzzRuns / 4)),
      );
    },
    fuzzTimeoutMs,
  );

  it(
    'peerStreamsNeverCrash: a stream of (mutated) frames split anywhere yields frames or FrameErrors, never more than frameBytesMax buffered',
    () => {
      const out = new Outcomes();
      const frameBytesMax = 256;
      const stream = fc.array(
        fc.oneof(
          peerFrame.map((f) => encodePeerFrame(f)),
          fc.tuple(peerFrame, mutations).map(([f, m]) => mutate(encodePeerFrame(f), m)),
        ),
        { minLength: 1, maxLength: 4 },
      );
      fc.assert(
        fc.property(stream, fc.array(fc.nat(), { maxLength: 8 }), (frames, cuts) => {
          const decoder = new FrameDecoder(frameBytesMax);
          try {
            for (const chunk of splitAt(Uint8Array.from(Buffer.concat(frames)), cuts)) {
              for (const b of decoder.push(chunk)) {
                expect(b.byteLength).toBeLessThanOrEqual(frameBytesMax);
                decodeCounted(b, out);
              }
              expect(decoder.pendingBytes).toBeLessThan(frameHeaderBytes + frameBytesMax);
            }
            decoder.end();
          } catch (e) {
            if (!(e instanceof FrameError)) throw e;
            out.add(`refused:stream:${e.code}`);
          }
        }),
        fuzzOptions(Math.ceil(fuzzRuns / 4)),
      );
      out.expectBothWays();
      expect(out.countPrefix('refused:stream:')).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );
});
