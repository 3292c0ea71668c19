/**
 * PeerTransport: carries Raft messages, snapshot streams and opaque application frames between
 * the nodes of one cluster over TCP. Each node listens for inbound connections (which deliver
 * what peers send) and keeps one outbound connection per peer (which carries what it sends).
 * Delivery is best effort, as Raft expects: messages to a disconnected or backed-up peer are
 * dropped and counted, never buffered without bound.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { assert } from '../../raft/assert.js';
import type { Message, NodeId, SnapshotMessage } from '../../raft/types.js';
import { FramedConnection } from './connection.js';
import { InboundConnection, type InboundHost } from './inbound.js';
import { resolveOptions, type PeerAddress, type PeerTransportOptions, type ResolvedOptions } from './options.js';
import { OutboundPeer } from './outbound-peer.js';
import type { AppFrame } from './peer-frame.js';
import { certificateNodeId, clusterMismatch } from './tls-credentials.js';
import { zeroCounters, type PeerStats, type TransportCounters, type TransportStats } from './stats.js';

/** Receives every Raft message addressed to this node, in arrival order per peer. */
export type MessageHandler = (msg: Message) => void;

/** Receives every AppFrame a peer sent to this node. */
export type AppHandler = (from: NodeId, frame: AppFrame) => void;

/** The TCP transport between the peers of one cluster. */
export class PeerTransport {
  readonly #opts: ResolvedOptions;
  readonly #logger: Logger;
  readonly #counters: TransportCounters = zeroCounters();
  /** Invariant: never holds this node's own id. */
  readonly #outbound = new Map<NodeId, OutboundPeer>();
  /** Every open inbound connection, authenticated or not. */
  readonly #inbound = new Set<InboundConnection>();
  /** The live authenticated inbound connection of each peer. Invariant: a subset of #inbound. */
  readonly #inboundByPeer = new Map<NodeId, InboundConnection>();
  #server: Server | null = null;
  /** Invariant: 'new' -> 'started' -> 'closed', never backwards. */
  #lifecycle: 'new' | 'started' | 'closed' = 'new';
  #onMessage: MessageHandler = () => {};
  #onApp: AppHandler = () => {};
  readonly #inboundHost: InboundHost;

  /** Validates options (TypeError on a programmer mistake); start() opens sockets. */
  constructor(options: PeerTransportOptions) {
    this.#opts = resolveOptions(options);
    this.#logger = this.#opts.logger.child({ component: 'transport', node: this.#opts.nodeId });
    for (const [id, addr] of Object.entries(options.peers ?? {})) this.addPeer(id, addr);
    this.#inboundHost = this.#makeInboundHost();
  }

  /** Sets the handler of inbound Raft messages (replaces the previous one). It must not throw. */
  onMessage(handler: MessageHandler): void {
    this.#onMessage = handler;
  }

  /** Sets the handler of inbound AppFrames (replaces the previous one). It must not throw. */
  onApp(handler: AppHandler): void {
    this.#onApp = handler;
  }

