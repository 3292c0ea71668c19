/**
 * This node's one outbound connection to one peer: dials, handshakes (Hello -> HelloAck),
 * redials with backoff after every failure or close, and carries everything this node sends
 * to the peer. Raft messages wait in a bounded queue and leave as one RaftBatch per event-loop
 * turn, written together with queued AppFrames in a single vectored write.
 *
 * States: 'dialing' (TCP connect + handshake, bounded by handshakeTimeoutMs) -> 'ready' ->
 * (close) -> 'backoff' -> 'dialing' ...; 'closed' is final.
 */
import { connect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as connectTls, type PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import type { Message, NodeId, SnapshotMessage } from '../../raft/types.js';
import { Backoff } from './backoff.js';
import { FramedConnection } from './connection.js';
import { FrameError, type HandshakeErrorCode } from './errors.js';
import type { PeerAddress, ResolvedOptions } from './options.js';
import { encodePeerFrame, type PeerFrame } from './peer-frame.js';
import { protocolVersion } from './schema.js';
import { certificateNodeId, clusterMismatch } from './tls-credentials.js';
import { SendQueue, messageBytesEstimate } from './send-queue.js';
import { streamSnapshot, type SnapshotAck } from './snapshot-sender.js';
import type { PeerStats, TransportCounters } from './stats.js';
import { frameHeaderBytes } from '../proto/framing.js';

/**
 * Bound on AppFrames queued per peer between flushes: 1024. AppFrames are forwarded client
 * requests, each already bounded by the client API; beyond this the caller gets false and
 * should answer its client "unavailable" rather than buffer without limit.
 */
export const appFramesQueuedMax = 1024;

type State = 'dialing' | 'ready' | 'backoff' | 'closed';

/** The outbound side of one peer. */
export class OutboundPeer {
  readonly id: NodeId;
  readonly #addr: PeerAddress;
  readonly #addrText: string;
  readonly #opts: ResolvedOptions;
  readonly #counters: TransportCounters;
  readonly #logger: Logger;
  readonly #backoff: Backoff;
  readonly #queue: SendQueue;
  /** Encoded AppFrames for the next flush. Invariant: empty unless 'ready'; length <= appFramesQueuedMax. */
  #appFrames: Uint8Array[] = [];
  /** Invariant: 'ready' only with a live #conn whose handshake succeeded. */
  #state: State = 'backoff';
  /** The current connection. Invariant: non-null iff state is 'dialing' or 'ready'. */
  #conn: FramedConnection | null = null;
  /** Pending while dialing. Invariant: set iff state is 'dialing'. */
  #handshakeTimer: NodeJS.Timeout | undefined;
  /** Pending while in backoff. Invariant: set only in state 'backoff'. */
  #redialTimer: NodeJS.Timeout | undefined;
  /** The scheduled flush. Invariant: at most one flush scheduled. */
  #flushImmediate: NodeJS.Immediate | undefined;
  /** True while a flush waits for the socket to drain; no other flush is scheduled meanwhile. */
  #awaitingDrain = false;
  #dials = 0;
  #lastHandshakeError: HandshakeErrorCode | null = null;
  /** Snapshot streams waiting for their ack, by stream id. Invariant: at most one entry. */
  readonly #ackWaiters = new Map<number, (ack: SnapshotAck) => void>();
  #nextStreamId = 1;

  constructor(id: NodeId, addr: PeerAddress, opts: ResolvedOptions, counters: TransportCounters, logger: Logger) {
    this.id = id;
    this.#addr = addr;
    this.#addrText = `${addr.host}:${addr.port}`;
    this.#opts = opts;
    this.#counters = counters;
    this.#logger = logger.child({ peer: id, addr: this.#addrText });
    this.#backoff = new Backoff(opts.rng, opts.reconnectDelayMsInitial, opts.reconnectDelayMsMax);
    this.#queue = new SendQueue(opts.sendQueueMessagesMax, opts.sendQueueBytesMax);
  }

  /** True once the handshake succeeded and until the connection closes. */
  get isConnected(): boolean {
    return this.#state === 'ready';
  }

  /** Starts dialing. */
  start(): void {
    if (this.#state === 'backoff' && this.#redialTimer === undefined) this.#dial();
  }

  /** Queues `msg` for the next flush, or drops and counts it (disconnected or queue full). */
  enqueue(msg: Message): void {
    if (this.#state !== 'ready') {
      this.#counters.dropsDisconnected += 1;
      return;
    }
    if (!this.#queue.maybePush(msg)) {
      this.#counters.dropsQueueFull += 1;
      return;
    }
    this.#scheduleFlush();
  }

  /** Queues an AppFrame; false (not sent) when disconnected, too many are queued, or too large. */
  enqueueApp(appKind: string, requestId: number, payload: Uint8Array, flags = 0): boolean {
    if (this.#state !== 'ready' || this.#appFrames.length >= appFramesQueuedMax) return false;
    const frame = encodePeerFrame({ kind: 'app', appKind, requestId, payload, flags });
    if (frame.byteLength - frameHeaderBytes > this.#opts.frameBytesMax) return false;
    this.#appFrames.push(frame);
    this.#scheduleFlush();
    return true;
  }

  /** Streams a snapshot over the current connection; see PeerTransport.sendSnapshot. */
  async sendSnapshot(msg: SnapshotMessage, chunks: AsyncIterable<Uint8Array>): Promise<boolean> {
    const conn = this.#conn;
    const busy = this.#ackWaiters.size > 0;
    if (this.#state !== 'ready' || conn === null || busy) {
      this.#counters.snapshotsSendFailed += 1;
      this.#logger.warn({ reason: busy ? 'another snapshot in flight' : 'not connected' }, 'snapshot not sent');
      return false;
    }
    const streamId = this.#nextStreamId++;
    const ack = new Promise<SnapshotAck>((resolve) => this.#ackWaiters.set(streamId, resolve));
    this.#logger.info({ streamId, index: msg.snapshot.index, term: msg.snapshot.term }, 'sending snapshot');
    const result = await streamSnapshot({
      conn,
      streamId,
      msg,
      chunks,
      ack,
      frameBytesMax: this.#opts.frameBytesMax,
      progressTimeoutMs: this.#opts.snapshotProgressTimeoutMs,
    });
    this.#ackWaiters.delete(streamId);
    if (result.ok) {
      this.#counters.snapshotsSent += 1;
      this.#logger.info({ streamId }, 'snapshot sent');
    } else {
      this.#counters.snapshotsSendFailed += 1;
      this.#logger.warn({ streamId, reason: result.reason }, 'snapshot send failed');
    }
    return result.ok;
  }

  /** This peer's line in stats(). */
  stats(): PeerStats {
    return { addr: this.#addrText, connected: this.isConnected, queuedMessages: this.#queue.length, lastHandshakeError: this.#lastHandshakeError };
  }

  /** Stops for good: cancels timers, closes the connection; resolves once the socket closed. */
  async close(): Promise<void> {
    const conn = this.#conn;
    this.#state = 'closed';
    clearTimeout(this.#redialTimer);
    this.#redialTimer = undefined;
    if (this.#flushImmediate !== undefined) clearImmediate(this.#flushImmediate);
    this.#flushImmediate = undefined;
    if (conn !== null) {
      conn.close();
      await conn.closed;
    }
  }

  #dial(): void {
    this.#redialTimer = undefined;
    if (this.#state === 'closed') return;
    if (this.#dials > 0) this.#counters.reconnects += 1;
    this.#dials += 1;
    this.#state = 'dialing';
    const socket = this.#connect();
    const conn = new FramedConnection(socket, this.#opts.frameBytesMax, this.#counters, this.#logger, this.#addrText);
    this.#conn = conn;
    conn.start(
      (frame) => this.#onFrame(conn, frame),
      () => this.#onClose(conn),
    );
    conn.write([encodePeerFrame({ kind: 'hello', clusterId: this.#opts.clusterId, nodeId: this.#opts.nodeId, protocolVersion })]);
    this.#handshakeTimer = setTimeout(() => this.#failHandshake(conn, 'HANDSHAKE_TIMEOUT', 'no HelloAck in time'), this.#opts.handshakeTimeoutMs);
  }

  /**
   * Plain TCP, or TLS presenting this node's certificate and verifying the peer's against the
   * cluster CA, its name against the peer's host, and its cluster id.
   */
  #connect(): Socket {
    const { host, port } = this.#addr;
    const tls = this.#opts.tls;
    if (tls === null) return connect({ host, port });
    const clusterId = this.#opts.clusterId;
    const socket = connectTls({
      host,
      port,
      secureContext: tls.context,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      checkServerIdentity: (name: string, cert: PeerCertificate) => {
        const err = checkServerIdentity(name, cert);
        if (err !== undefined) return err;
        const certNode = certificateNodeId(cert);
        const mismatch = clusterMismatch(cert, clusterId) ?? (certNode !== null && certNode !== this.id ? `certificate of node ${certNode}` : null);
        return mismatch === null ? undefined : new Error(`peer ${this.id} at ${this.#addrText}: ${mismatch}`);
      },
    });
    let tcpUp = false;
    socket.once('connect', () => {
      tcpUp = true;
    });
    socket.once('error', (err) => {
      // Before the TCP connect it is a plain connection failure (logged by the usual path).
      if (!tcpUp || socket.authorized) return;
      // Warn when the failure changes; the same failure on every redial is debug.
      const level = err.message === this.#lastTlsError ? 'debug' : 'warn';
      this.#lastTlsError = err.message;
      this.#logger[level]({ err: err.message }, 'peer TLS handshake failed');
    });
    socket.once('secureConnect', () => {
      this.#lastTlsError = null;
    });
    return socket;
  }

  /** The last TLS handshake failure logged at warn (repeats go to debug). */
  #lastTlsError: string | null = null;

  #onFrame(conn: FramedConnection, frame: PeerFrame): void {
    if (conn !== this.#conn) return;
    if (this.#state === 'dialing') {
      if (frame.kind === 'helloAck') return this.#onHelloAck(conn, frame.nodeId);
      if (frame.kind === 'refuse') return this.#failHandshake(conn, frame.code, frame.reason);
    } else if (frame.kind === 'snapshotAck') {
      return this.#ackWaiters.get(frame.streamId)?.({ ok: frame.ok, reason: frame.reason });
    }
    conn.reject(new FrameError('MALFORMED_FRAME', `unexpected ${frame.kind} from listener in state ${this.#state}`));
  }

  #onHelloAck(conn: FramedConnection, nodeId: NodeId): void {
    if (nodeId !== this.id) return this.#failHandshake(conn, 'UNKNOWN_PEER', `address answered as node ${nodeId}`);
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#state = 'ready';
    this.#lastHandshakeError = null;
    this.#backoff.reset();
    this.#logger.info('peer connected');
  }

  #failHandshake(conn: FramedConnection, code: HandshakeErrorCode, reason: string): void {
    // Warn when the failure changes; repeats of the same failure every backoff period are debug.
    const level = code === this.#lastHandshakeError ? 'debug' : 'warn';
    this.#lastHandshakeError = code;
    this.#counters.handshakesFailed += 1;
    this.#logger[level]({ code, reason }, 'peer handshake failed');
    conn.close();
  }

  #onClose(conn: FramedConnection): void {
    if (conn !== this.#conn) return;
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#conn = null;
    if (this.#state === 'ready') this.#logger.info('peer disconnected');
    this.#counters.dropsDisconnected += this.#queue.takeAll().length;
    this.#appFrames = [];
    for (const settle of this.#ackWaiters.values()) settle({ ok: false, reason: 'connection closed' });
    if (this.#state === 'closed') return;
    this.#state = 'backoff';
    const delayMs = this.#backoff.nextDelayMs();
    this.#logger.debug({ delayMs }, 'redialing peer after delay');
    this.#redialTimer = setTimeout(() => this.#dial(), delayMs);
  }

  #scheduleFlush(): void {
    if (this.#flushImmediate === undefined && !this.#awaitingDrain) this.#flushImmediate = setImmediate(() => this.#flush());
  }

  /** Writes everything queued in one vectored write, unless the socket is still full. */
  #flush(): void {
    this.#flushImmediate = undefined;
    const conn = this.#conn;
    if (this.#state !== 'ready' || conn === null) return;
    if (conn.needsDrain) {
      this.#awaitingDrain = true;
      const timer = setTimeout(() => this.#onDrainTimeout(conn), this.#opts.drainTimeoutMs);
      void conn.waitDrain().then((drained) => {
        clearTimeout(timer);
        this.#awaitingDrain = false;
        if (drained) this.#scheduleFlush();
      });
      return;
    }
    const frames = this.#appFrames;
    this.#counters.appFramesSent += frames.length;
    this.#appFrames = [];
    this.#encodeBatches(this.#queue.takeAll(), frames);
    if (frames.length > 0) conn.write(frames);
  }

  /** The socket stayed full for drainTimeoutMs: the peer reads nothing; start over on a new connection. */
  #onDrainTimeout(conn: FramedConnection): void {
    if (conn !== this.#conn) return;
    this.#logger.warn({ drainTimeoutMs: this.#opts.drainTimeoutMs }, 'peer socket did not drain in time; closing the connection');
    conn.close();
  }

  /** Appends RaftBatch frames for `messages` to `out`, each within frameBytesMax. */
  #encodeBatches(messages: readonly Message[], out: Uint8Array[]): void {
    // Group by estimated size first so a backlog does not become one huge encode.
    const batchBytesTarget = this.#opts.frameBytesMax / 2;
    let group: Message[] = [];
    let groupBytes = 0;
    for (const m of messages) {
      const bytes = messageBytesEstimate(m);
      if (group.length > 0 && groupBytes + bytes > batchBytesTarget) {
        this.#encodeBatch(group, out);
        group = [];
        groupBytes = 0;
      }
      group.push(m);
      groupBytes += bytes;
    }
    if (group.length > 0) this.#encodeBatch(group, out);
  }

  /** Encodes `group` as one frame, halving it while the estimate proved too optimistic. */
  #encodeBatch(group: readonly Message[], out: Uint8Array[]): void {
    const frame = encodePeerFrame({ kind: 'raftBatch', messages: group });
    if (frame.byteLength - frameHeaderBytes <= this.#opts.frameBytesMax) {
      out.push(frame);
      this.#counters.messagesSent += group.length;
      return;
    }
    if (group.length === 1) {
      this.#counters.dropsOversize += 1;
      this.#logger.warn({ type: group[0]?.type, bytes: frame.byteLength }, 'dropped raft message larger than frameBytesMax');
      return;
    }
    const half = Math.ceil(group.length / 2);
    this.#encodeBatch(group.slice(0, half), out);
    this.#encodeBatch(group.slice(half), out);
  }
}
