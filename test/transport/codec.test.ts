import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, Message, SnapshotMessage } from '../../raft/types.js';
import { decodeRaftMessage, encodeRaftMessage } from '../../src/transport/codec.js';
import { FrameError, type FrameErrorCode } from '../../src/transport/errors.js';
import { decodePeerFrame, encodePeerFrame } from '../../src/transport/peer-frame.js';
import { PeerFrameType, RaftMessageType, RefuseCodeWire } from '../../src/transport/schema.js';
import { loadProto } from '../../src/proto/load.js';

/** Fixed unless FC_SEED is set; fast-check prints the seed and path of any failure. */
const seed = Number(process.env['FC_SEED'] ?? 20240601);

const nodeId = fc.string({ minLength: 1, maxLength: 6 });
const u53 = fc.maxSafeNat();
const pos53 = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const bytes = fc.uint8Array({ maxLength: 48 });
const entry: fc.Arbitrary<Entry> = fc.record({ term: pos53, index: pos53, type: fc.constantFrom('normal' as const, 'conf' as const), data: bytes }).map((e) => ({ ...e }));
const confState = fc.uniqueArray(nodeId, { maxLength: 6 }).chain((ids) =>
  fc.nat({ max: ids.length }).map((k) => ({ voters: ids.slice(0, k), learners: ids.slice(k) })),
);
const envelope = fc.record({ from: nodeId, to: nodeId, term: u53 });

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ env: envelope, index: u53, logTerm: u53, entries: fc.array(entry, { maxLength: 4 }), commit: u53 }).map(
    ({ env, ...r }): Message => ({ ...env, type: 'app', ...r }),
  ),
  fc.record({ env: envelope, index: u53, reject: fc.boolean(), rejectHint: u53, logTerm: u53 }).map(
    ({ env, ...r }): Message => ({ ...env, type: 'appResp', ...r }),
  ),
  fc.record({ env: envelope, commit: u53, context: bytes }).map(({ env, ...r }): Message => ({ ...env, type: 'heartbeat', ...r })),
  fc.record({ env: envelope, context: bytes }).map(({ env, ...r }): Message => ({ ...env, type: 'heartbeatResp', ...r })),
  fc
    .record({ env: envelope, type: fc.constantFrom('vote' as const, 'preVote' as const), index: u53, logTerm: u53, transfer: fc.boolean() })
    .map(({ env, ...r }): Message => ({ ...env, ...r })),
  fc
    .record({ env: envelope, type: fc.constantFrom('voteResp' as const, 'preVoteResp' as const), reject: fc.boolean() })
    .map(({ env, ...r }): Message => ({ ...env, ...r })),
  fc.record({ env: envelope, index: u53, term: u53, confState }).map(
    ({ env, ...snapshot }): Message => ({ ...env, type: 'snap', snapshot }),
  ),
  envelope.map((env): Message => ({ ...env, type: 'timeoutNow' })),
  fc.record({ env: envelope, context: bytes }).map(({ env, ...r }): Message => ({ ...env, type: 'readIndex', ...r })),
  fc.record({ env: envelope, context: bytes, index: u53, reject: fc.boolean() }).map(
    ({ env, ...r }): Message => ({ ...env, type: 'readIndexResp', ...r }),
  ),
);

function codeOf(f: () => unknown): FrameErrorCode | 'no error' {
  try {
    f();
    return 'no error';
  } catch (err) {
    if (err instanceof FrameError) return err.code;
    throw err;
  }
}

const raw = (obj: Record<string, unknown>): Uint8Array => RaftMessageType.encode(obj).finish();
const env = { from: 'n1', to: 'n2', term: 3 };

/** A RaftMessage whose term field (3) is the varint `n` (protobuf: the last occurrence wins). */
function withTerm(n: bigint): Uint8Array {
  const varint: number[] = [];
  for (let v = n; ; v >>= 7n) {
    if (v < 0x80n) {
      varint.push(Number(v));
      break;
    }
    varint.push(Number(v & 0x7fn) | 0x80);
  }
  return Buffer.concat([raw({ ...env, timeout_now: {} }), Buffer.from([0x18, ...varint])]);
}

