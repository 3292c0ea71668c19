/**
 * The protobuf types of src/proto/peer.proto, loaded once per process. peer.proto is the single
 * source of truth for the wire format; nothing here restates it.
 */
import protobuf from 'protobufjs';
import { loadProto } from '../proto/load.js';

/** The protocol version this build speaks; a Hello with another version is refused. */
export const protocolVersion = 1;

const root = loadProto('peer.proto');
root.resolveAll();

/** `raftq.peer.PeerFrame`: the body of every frame. */
export const PeerFrameType: protobuf.Type = root.lookupType('raftq.peer.PeerFrame');
/** `raftq.peer.RaftMessage`: one Raft message. */
export const RaftMessageType: protobuf.Type = root.lookupType('raftq.peer.RaftMessage');

/** peer.proto EntryType values. */
export const EntryTypeWire = { unspecified: 0, normal: 1, conf: 2 } as const;

/** peer.proto RefuseCode values. */
export const RefuseCodeWire = {
  REFUSE_CODE_UNSPECIFIED: 0,
  CLUSTER_MISMATCH: 1,
  UNKNOWN_PEER: 2,
  SELF_CONNECTION: 3,
  PROTOCOL_VERSION_MISMATCH: 4,
} as const;

/**
 * Options that turn a decoded protobufjs message into a plain object: uint64 as bigint (so a
 * value above 2^53 is caught, not rounded), absent fields left undefined (so presence can be
 * checked), and the name of the set oneof member as a virtual property.
 */
export const toObjectOptions: protobuf.IConversionOptions = { longs: BigInt, oneofs: true, defaults: false };
