import { assert } from '../../raft/assert.js';
import { frameBytesMaxDefault } from '../transport/index.js';

/**
 * Room a peer frame needs beside its payload: the RaftBatch or AppFrame envelope, an append's
 * term/index/commit fields, the entry envelope (format byte, clock stamp), a forwarded
 * request's id (at most 128 bytes) and kind. They take well under 1 KiB; 4 KiB leaves margin
 * for fields added later.
 */
export const peerFrameOverheadBytesMax = 4096;

/**
 * The size limits of one node, all derived from the peer frame limit, so that anything a node
 * accepts can also be replicated and answered:
 * - a command larger than `commandBytesMax` would become a log entry that no append frame can
 *   carry: no follower could receive it and nothing after it would commit. It is refused
 *   TOO_LARGE before it is proposed (or forwarded), whatever the API's own body limit;
 * - a reply to a forwarded request travels back in one AppFrame: at most `forwardReplyBytesMax`
 *   bytes, so a larger one (a receive of many large bodies) is cut to fit, never dropped. The
 *   cut is measured in the encoding the follower gets (reply-encoding.ts): binary bodies count
 *   their own length, JSON bodies their base64.
 */
export interface SizeLimits {
  /** Largest frame body on the peer transport, both directions. */
  readonly peerFrameBytesMax: number;
  /** Largest command (log entry payload) a node proposes or forwards. */
  readonly commandBytesMax: number;
  /** Largest encoded reply to a forwarded request. */
  readonly forwardReplyBytesMax: number;
}

/** Derives the limits from the peer frame limit (default: the transport's 16 MiB). */
export function deriveSizeLimits(peerFrameBytesMax: number = frameBytesMaxDefault): SizeLimits {
  assert(Number.isInteger(peerFrameBytesMax) && peerFrameBytesMax > 16 * peerFrameOverheadBytesMax, () => `peer frame limit ${peerFrameBytesMax} is too small`);
  const payloadBytesMax = peerFrameBytesMax - peerFrameOverheadBytesMax;
  return { peerFrameBytesMax, commandBytesMax: payloadBytesMax, forwardReplyBytesMax: payloadBytesMax };
}
