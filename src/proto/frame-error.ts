/**
 * FrameError: bytes from the network that cannot be accepted. It lives here, in the bottom layer,
 * because the framing (framing.ts) throws it for every stream it splits: peer connections, the
 * binary client API and the client library (FRAME_TOO_LARGE, TRUNCATED_FRAME). The peer
 * protocol's decoders (src/transport) throw it with the other codes; src/transport/errors.ts
 * re-exports it next to the handshake errors. Each code is stable (logs, metrics and tests key
 * on it). A FrameError is an operating condition: whoever reads the stream closes the connection
 * that carried the bytes, never the process. A broken invariant of raftq itself is never a
 * FrameError.
 */

/** Why bytes from the network were rejected. */
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

/** Bytes from the network that cannot be accepted; the connection that carried them is closed. */
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
