/**
 * How the reply to a forwarded request is encoded, and the rule that keeps a rolling upgrade
 * working when nodes of the previous release (JSON replies only) and of this one share a cluster.
 *
 * The request. A follower forwards the client's command bytes unchanged (forward-frame.ts) in
 * an AppFrame. A follower of this release sets `forwardFlagBinaryReply` in the AppFrame's
 * `flags`, a protobuf field (peer.proto, AppFrame.flags = 4) that a node of the previous
 * release skips as unknown: an old leader serves the request exactly as before.
 *
 * The reply (first byte of the reply payload, forwarder.ts):
 *   0  error, then JSON {code, message, leader}            (both releases)
 *   1  ok, then the reply in JSON with bytes as {"$b64"}   (both releases)
 *   2  ok, then the reply in the binary layout             (this release only)
 *
 * The rule: a leader answers status 2 only to a request whose flags carry
 * `forwardFlagBinaryReply`, and status 1 otherwise. A follower of this release decodes all
 * three. So
 * - old follower -> new leader: no flag, JSON reply (1), which the old follower reads;
 * - new follower -> old leader: the flag is skipped, JSON reply (1), which the new follower reads;
 * - new follower -> new leader: binary reply (2).
 * A node restarted onto the other release in place re-announces per request, so no state about
 * peers is kept that could go stale. The JSON path can go once no release without status 2 is
 * supported.
 */

/** How a reply travels back to the follower. */
export type ReplyEncoding = 'json' | 'binary';

/** Encodes a reply on the leader and decodes it on the follower. */
export interface ReplyCodec<Reply> {
  encode(reply: Reply): Uint8Array;
  /** Throws a RaftqError (INTERNAL) for bytes that are not a reply. */
  decode(bytes: Uint8Array): Reply;
}

/** One codec per encoding: a node of this release decodes both. */
export type ReplyCodecs<Reply> = Readonly<Record<ReplyEncoding, ReplyCodec<Reply>>>;

/** AppFrame flag of a forwarded request: the follower reads binary (status 2) replies. */
export const forwardFlagBinaryReply = 1;

/** The first byte of a reply payload. */
export const replyStatus = { error: 0, okJson: 1, okBinary: 2 } as const;

/** The flags a follower of this release sets on a forwarded request. */
export function forwardFlags(): number {
  return forwardFlagBinaryReply;
}

/** The encoding a leader answers a forwarded request with, from the request's AppFrame flags. */
export function replyEncodingFor(flags: number | undefined): ReplyEncoding {
  return ((flags ?? 0) & forwardFlagBinaryReply) !== 0 ? 'binary' : 'json';
}
