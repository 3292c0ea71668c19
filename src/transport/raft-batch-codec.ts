/**
 * Hand-written wire code for the frames that carry replication: PeerFrame{raft_batch} whose
 * messages are appends, append responses, heartbeats and heartbeat responses. Every entry a
 * leader replicates crosses this code twice (once per follower) and every follower decodes it;
 * through protobufjs (plain objects, then uint64 as BigInt, then numbers) that cost more than
 * the rest of the follower's work per entry.
 *
 * Equivalence with the protobufjs path in peer-frame.ts is the contract (raft-batch-codec.test.ts):
 * - the encoder writes the same bytes protobufjs writes for the same frame, and handles only
 *   batches of the four message types above (anything else: undefined, the caller falls back);
 * - the decoder returns the same frame the reference decoder returns, or undefined whenever
 *   the input is anything but a well-formed batch of those types (a wire type, range or
 *   required-field problem): the reference decoder then decodes it or raises its usual
 *   FrameError, so error codes never depend on which path ran.
 */
import protobuf from 'protobufjs';
import { assert } from '../../raft/assert.js';
import type { Entry, EntryType, Message } from '../../raft/types.js';
import { NotFastPath, ProtoReader, ProtoWriter, delimitedBytes, expectWireType, varintBytes, wireType } from '../proto/wire.js';
import { frameHeaderBytes } from '../proto/framing.js';
import type { RaftBatchFrame } from './peer-frame-types.js';

/** PeerFrame.raft_batch, RaftBatch.messages, RaftMessage body fields (src/proto/peer.proto). */
const field = {
  raftBatch: 4,
  messages: 1,
  app: 10,
  appResp: 11,
  heartbeat: 12,
  heartbeatResp: 13,
} as const;

const entryTypeCode: Record<EntryType, number> = { normal: 1, conf: 2 };

/** A message type the encoder handles. */
type HotMessage = Extract<Message, { type: 'app' | 'appResp' | 'heartbeat' | 'heartbeatResp' }>;

function isHot(m: Message): m is HotMessage {
  if (m.type === 'appResp' || m.type === 'heartbeatResp') return m.recovering !== true; // rare: the reference encoder
  return m.type === 'app' || m.type === 'heartbeat';
}

// ---- sizes (first pass): the frame is allocated once at its exact size, lengths are known
// before their contents, so nothing is shifted or copied after it is written.

/** Bytes of an implicit-presence uint64 field with a one-byte key (0 is not written). */
function u64Bytes(n: number): number {
  return n === 0 ? 0 : 1 + varintBytes(n);
}

function bytesFieldBytes(b: Uint8Array): number {
  return b.length === 0 ? 0 : delimitedBytes(b.length);
}

function stringFieldBytes(s: string): number {
  return s === '' ? 0 : delimitedBytes(utf8Bytes(s));
}

function utf8Bytes(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return protobuf.util.utf8.length(s);
  return s.length;
}

function entryBytes(e: Entry): number {
  return u64Bytes(e.term) + u64Bytes(e.index) + 2 + bytesFieldBytes(e.data);
}

function bodyBytes(m: HotMessage): number {
  switch (m.type) {
    case 'app': {
      let n = u64Bytes(m.index) + u64Bytes(m.logTerm) + u64Bytes(m.commit);
      for (const e of m.entries) n += delimitedBytes(entryBytes(e));
      return n;
    }
    case 'appResp':
      return u64Bytes(m.index) + (m.reject ? 2 : 0) + u64Bytes(m.rejectHint) + u64Bytes(m.logTerm);
    case 'heartbeat':
      return u64Bytes(m.commit) + bytesFieldBytes(m.context);
    case 'heartbeatResp':
      return bytesFieldBytes(m.context);
  }
}

function messageBytes(m: HotMessage, body: number): number {
  return stringFieldBytes(m.from) + stringFieldBytes(m.to) + u64Bytes(m.term) + delimitedBytes(body);
}

// ---- writes (second pass)

