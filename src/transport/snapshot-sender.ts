/**
 * The sending end of one snapshot stream: the 'snap' meta first, then the caller's chunks as
 * SnapshotChunk frames, pulled from the source only as fast as the socket drains, then a done
 * frame and the receiver's ack. At most one chunk is held in this process at a time.
 */
import type { SnapshotMessage } from '../../raft/types.js';
import type { FramedConnection } from './connection.js';
import { encodePeerFrame } from './peer-frame.js';

/**
 * Largest data slice per SnapshotChunk frame: 1 MiB (or less when frameBytesMax is smaller).
 * Larger source chunks are split; small enough that a chunk frame never delays Raft frames on
 * the same connection by more than a few milliseconds on a LAN.
 */
export const snapshotChunkBytesMaxDefault = 1024 * 1024;

/** Room left in a frame for the SnapshotChunk fields around the data. */
const chunkFrameOverheadBytes = 64;

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
  /** Milliseconds to wait for each drain and for the final ack. */
  readonly progressTimeoutMs: number;
}

/**
 * Streams one snapshot; resolves with the ack (never rejects). A failure of the source or a
 * stalled socket closes the connection, which tells the receiver to abort its sink.
 */
export async function streamSnapshot(s: SnapshotStream): Promise<SnapshotAck> {
  let early: SnapshotAck | null = null;
  void s.ack.then((a) => (early = a));
  const sliceBytesMax = Math.min(snapshotChunkBytesMaxDefault, s.frameBytesMax - chunkFrameOverheadBytes);
  const send = async (seq: number, data: Uint8Array, done: boolean): Promise<SnapshotAck | null> => {
    const frame = encodePeerFrame({ kind: 'snapshotChunk', streamId: s.streamId, seq, data, done, meta: seq === 0 ? s.msg : null });
    if (s.conn.write([frame])) return null;
    const drained = await withTimeout(s.conn.waitDrain(), s.progressTimeoutMs);
    if (drained === true) return null;
    if (drained === 'timeout') s.conn.close();
    return { ok: false, reason: drained === 'timeout' ? 'socket did not drain in time' : 'connection closed' };
  };
  let seq = 0;
  let failure = await send(seq++, new Uint8Array(0), false);
  if (failure !== null) return failure;
  try {
    for await (const data of s.chunks) {
      for (let offset = 0; offset < data.byteLength; offset += sliceBytesMax) {
        if (early !== null) return early;
        failure = await send(seq++, data.subarray(offset, offset + sliceBytesMax), false);
        if (failure !== null) return failure;
      }
    }
  } catch (err) {
    s.conn.close();
    return { ok: false, reason: `snapshot source failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (early !== null) return early;
  failure = await send(seq, new Uint8Array(0), true);
  if (failure !== null) return failure;
  const ack = await withTimeout(s.ack, s.progressTimeoutMs);
  return ack === 'timeout' ? { ok: false, reason: 'no ack in time' } : ack;
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
