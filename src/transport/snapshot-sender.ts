/**
 * The sending end of one snapshot stream: the 'snap' meta first, then the caller's chunks as
 * SnapshotChunk frames, pulled from the source only as fast as the socket drains, then a done
 * frame and the receiver's ack. At most one chunk is held in this process at a time.
 *
 * Each source chunk travels whole in one frame, never sliced: the receiver hands every frame's
 * data to its sink as one chunk, and a snapshot chunk is only verifiable whole (its checksum
 * covers all of it). Chunks stay near their 1 MiB bound except one holding a single large
 * value, which is no larger than the Raft append that carried that value.
 */
import type { SnapshotMessage } from '../../raft/types.js';
import type { FramedConnection } from './connection.js';
import { frameHeaderBytes } from '../proto/framing.js';
import { encodePeerFrame } from './peer-frame.js';

/** The receiver's verdict on a stream. */
export interface SnapshotAck {
  readonly ok: boolean;
  readonly reason: string;
}

/** The inputs of one stream. */
export interface SnapshotStream {
  readonly conn: FramedConnection;
  readonly streamId: number;
  readonly msg: SnapshotMessage;
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Settles with the receiver's ack, or with a failure when the connection closes. */
  readonly ack: Promise<SnapshotAck>;
  readonly frameBytesMax: number;
  /** Milliseconds to wait for each drain and for the final ack; past it the connection is closed. */
  readonly progressTimeoutMs: number;
}

/**
 * Streams one snapshot; resolves with the ack (never rejects). A failure of the source, a chunk
 * too large for a frame, a stalled socket or a missing ack closes the connection, which tells
 * the receiver to abort its sink and frees whatever it still holds of the stream.
 */
export async function streamSnapshot(s: SnapshotStream): Promise<SnapshotAck> {
  let early: SnapshotAck | null = null;
  void s.ack.then((a) => (early = a));
  const fail = (reason: string): SnapshotAck => {
    s.conn.close();
    return { ok: false, reason };
  };
  const send = async (seq: number, data: Uint8Array, done: boolean): Promise<SnapshotAck | null> => {
    const frame = encodePeerFrame({ kind: 'snapshotChunk', streamId: s.streamId, seq, data, done, meta: seq === 0 ? s.msg : null });
    if (frame.byteLength - frameHeaderBytes > s.frameBytesMax) return fail(`snapshot chunk ${seq} of ${data.byteLength} bytes exceeds frameBytesMax ${s.frameBytesMax}`);
    if (s.conn.write([frame])) return null;
    const drained = await withTimeout(s.conn.waitDrain(), s.progressTimeoutMs);
    if (drained === true) return null;
    return drained === 'timeout' ? fail('socket did not drain in time') : { ok: false, reason: 'connection closed' };
  };
  let seq = 0;
  let failure = await send(seq++, new Uint8Array(0), false);
  if (failure !== null) return failure;
  try {
    for await (const data of s.chunks) {
      if (early !== null) return early;
      failure = await send(seq++, data, false);
      if (failure !== null) return failure;
    }
  } catch (err) {
    return fail(`snapshot source failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (early !== null) return early;
  failure = await send(seq, new Uint8Array(0), true);
  if (failure !== null) return failure;
  const ack = await withTimeout(s.ack, s.progressTimeoutMs);
  // The receiver may still hold the stream (and the connection's later frames) behind a stuck
  // sink: closing is the only way to make it let go.
  return ack === 'timeout' ? fail('no ack in time') : ack;
}

/** `p`'s value, or 'timeout' after `ms` milliseconds; the timer never outlives the call. */
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