function u64(w: ProtoWriter, f: number, n: number): void {
  if (n !== 0) w.tag(f, wireType.varint).uint(n);
}

function bytesField(w: ProtoWriter, f: number, b: Uint8Array): void {
  if (b.length > 0) w.tag(f, wireType.bytes).bytes(b);
}

const bodyField: Record<HotMessage['type'], number> = { app: field.app, appResp: field.appResp, heartbeat: field.heartbeat, heartbeatResp: field.heartbeatResp };

/**
 * The whole frame (length prefix included) for a RaftBatch of `messages`, or undefined when a
 * message is not of a type this encoder handles.
 */
export function encodeRaftBatchFast(messages: readonly Message[]): Uint8Array | undefined {
  const hot: HotMessage[] = [];
  for (const m of messages) {
    if (!isHot(m)) return undefined;
    hot.push(m);
  }
  const bodies = hot.map(bodyBytes);
  const sizes = hot.map((m, i) => messageBytes(m, bodies[i]!));
  let batch = 0;
  for (const n of sizes) batch += delimitedBytes(n);
  const frameBodyBytes = delimitedBytes(batch);
  const w = new ProtoWriter(frameHeaderBytes + frameBodyBytes);
  w.fixed32be(frameBodyBytes);
  w.tag(field.raftBatch, wireType.bytes).uint(batch);
  hot.forEach((m, i) => {
    w.tag(field.messages, wireType.bytes).uint(sizes[i]!);
    if (m.from !== '') w.tag(1, wireType.bytes).string(m.from);
    if (m.to !== '') w.tag(2, wireType.bytes).string(m.to);
    u64(w, 3, m.term);
    w.tag(bodyField[m.type], wireType.bytes).uint(bodies[i]!);
    switch (m.type) {
      case 'app':
        u64(w, 1, m.index);
        u64(w, 2, m.logTerm);
        for (const e of m.entries) {
          w.tag(3, wireType.bytes).uint(entryBytes(e));
          u64(w, 1, e.term);
          u64(w, 2, e.index);
          w.tag(3, wireType.varint).uint(entryTypeCode[e.type]);
          bytesField(w, 4, e.data);
        }
        u64(w, 4, m.commit);
        break;
      case 'appResp':
        u64(w, 1, m.index);
        if (m.reject) w.tag(2, wireType.varint).bool(true);
        u64(w, 3, m.rejectHint);
        u64(w, 4, m.logTerm);
        break;
      case 'heartbeat':
        u64(w, 1, m.commit);
        bytesField(w, 2, m.context);
        break;
      case 'heartbeatResp':
        bytesField(w, 1, m.context);
        break;
    }
  });
  const frame = w.take();
  // Pair assertion: the first pass sized exactly what the second wrote.
  assert(frame.length === frameHeaderBytes + frameBodyBytes, () => `raft batch sized ${frameHeaderBytes + frameBodyBytes} bytes, wrote ${frame.length}`);
  return frame;
}

/** The RaftBatch frame in `body` (no length prefix), or undefined for the reference decoder. */
export function decodeRaftBatchFast(body: Uint8Array): RaftBatchFrame | undefined {
  if (body.length === 0 || body[0] !== ((field.raftBatch << 3) | wireType.bytes)) return undefined;
  try {
    const top = new ProtoReader(body);
    const tag = top.tag();
    if (tag !== ((field.raftBatch << 3) | wireType.bytes)) return undefined;
    const batch = top.sub();
    if (!top.done) return undefined;
    const messages: Message[] = [];
    while (!batch.done) {
      const t = batch.tag();
      if (t >>> 3 !== field.messages) {
        batch.skip(t & 7);
        continue;
      }
      expectWireType(t, wireType.bytes);
      messages.push(readMessage(batch.sub()));
    }
    return { kind: 'raftBatch', messages };
  } catch {
    // NotFastPath, or malformed bytes: the reference decoder decides (and names the error).
    return undefined;
  }
}


