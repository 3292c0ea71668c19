/**
 * The hand-written replication-frame codec (src/transport/raft-batch-codec.ts) against the
 * protobufjs path of peer-frame.ts: same bytes encoded, same frames decoded, and for mangled
 * input the same outcome (frame or FrameError code), whichever path handles it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, Message } from '../../raft/types.js';
import { FrameError } from '../../src/transport/errors.js';
import { decodePeerFrame, decodePeerFrameWithProtobufjs, encodePeerFrame, encodePeerFrameWithProtobufjs } from '../../src/transport/peer-frame.js';
import { decodeRaftBatchFast, encodeRaftBatchFast } from '../../src/transport/raft-batch-codec.js';

const seed = Number(process.env['FC_SEED'] ?? 20261201);

const nodeId = fc.oneof(fc.constantFrom('n1', 'n2', 'é'), fc.string({ minLength: 1, maxLength: 6 }));
const u53 = fc.oneof(fc.constantFrom(0, 1, 127, 128, 2 ** 32, Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
const pos53 = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const bytes = fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 120, maxLength: 400 }));
const entry: fc.Arbitrary<Entry> = fc.record({ term: pos53, index: pos53, type: fc.constantFrom('normal' as const, 'conf' as const), data: bytes });
const envelope = fc.record({ from: nodeId, to: nodeId, term: u53 });
const hot: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ env: envelope, index: u53, logTerm: u53, entries: fc.array(entry, { maxLength: 6 }), commit: u53 }).map(({ env, ...r }): Message => ({ ...env, type: 'app', ...r })),
  fc.record({ env: envelope, index: u53, reject: fc.boolean(), rejectHint: u53, logTerm: u53 }).map(({ env, ...r }): Message => ({ ...env, type: 'appResp', ...r })),
  fc.record({ env: envelope, commit: u53, context: bytes }).map(({ env, ...r }): Message => ({ ...env, type: 'heartbeat', ...r })),
  fc.record({ env: envelope, context: bytes }).map(({ env, ...r }): Message => ({ ...env, type: 'heartbeatResp', ...r })),
);
const batch = fc.array(hot, { maxLength: 5 });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The frame decoded, or the FrameError code, so the two paths can be compared on any input. */
function outcome(decode: (b: Uint8Array) => unknown, body: Uint8Array): unknown {
  try {
    return decode(body);
  } catch (e) {
    if (e instanceof FrameError) return `FrameError ${e.code}`;
    throw e;
  }
}

describe('replication frame codec', () => {
  it('encodes exactly the bytes protobufjs encodes', () => {
    fc.assert(
      fc.property(batch, (messages) => {
        const frame = { kind: 'raftBatch' as const, messages };
        expect(hex(encodePeerFrame(frame))).toBe(hex(encodePeerFrameWithProtobufjs(frame)));
        expect(encodeRaftBatchFast(messages)).toBeDefined();
      }),
      { seed, numRuns: 400 },
    );
  });

  it('decodes to the frame the reference decodes, on the fast path', () => {
    fc.assert(
      fc.property(batch, (messages) => {
        const body = encodePeerFrameWithProtobufjs({ kind: 'raftBatch', messages }).subarray(4);
        const fast = decodeRaftBatchFast(body);
        expect(fast).toBeDefined();
        expect(fast).toStrictEqual(decodePeerFrameWithProtobufjs(body));
      }),
      { seed, numRuns: 400 },
    );
  });

  it('agrees with the reference on truncated and corrupted frames (frame or error code)', () => {
    fc.assert(
      fc.property(batch, fc.nat(), fc.nat(255), (messages, at, byte) => {
        const body = Uint8Array.from(encodePeerFrameWithProtobufjs({ kind: 'raftBatch', messages }).subarray(4));
        if (body.length === 0) return;
        const corrupted = Uint8Array.from(body);
        corrupted[at % body.length] = byte;
        for (const b of [body.subarray(0, at % body.length), corrupted]) {
          expect(outcome(decodePeerFrame, b)).toStrictEqual(outcome(decodePeerFrameWithProtobufjs, b));
        }
      }),
      { seed, numRuns: 600 },
    );
  });

  it('leaves other frames and message types to protobufjs', () => {
    const vote: Message = { from: 'n1', to: 'n2', term: 2, type: 'vote', index: 5, logTerm: 1, transfer: false };
    expect(encodeRaftBatchFast([vote])).toBeUndefined();
    const body = encodePeerFrame({ kind: 'raftBatch', messages: [vote] }).subarray(4);
    expect(decodeRaftBatchFast(body)).toBeUndefined();
    expect(decodePeerFrame(body)).toStrictEqual({ kind: 'raftBatch', messages: [vote] });
    const hello = encodePeerFrame({ kind: 'hello', clusterId: 'c', nodeId: 'n1', protocolVersion: 1 }).subarray(4);
    expect(decodeRaftBatchFast(hello)).toBeUndefined();
  });
});
