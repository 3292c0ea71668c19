/**
 * The listener's side of one peer connection: requires a valid Hello within the handshake
 * timeout, refuses strangers (another cluster, an unknown node, itself, another protocol
 * version), then delivers the peer's Raft messages, AppFrames and snapshot streams. Anything
 * out of protocol closes the connection; nothing here throws into a socket event handler.
 */
import type { Logger } from 'pino';
import type { Message, NodeId, SnapshotMessage } from '../../raft/types.js';
import type { FramedConnection } from './connection.js';
import { FrameError } from './errors.js';
import type { SnapshotSinkFactory } from './options.js';
import { encodePeerFrame, type AppFrame, type HelloFrame, type PeerFrame, type RefuseCode } from './peer-frame.js';
import { protocolVersion } from './schema.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import type { TransportCounters } from './stats.js';

/** What an inbound connection needs from its transport. */
export interface InboundHost {
  readonly clusterId: string;
  readonly nodeId: NodeId;
  readonly handshakeTimeoutMs: number;
  readonly sinkFactory: SnapshotSinkFactory | null;
  readonly logger: Logger;
  readonly counters: TransportCounters;
  isKnownPeer(id: NodeId): boolean;
  /** The peer completed its handshake on `conn` (a newer connection replaces an older one). */
  onAuthenticated(peer: NodeId, conn: InboundConnection): void;
  /** The connection closed (authenticated or not). */
  onClosed(conn: InboundConnection): void;
  deliverMessages(messages: readonly Message[]): void;
  deliverApp(from: NodeId, frame: AppFrame): void;
}

/** One accepted peer socket. */
export class InboundConnection {
  readonly #host: InboundHost;
  readonly #conn: FramedConnection;
  /** The authenticated peer. Invariant: null until an accepted Hello, then never changes. */
  #peer: NodeId | null = null;
  /** Present once authenticated. */
  #snapshots: SnapshotReceiver | null = null;
  /** Pending until the Hello arrives. Invariant: cleared once authenticated or closed. */
  #handshakeTimer: NodeJS.Timeout | undefined;

  /** The node id the TLS certificate binds this connection to (null: none, or plain TCP). */
  readonly #certNodeId: string | null;

  constructor(host: InboundHost, conn: FramedConnection, certNodeId: string | null = null) {
    this.#host = host;
    this.#conn = conn;
    this.#certNodeId = certNodeId;
    this.#handshakeTimer = setTimeout(() => this.#onHandshakeTimeout(), host.handshakeTimeoutMs);
    conn.start(
      (frame) => this.#onFrame(frame),
      () => this.#onClose(),
    );
  }

  /** The authenticated peer, or null during the handshake. */
  get peer(): NodeId | null {
    return this.#peer;
  }

  /** Resolves once the socket closed. */
  get closed(): Promise<void> {
    return this.#conn.closed;
  }

  /** Closes the connection. */
  close(): void {
    this.#conn.close();
  }

  #onFrame(frame: PeerFrame): void | Promise<void> {
    // Only a snapshot chunk returns a promise (it holds back later frames until written); every
    // other branch must return undefined, whatever the handlers it calls return.
    if (this.#peer === null) {
      if (frame.kind === 'hello') this.#onHello(frame);
      else this.#conn.reject(new FrameError('MALFORMED_FRAME', `${frame.kind} before hello`));
      return;
    }
    switch (frame.kind) {
      case 'snapshotChunk':
        return this.#snapshots?.onChunk(frame);
      case 'raftBatch':
        this.#onRaftBatch(this.#peer, frame.messages);
        return;
      case 'app':
        this.#host.counters.appFramesReceived += 1;
        this.#host.deliverApp(this.#peer, frame);
        return;
      default:
        this.#conn.reject(new FrameError('MALFORMED_FRAME', `unexpected ${frame.kind} from dialer`));
        return;
    }
  }

  #onHello(hello: HelloFrame): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    const host = this.#host;
    const refusal = this.#checkHello(hello);
    if (refusal !== null) {
      host.counters.handshakesRefused += 1;
      host.logger.warn(
        { addr: this.#conn.remoteAddr, code: refusal.code, clusterId: hello.clusterId, nodeId: hello.nodeId },
        'refused peer handshake',
      );
      this.#conn.endWith(encodePeerFrame({ kind: 'refuse', code: refusal.code, reason: refusal.reason }));
      return;
    }
    const peer = hello.nodeId;
    this.#peer = peer;
    this.#conn.setPeer(peer);
    this.#snapshots = new SnapshotReceiver({
      peer,
      nodeId: host.nodeId,
      sinkFactory: host.sinkFactory,
      logger: host.logger.child({ peer }),
      counters: host.counters,
      deliver: (msg: SnapshotMessage) => host.deliverMessages([msg]),
      sendAck: (streamId, ok, reason) => this.#conn.write([encodePeerFrame({ kind: 'snapshotAck', streamId, ok, reason })]),
      failStream: (streamId, reason) => this.#conn.endWith(encodePeerFrame({ kind: 'snapshotAck', streamId, ok: false, reason })),
    });
    this.#conn.write([encodePeerFrame({ kind: 'helloAck', nodeId: host.nodeId, protocolVersion })]);
    host.logger.debug({ peer, addr: this.#conn.remoteAddr }, 'accepted inbound peer connection');
    host.onAuthenticated(peer, this);
  }

  #checkHello(hello: HelloFrame): { code: RefuseCode; reason: string } | null {
    const host = this.#host;
    if (hello.protocolVersion !== protocolVersion) {
      return { code: 'PROTOCOL_VERSION_MISMATCH', reason: `version ${hello.protocolVersion}, expected ${protocolVersion}` };
    }
    if (hello.clusterId !== host.clusterId) {
      return { code: 'CLUSTER_MISMATCH', reason: `cluster ${hello.clusterId}, this node is in cluster ${host.clusterId}` };
    }
    if (hello.nodeId === host.nodeId) return { code: 'SELF_CONNECTION', reason: `node ${hello.nodeId} dialed itself` };
    if (this.#certNodeId !== null && hello.nodeId !== this.#certNodeId) {
      return { code: 'UNKNOWN_PEER', reason: `node ${hello.nodeId} presented the TLS certificate of node ${this.#certNodeId}` };
    }
    if (!host.isKnownPeer(hello.nodeId)) return { code: 'UNKNOWN_PEER', reason: `node ${hello.nodeId} is not a peer of ${host.nodeId}` };
    return null;
  }

  #onRaftBatch(peer: NodeId, messages: readonly Message[]): void {
    const host = this.#host;
    const accepted: Message[] = [];
    for (const m of messages) {
      if (m.from === peer && m.to === host.nodeId) {
        accepted.push(m);
        continue;
      }
      host.counters.dropsMisaddressed += 1;
      host.logger.warn({ peer, type: m.type, from: m.from, to: m.to }, 'dropped misaddressed raft message');
    }
    if (accepted.length > 0) host.deliverMessages(accepted);
  }

  #onHandshakeTimeout(): void {
    this.#handshakeTimer = undefined;
    this.#host.counters.handshakesRefused += 1;
    this.#host.logger.warn({ addr: this.#conn.remoteAddr, code: 'HANDSHAKE_TIMEOUT' }, 'no hello from inbound connection; closing');
    this.#conn.close();
  }

  #onClose(): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#snapshots?.abortAll('connection closed');
    this.#host.onClosed(this);
  }
}
