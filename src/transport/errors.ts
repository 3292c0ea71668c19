/**
 * The typed errors of the peer transport. Each code is stable (logs, metrics and tests key on
 * it). A FrameError is an operating condition caused by bytes from the network: the transport
 * closes the offending connection and logs it, it never crashes the node. FrameError and its
 * codes are defined in src/proto/frame-error.ts (the framing, shared with the binary API and the
 * client, throws it too) and re-exported here. A broken invariant of the transport itself is an
 * AssertionError (raft/assert.ts) instead.
 */

export { FrameError, frameErrorCodes, type FrameErrorCode } from '../proto/frame-error.js';

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