  /** Listens on options.listen and starts dialing every peer; resolves once listening. */
  async start(): Promise<void> {
    assert(this.#lifecycle === 'new', 'PeerTransport.start called twice or after close');
    this.#lifecycle = 'started';
    const server = this.#createServer();
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.listen.port, this.#opts.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#logger.error({ err: err.message }, 'peer listener error'));
    this.#logger.info({ addr: this.#addressText() }, 'peer transport listening');
    for (const peer of this.#outbound.values()) peer.start();
  }

  /** The address actually listened on (the real port when options.listen.port was 0). */
  address(): PeerAddress {
    const a = this.#server?.address();
    assert(a !== null && a !== undefined && typeof a === 'object', 'PeerTransport is not listening');
    return { host: a.address, port: a.port };
  }

  /** Adds (or re-addresses) a peer: it may now connect to us, and we dial it. */
  addPeer(id: NodeId, addr: PeerAddress): void {
    if (id === '' || id === this.#opts.nodeId) throw new TypeError(`cannot add peer ${JSON.stringify(id)}`);
    const existing = this.#outbound.get(id);
    if (existing !== undefined) {
      if (existing.stats().addr === `${addr.host}:${addr.port}`) return;
      this.removePeer(id);
    }
    const peer = new OutboundPeer(id, addr, this.#opts, this.#counters, this.#logger);
    this.#outbound.set(id, peer);
    if (this.#lifecycle === 'started') peer.start();
  }

  /** Forgets a peer: closes both directions and refuses its future handshakes. */
  removePeer(id: NodeId): void {
    const peer = this.#outbound.get(id);
    this.#outbound.delete(id);
    void peer?.close();
    this.#inboundByPeer.get(id)?.close();
  }

  /** True when the outbound connection to `peer` is up (messages to it are not dropped). */
  isConnected(peer: NodeId): boolean {
    return this.#outbound.get(peer)?.isConnected ?? false;
  }

  /**
   * Queues messages for their `to` peers; all messages queued during one event-loop turn leave
   * as one write per peer. Messages to unknown or disconnected peers, or beyond a full queue,
   * are dropped and counted (Raft retransmits). 'snap' messages must go through sendSnapshot.
   */
  send(messages: readonly Message[]): void {
    for (const msg of messages) {
      assert(msg.from === this.#opts.nodeId, () => `sending a message from ${msg.from} on node ${this.#opts.nodeId}`);
      assert(msg.type !== 'snap', 'snap messages are sent with sendSnapshot');
      const peer = this.#outbound.get(msg.to);
      if (peer === undefined) this.#counters.dropsDisconnected += 1;
      else peer.enqueue(msg);
    }
  }

  /**
   * Streams a snapshot to `to`: `msg` first (so the receiver can open its sink), then the
   * chunks, read from `chunks` only as fast as the connection drains. Resolves true once the
   * receiver made it durable and acked, false on refusal, abort, timeout, disconnect, or when
   * another snapshot to `to` is in flight. Never rejects.
   */
  sendSnapshot(to: NodeId, msg: SnapshotMessage, chunks: AsyncIterable<Uint8Array>): Promise<boolean> {
    assert(msg.to === to && msg.from === this.#opts.nodeId, 'snapshot message addressing');
    const peer = this.#outbound.get(to);
    if (peer === undefined) {
      this.#counters.snapshotsSendFailed += 1;
      return Promise.resolve(false);
    }
    return peer.sendSnapshot(msg, chunks);
  }

  /**
   * Sends an opaque AppFrame to `to` with the next flush. Returns false when it was not queued
   * (peer unknown or disconnected, too many queued, or larger than frameBytesMax). `flags` are
   * the application's bits (AppFrame.flags; 0 is not written, so the frame is as before).
   */
  sendApp(to: NodeId, kind: string, requestId: number, payload: Uint8Array, flags = 0): boolean {
    assert(Number.isSafeInteger(requestId) && requestId >= 0, 'requestId must be an unsigned safe integer');
    assert(Number.isInteger(flags) && flags >= 0 && flags <= 0xffffffff, 'flags must be a u32');
    return this.#outbound.get(to)?.enqueueApp(kind, requestId, payload, flags) ?? false;
  }

  /** Counters since creation and the state of every outbound peer. */
  stats(): TransportStats {
    const peers: Record<NodeId, PeerStats> = {};
    for (const [id, peer] of this.#outbound) peers[id] = peer.stats();
    return { ...this.#counters, peers };
  }

  /** Stops listening, closes every socket and cancels every timer; resolves when all closed. */
  async close(): Promise<void> {
    if (this.#lifecycle === 'closed') return;
    this.#lifecycle = 'closed';
    const server = this.#server;
    const serverClosed = server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    const closing: Promise<void>[] = [serverClosed];
    for (const peer of this.#outbound.values()) closing.push(peer.close());
    for (const conn of this.#inbound) {
      conn.close();
      closing.push(conn.closed);
    }
    await Promise.all(closing);
    this.#logger.info('peer transport closed');
  }

  /** A plain TCP listener, or with TLS a mutual-TLS one that also checks the cluster id. */
  #createServer(): Server {
    const tls = this.#opts.tls;
    if (tls === null) return createServer((socket) => this.#onInboundSocket(socket));
    // The certificate is checked here rather than by rejectUnauthorized, so a refusal logs why
    // (an unverifiable certificate, none, or another cluster's); no byte reaches the peer
    // protocol before it passes.
    const server = createTlsServer({ ...tls.material, requestCert: true, rejectUnauthorized: false }, (socket: TLSSocket) => {
      const reason = socket.authorized ? clusterMismatch(socket.getPeerCertificate(), this.#opts.clusterId) : `untrusted client certificate: ${String(socket.authorizationError ?? 'none presented')}`;
      if (reason !== null) {
        this.#counters.handshakesRefused += 1;
        this.#logger.warn({ addr: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, reason }, 'refused peer TLS connection');
        socket.destroy();
        return;
      }
      this.#onInboundSocket(socket, certificateNodeId(socket.getPeerCertificate()));
    });
    tls.serve(server, 'peer');
    return server;
  }

  /** @param certNodeId the node id the peer's TLS certificate is bound to, if any: its Hello must claim it. */
  #onInboundSocket(socket: Socket, certNodeId: string | null = null): void {
    if (this.#lifecycle !== 'started') {
      socket.destroy();
      return;
    }
    const conn = new FramedConnection(socket, this.#opts.frameBytesMax, this.#counters, this.#logger);
    this.#inbound.add(new InboundConnection(this.#inboundHost, conn, certNodeId));
  }

  #makeInboundHost(): InboundHost {
    const opts = this.#opts;
    return {
      clusterId: opts.clusterId,
      nodeId: opts.nodeId,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      sinkFactory: opts.snapshotSink,
      logger: this.#logger,
      counters: this.#counters,
      isKnownPeer: (id) => this.#outbound.has(id),
      onAuthenticated: (peer, conn) => {
        const previous = this.#inboundByPeer.get(peer);
        this.#inboundByPeer.set(peer, conn);
        if (previous !== undefined) {
          this.#logger.info({ peer }, 'newer inbound connection replaces the previous one');
          previous.close();
        }
      },
      onClosed: (conn) => {
        this.#inbound.delete(conn);
        if (conn.peer !== null && this.#inboundByPeer.get(conn.peer) === conn) this.#inboundByPeer.delete(conn.peer);
      },
      deliverMessages: (messages) => {
        this.#counters.messagesReceived += messages.length;
        for (const m of messages) this.#onMessage(m);
      },
      deliverApp: (from, frame) => this.#onApp(from, frame),
    };
  }

  #addressText(): string {
    const a = this.address();
    return `${a.host}:${a.port}`;
  }
}