function readU64(r: ProtoReader, tag: number): number {
  expectWireType(tag, wireType.varint);
  return r.uint();
}

function readMessage(r: ProtoReader): Message {
  let from = '';
  let to = '';
  let term = 0;
  let body: ProtoReader | undefined;
  let bodyField = 0;
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f === 1) {
      expectWireType(tag, wireType.bytes);
      from = r.string();
    } else if (f === 2) {
      expectWireType(tag, wireType.bytes);
      to = r.string();
    } else if (f === 3) term = readU64(r, tag);
    else if (f >= field.app && f <= 21) {
      // One body of a hot type, once: anything else is the reference decoder's business.
      if (bodyField !== 0 || f > field.heartbeatResp) throw new NotFastPath();
      expectWireType(tag, wireType.bytes);
      bodyField = f;
      body = r.sub();
    } else r.skip(tag & 7);
  }
  if (from === '' || to === '' || body === undefined) throw new NotFastPath();
  switch (bodyField) {
    case field.app:
      return readAppend(body, from, to, term);
    case field.appResp: {
      let index = 0;
      let reject = false;
      let rejectHint = 0;
      let logTerm = 0;
      while (!body.done) {
        const tag = body.tag();
        const f = tag >>> 3;
        if (f === 1) index = readU64(body, tag);
        else if (f === 2) {
          expectWireType(tag, wireType.varint);
          reject = body.bool();
        } else if (f === 3) rejectHint = readU64(body, tag);
        else if (f === 4) logTerm = readU64(body, tag);
        else if (f === 5) throw new NotFastPath(); // recovering: rare, the reference decoder
        else body.skip(tag & 7);
      }
      return { from, to, term, type: 'appResp', index, reject, rejectHint, logTerm };
    }
    case field.heartbeat: {
      let commit = 0;
      let context: Uint8Array = new Uint8Array(0);
      while (!body.done) {
        const tag = body.tag();
        const f = tag >>> 3;
        if (f === 1) commit = readU64(body, tag);
        else if (f === 2) {
          expectWireType(tag, wireType.bytes);
          context = body.bytes();
        } else body.skip(tag & 7);
      }
      return { from, to, term, type: 'heartbeat', commit, context };
    }
    default: {
      let context: Uint8Array = new Uint8Array(0);
      while (!body.done) {
        const tag = body.tag();
        if (tag >>> 3 === 1) {
          expectWireType(tag, wireType.bytes);
          context = body.bytes();
        } else if (tag >>> 3 === 2) throw new NotFastPath(); // recovering: the reference decoder
        else body.skip(tag & 7);
      }
      return { from, to, term, type: 'heartbeatResp', context };
    }
  }
}

function readAppend(r: ProtoReader, from: string, to: string, term: number): Message {
  let index = 0;
  let logTerm = 0;
  let commit = 0;
  const entries: Entry[] = [];
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f === 1) index = readU64(r, tag);
    else if (f === 2) logTerm = readU64(r, tag);
    else if (f === 3) {
      expectWireType(tag, wireType.bytes);
      entries.push(readEntry(r.sub()));
    } else if (f === 4) commit = readU64(r, tag);
    else r.skip(tag & 7);
  }
  return { from, to, term, type: 'app', index, logTerm, entries, commit };
}

function readEntry(r: ProtoReader): Entry {
  let term = 0;
  let index = 0;
  let typeCode = 0;
  let data: Uint8Array = new Uint8Array(0);
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f === 1) term = readU64(r, tag);
    else if (f === 2) index = readU64(r, tag);
    else if (f === 3) {
      expectWireType(tag, wireType.varint);
      typeCode = r.uint();
    } else if (f === 4) {
      expectWireType(tag, wireType.bytes);
      data = r.bytes();
    } else r.skip(tag & 7);
  }
  if (term < 1 || index < 1 || (typeCode !== 1 && typeCode !== 2)) throw new NotFastPath();
  return { term, index, type: typeCode === 1 ? 'normal' : 'conf', data };
}