describe('raft message codec', () => {
  it('round-trips every message exactly (property, fixed seed)', () => {
    fc.assert(
      fc.property(message, (msg) => {
        expect(decodeRaftMessage(encodeRaftMessage(msg))).toStrictEqual(msg);
      }),
      { seed, numRuns: 500 },
    );
  });

  it('round-trips messages inside RaftBatch and snapshot chunk frames', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 5 }), (messages) => {
        const frame = encodePeerFrame({ kind: 'raftBatch', messages });
        expect(decodePeerFrame(frame.subarray(4))).toStrictEqual({ kind: 'raftBatch', messages });
      }),
      { seed, numRuns: 100 },
    );
  });

  it('never throws anything but FrameError on random bytes (property, fixed seed)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        codeOf(() => decodeRaftMessage(b));
        codeOf(() => decodePeerFrame(b));
      }),
      { seed, numRuns: 2000 },
    );
  });

  const table: ReadonlyArray<[string, () => unknown, FrameErrorCode]> = [
    ['not protobuf', () => decodeRaftMessage(new Uint8Array([0x0a, 0xff, 0x01])), 'MALFORMED_FRAME'],
    ['no body (unknown type)', () => decodeRaftMessage(raw(env)), 'UNKNOWN_MESSAGE_TYPE'],
    ['a body from a newer peer', () => decodeRaftMessage(Buffer.concat([raw(env), Buffer.from([0xfa, 0x06, 0x00])])), 'UNKNOWN_MESSAGE_TYPE'],
    ['missing from', () => decodeRaftMessage(raw({ to: 'n2', term: 1, timeout_now: {} })), 'MISSING_FIELD'],
    ['missing to', () => decodeRaftMessage(raw({ from: 'n1', term: 1, timeout_now: {} })), 'MISSING_FIELD'],
    ['term = 2^53', () => decodeRaftMessage(withTerm(2n ** 53n)), 'NUMBER_OUT_OF_RANGE'],
    ['negative int64 (-1) as term', () => decodeRaftMessage(withTerm(2n ** 64n - 1n)), 'NUMBER_OUT_OF_RANGE'],
    ['entry index 0', () => decodeRaftMessage(raw({ ...env, app: { entries: [{ term: 1, index: 0, type: 1 }] } })), 'INVALID_FIELD'],
    ['entry type missing', () => decodeRaftMessage(raw({ ...env, app: { entries: [{ term: 1, index: 1 }] } })), 'MISSING_FIELD'],
    ['entry type unknown', () => decodeRaftMessage(raw({ ...env, app: { entries: [{ term: 1, index: 1, type: 9 }] } })), 'INVALID_FIELD'],
    ['snap without meta', () => decodeRaftMessage(raw({ ...env, snap: {} })), 'MISSING_FIELD'],
    ['snap without conf state', () => decodeRaftMessage(raw({ ...env, snap: { meta: { index: 1, term: 1 } } })), 'MISSING_FIELD'],
    [
      'voters and learners overlap',
      () => decodeRaftMessage(raw({ ...env, snap: { meta: { index: 1, term: 1, conf_state: { voters: ['a'], learners: ['a'] } } } })),
      'INVALID_FIELD',
    ],
    ['empty frame body', () => decodePeerFrame(new Uint8Array(0)), 'MALFORMED_FRAME'],
    ['hello without cluster id', () => decodePeerFrame(PeerFrameType.encode({ hello: { node_id: 'n1' } }).finish()), 'MISSING_FIELD'],
    ['refuse with unspecified code', () => decodePeerFrame(PeerFrameType.encode({ refuse: {} }).finish()), 'MISSING_FIELD'],
    ['chunk 0 without meta', () => decodePeerFrame(PeerFrameType.encode({ snapshot_chunk: { stream_id: 1 } }).finish()), 'INVALID_FIELD'],
    [
      'chunk meta that is not a snap',
      () => decodePeerFrame(PeerFrameType.encode({ snapshot_chunk: { stream_id: 1, meta: { ...env, timeout_now: {} } } }).finish()),
      'INVALID_FIELD',
    ],
    ['batch with a bad message', () => decodePeerFrame(PeerFrameType.encode({ raft_batch: { messages: [env] } }).finish()), 'UNKNOWN_MESSAGE_TYPE'],
  ];
  it('accepts term = 2^53 - 1, the largest safe integer', () => {
    expect(decodeRaftMessage(withTerm(2n ** 53n - 1n)).term).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each(table)('rejects %s', (_name, decode, code) => {
    expect(codeOf(decode)).toBe(code);
  });

  it('keeps the Refuse codes of peer.proto and errors.ts in sync', () => {
    const protoNames = Object.keys(loadProto('peer.proto').lookupEnum('raftq.peer.RefuseCode').values);
    expect(protoNames).toStrictEqual(Object.keys(RefuseCodeWire));
  });

  it('decodes a snapshot chunk with its meta', () => {
    const meta: SnapshotMessage = { type: 'snap', from: 'n1', to: 'n2', term: 2, snapshot: { index: 9, term: 2, confState: { voters: ['n1'], learners: [] } } };
    const frame = encodePeerFrame({ kind: 'snapshotChunk', streamId: 7, seq: 0, data: new Uint8Array([1, 2]), done: false, meta });
    expect(decodePeerFrame(frame.subarray(4))).toStrictEqual({ kind: 'snapshotChunk', streamId: 7, seq: 0, data: new Uint8Array([1, 2]), done: false, meta });
  });
});
