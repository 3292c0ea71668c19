/**
 * The typed errors of the peer transport. Each code is stable (logs, metrics and tests key on
 * it). A FrameError is an operating condition caused by bytes from the network: the transport
 * closes the offending connection and logs it, it never crashes the node. A broken invariant of
 * the transport itself is an AssertionError (raft/assert.ts) instead.
 */

/** Why bytes from a peer were rejected. */
export type FrameErrorCode =
  /** A length prefix announced a body above frameBytesMax; rejected before buffering it. */
  | 'FRAME_TOO_LARGE'
  /** The body is not a valid PeerFrame (bad protobuf, no frame kind set, wrong frame kind). */
  | 'MALFORMED_FRAME'
  /** The connection ended in the middle of a frame. */
  | 'TRUNCATED_FRAME'
  /** A RaftMessage with no (or an unknown) body: a type this node does not know. */
  | 'UNKNOWN_MESSAGE_TYPE'
  /** A required field is absent (empty node id, missing sub-message, UNSPECIFIED enum). */
  | 'MISSING_FIELD'
  /** A number above Number.MAX_SAFE_INTEGER (negatives cannot be expressed on the wire). */
  | 'NUMBER_OUT_OF_RANGE'
  /** A field is present but its value breaks an invariant (entry index 0, unknown enum...). */
  | 'INVALID_FIELD';

/** Every FrameErrorCode, for tables and the documentation check. */
export const frameErrorCodes: readonly FrameErrorCode[] = [
  'FRAME_TOO_LARGE',
  'MALFORMED_FRAME',
  'TRUNCATED_FRAME',
  'UNKNOWN_MESSAGE_TYPE',
  'MISSING_FIELD',
  'NUMBER_OUT_OF_RANGE',
  'INVALID_FIELD',
];

/** Bytes from a peer that cannot be accepted; the connection that carried them is closed. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    readonly code: FrameErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Why a handshake failed. The first four travel in a Refuse frame (peer.proto RefuseCode); the
 * dialer reports the latest one per peer in stats().peers[id].lastHandshakeError.
 */
export type HandshakeErrorCode =
  /** The peer belongs to another cluster (different cluster id). */
  | 'CLUSTER_MISMATCH'
  /** The peer's node id is not in this node's peer list. */
  | 'UNKNOWN_PEER'
  /** A node dialed itself (its own id in Hello, or a peer address that points back at it). */
  | 'SELF_CONNECTION'
  /** The peer speaks another protocol version. */
  | 'PROTOCOL_VERSION_MISMATCH'
  /** No Hello (listener) or HelloAck/Refuse (dialer) within handshakeTimeoutMs. */
  | 'HANDSHAKE_TIMEOUT';

/** Every HandshakeErrorCode, for tables and the documentation check. */
export const handshakeErrorCodes: readonly HandshakeErrorCode[] = [
  'CLUSTER_MISMATCH',
  'UNKNOWN_PEER',
  'SELF_CONNECTION',
  'PROTOCOL_VERSION_MISMATCH',
  'HANDSHAKE_TIMEOUT',
];
