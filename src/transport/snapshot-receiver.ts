/**
 * The receiving end of snapshot streams on one inbound connection: opens a sink when the first
 * chunk (carrying the 'snap' meta) arrives, writes chunks to it strictly in order, and answers
 * one SnapshotAck per stream. The connection holds back later frames while a write is pending,
 * so chunks flow to the sink (and to disk) no faster than it absorbs them.
 *
 * A stream that fails once open (a sink write or finish failed, a chunk out of order) is nacked
 * and the connection is closed: the sender stops at once, the frames it still had in flight
 * are dropped instead of being read and ignored, and it redials with backoff.
 */
import type { Logger } from 'pino';
import type { NodeId, SnapshotMessage } from '../../raft/types.js';
import type { SnapshotSink, SnapshotSinkFactory } from './options.js';
import type { SnapshotChunkFrame } from './peer-frame.js';
import type { TransportCounters } from './stats.js';

/** What a SnapshotReceiver needs from its connection. */
export interface SnapshotReceiverHost {
  readonly peer: NodeId;
  readonly nodeId: NodeId;
  readonly sinkFactory: SnapshotSinkFactory | null;
  readonly logger: Logger;
  readonly counters: TransportCounters;
  /** Hands the installed snapshot's 'snap' message to the Raft core. */
  deliver(msg: SnapshotMessage): void;
  /** Sends the stream's SnapshotAck back to the sender. */
  sendAck(streamId: number, ok: boolean, reason: string): void;
  /** Sends a not-ok SnapshotAck, then closes the connection once it is written. */
  failStream(streamId: number, reason: string): void;
}

interface OpenStream {
  readonly id: number;
  readonly msg: SnapshotMessage;
  readonly sink: SnapshotSink;
  /** Invariant: the seq of the next chunk this stream accepts; chunks 0..nextSeq-1 were written. */
  nextSeq: number;
}

/** Snapshot streams arriving on one connection (one open stream at a time). */
export class SnapshotReceiver {
  readonly #host: SnapshotReceiverHost;
  /** The stream being received. Invariant: its sink has been neither finished nor aborted. */
  #stream: OpenStream | null = null;
  /** The last stream that failed: its remaining chunks are ignored (it was already nacked). */
  #failedStreamId = -1;

  constructor(host: SnapshotReceiverHost) {
    this.#host = host;
  }

  /** Processes one chunk; resolves once its data is written (never rejects). */
  async onChunk(chunk: SnapshotChunkFrame): Promise<void> {
    if (chunk.meta !== null) {
      if (this.#stream !== null) this.#supersede(this.#stream.id);
      if (!this.#maybeOpen(chunk.streamId, chunk.meta)) return;
    }
    const stream = this.#stream;
    if (stream === null || stream.id !== chunk.streamId) {
      if (chunk.streamId !== this.#failedStreamId) this.#nack(chunk.streamId, `chunk ${chunk.seq} of unknown stream`);
      return;
    }
    if (chunk.seq !== stream.nextSeq) {
      this.#fail(stream.id, `chunk ${chunk.seq} arrived, expected ${stream.nextSeq}`);
      return;
    }
    stream.nextSeq += 1;
    try {
      if (chunk.data.byteLength > 0) await stream.sink.write(chunk.data);
      if (this.#stream !== stream) return; // aborted (connection closed) while writing
      if (chunk.done) await stream.sink.finish();
    } catch (err) {
      if (this.#stream === stream) this.#fail(stream.id, `snapshot sink failed: ${errorMessage(err)}`);
      return;
    }
    if (chunk.done && this.#stream === stream) this.#complete(stream);
  }

  /** Aborts the open stream, if any (the connection closed). */
  abortAll(reason: string): void {
    const stream = this.#stream;
    if (stream === null) return;
    this.#stream = null;
    this.#failedStreamId = stream.id;
    this.#host.counters.snapshotsReceiveFailed += 1;
    this.#host.logger.warn({ streamId: stream.id, reason }, 'snapshot stream aborted');
    stream.sink.abort(reason);
  }

  #maybeOpen(streamId: number, msg: SnapshotMessage): boolean {
    const host = this.#host;
    if (msg.from !== host.peer || msg.to !== host.nodeId) {
      host.counters.dropsMisaddressed += 1;
      this.#nack(streamId, `snapshot from ${msg.from} to ${msg.to} on the connection of ${host.peer}`);
      return false;
    }
    if (host.sinkFactory === null) {
      this.#nack(streamId, 'this node accepts no snapshots (no snapshotSink)');
      return false;
    }
    let sink: SnapshotSink;
    try {
      sink = host.sinkFactory(host.peer, msg);
    } catch (err) {
      this.#nack(streamId, `snapshot refused: ${errorMessage(err)}`);
      return false;
    }
    this.#stream = { id: streamId, msg, sink, nextSeq: 0 };
    host.logger.info({ streamId, index: msg.snapshot.index, term: msg.snapshot.term }, 'receiving snapshot');
    return true;
  }

  #complete(stream: OpenStream): void {
    this.#stream = null;
    this.#host.counters.snapshotsReceived += 1;
    this.#host.logger.info({ streamId: stream.id, index: stream.msg.snapshot.index }, 'snapshot received');
    this.#host.deliver(stream.msg);
    this.#host.sendAck(stream.id, true, '');
  }

  /** The open stream failed: nack it and close the connection (module comment). */
  #fail(streamId: number, reason: string): void {
    this.abortAll(reason);
    this.#host.failStream(streamId, reason);
  }

  /** The sender started a new stream before ending the open one: nack the old one only. */
  #supersede(streamId: number): void {
    const reason = 'superseded by a new snapshot stream';
    this.abortAll(reason);
    this.#host.sendAck(streamId, false, reason);
  }

  #nack(streamId: number, reason: string): void {
    this.#failedStreamId = streamId;
    this.#host.counters.snapshotsReceiveFailed += 1;
    this.#host.logger.warn({ streamId, reason }, 'snapshot stream refused');
    this.#host.sendAck(streamId, false, reason);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
