/**
 * The frames of a peer connection (a discriminated union, peer-frame-types.ts, re-exported here)
 * and their conversion to and from length-prefixed PeerFrame protobufs. Decoding validates
 * everything and throws FrameError.
 */
import type { Message, SnapshotMessage } from '../../raft/types.js';
import { raftMessageFromWire, raftMessageToWire } from './codec.js';
import { encodeFrame } from '../proto/framing.js';
import { FrameError } from './errors.js';
import { decodeRaftBatchFast, encodeRaftBatchFast } from './raft-batch-codec.js';
import { PeerFrameType, RefuseCodeWire, toObjectOptions } from './schema.js';
import {
  isWireObject,
  readArray,
  readBool,
  readBytes,
  readMessage,
  readRequiredString,
  readString,
  readU32,
  readU64,
  type WireObject,
} from './wire-read.js';
import type { RefuseCode, SnapshotChunkFrame, PeerFrame } from './peer-frame-types.js';

export type * from './peer-frame-types.js';

/**
 * Encodes `frame` with its length prefix, ready for socket.write. Replication batches take the
 * hand-written path (raft-batch-codec.ts), which writes the same bytes as protobufjs.
 */
export function encodePeerFrame(frame: PeerFrame): Uint8Array {
  if (frame.kind === 'raftBatch') {
    const fast = encodeRaftBatchFast(frame.messages);
    if (fast !== undefined) return fast;
  }
  return encodePeerFrameWithProtobufjs(frame);
}

/** encodePeerFrame through protobufjs only (the reference of the hand-written path). */
export function encodePeerFrameWithProtobufjs(frame: PeerFrame): Uint8Array {
  return encodeFrame(PeerFrameType, peerFrameToWire(frame));
}

/** Decodes one frame body (without the prefix); throws FrameError on any invalid input. */
export function decodePeerFrame(body: Uint8Array): PeerFrame {
  return decodeRaftBatchFast(body) ?? decodePeerFrameWithProtobufjs(body);
}

/** decodePeerFrame through protobufjs only (the reference of the hand-written path). */
export function decodePeerFrameWithProtobufjs(body: Uint8Array): PeerFrame {
  let obj: WireObject;
  try {
    obj = PeerFrameType.toObject(PeerFrameType.decode(body), toObjectOptions);
  } catch (err) {
    throw new FrameError('MALFORMED_FRAME', 'frame body is not a valid PeerFrame', { cause: err });
  }
  return peerFrameFromWire(obj);
}

function peerFrameToWire(f: PeerFrame): WireObject {
  switch (f.kind) {
    case 'hello':
      return { hello: { cluster_id: f.clusterId, node_id: f.nodeId, protocol_version: f.protocolVersion } };
    case 'helloAck':
      return { hello_ack: { node_id: f.nodeId, protocol_version: f.protocolVersion } };
    case 'refuse':
      return { refuse: { code: RefuseCodeWire[f.code], reason: f.reason } };
    case 'raftBatch':
      return { raft_batch: { messages: f.messages.map(raftMessageToWire) } };
    case 'snapshotChunk': {
      const chunk = { stream_id: f.streamId, seq: f.seq, data: f.data, done: f.done };
      return { snapshot_chunk: f.meta === null ? chunk : { ...chunk, meta: raftMessageToWire(f.meta) } };
    }
    case 'snapshotAck':
      return { snapshot_ack: { stream_id: f.streamId, ok: f.ok, reason: f.reason } };
    case 'app':
      return { app: { kind: f.appKind, request_id: f.requestId, payload: f.payload, ...(f.flags ? { flags: f.flags } : {}) } };
  }
}

function peerFrameFromWire(obj: WireObject): PeerFrame {
  const kind = obj['kind'];
  if (typeof kind !== 'string') throw new FrameError('MALFORMED_FRAME', 'PeerFrame has no known kind');
  const b = readMessage(obj, kind);
  switch (kind) {
    case 'hello':
      return {
        kind: 'hello',
        clusterId: readRequiredString(b, 'cluster_id'),
        nodeId: readRequiredString(b, 'node_id'),
        protocolVersion: readU32(b, 'protocol_version'),
      };
    case 'hello_ack':
      return { kind: 'helloAck', nodeId: readRequiredString(b, 'node_id'), protocolVersion: readU32(b, 'protocol_version') };
    case 'refuse':
      return { kind: 'refuse', code: refuseCodeFromWire(readU32(b, 'code')), reason: readString(b, 'reason') };
    case 'raft_batch':
      return { kind: 'raftBatch', messages: readArray(b, 'messages').map(raftMessageItemFromWire) };
    case 'snapshot_chunk':
      return snapshotChunkFromWire(b);
    case 'snapshot_ack':
      return { kind: 'snapshotAck', streamId: readU64(b, 'stream_id'), ok: readBool(b, 'ok'), reason: readString(b, 'reason') };
    case 'app': {
      const flags = readU32(b, 'flags');
      return { kind: 'app', appKind: readString(b, 'kind'), requestId: readU64(b, 'request_id'), payload: readBytes(b, 'payload'), ...(flags !== 0 ? { flags } : {}) };
    }
    default:
      throw new FrameError('MALFORMED_FRAME', `PeerFrame kind ${kind} is not known`);
  }
}

function raftMessageItemFromWire(v: unknown): Message {
  if (!isWireObject(v)) throw new FrameError('INVALID_FIELD', 'batch item is not a message');
  return raftMessageFromWire(v);
}

function snapshotChunkFromWire(b: WireObject): SnapshotChunkFrame {
  const seq = readU64(b, 'seq');
  const hasMeta = b['meta'] !== undefined;
  if (hasMeta !== (seq === 0)) throw new FrameError('INVALID_FIELD', `snapshot chunk ${seq} ${hasMeta ? 'carries' : 'lacks'} meta`);
  let meta: SnapshotMessage | null = null;
  if (hasMeta) {
    const m = raftMessageFromWire(readMessage(b, 'meta'));
    if (m.type !== 'snap') throw new FrameError('INVALID_FIELD', `snapshot meta is a ${m.type} message`);
    meta = m;
  }
  return { kind: 'snapshotChunk', streamId: readU64(b, 'stream_id'), seq, data: readBytes(b, 'data'), done: readBool(b, 'done'), meta };
}

function refuseCodeFromWire(n: number): RefuseCode {
  for (const [name, value] of Object.entries(RefuseCodeWire)) {
    if (value === n && name !== 'REFUSE_CODE_UNSPECIFIED') return name as RefuseCode;
  }
  throw new FrameError(n === 0 ? 'MISSING_FIELD' : 'INVALID_FIELD', `refuse code ${n} is not known`);
}
