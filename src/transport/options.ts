/**
 * PeerTransport options, their defaults, and the snapshot sink contract.
 */
import type { Logger } from 'pino';
import type { NodeId, SnapshotMessage } from '../../raft/types.js';
import { reconnectDelayMsInitialDefault, reconnectDelayMsMaxDefault, type Rng } from './backoff.js';
import { frameBytesMaxCeiling, frameBytesMaxDefault } from '../proto/framing.js';
import type { TlsCredentials } from './tls-credentials.js';
import { sendQueueBytesMaxDefault, sendQueueMessagesMaxDefault } from './send-queue.js';

/** A TCP address. */
export interface PeerAddress {
  readonly host: string;
  /** TCP port; 0 in `listen` picks a free port (see PeerTransport.address()). */
  readonly port: number;
}

/**
 * Where the bytes of one incoming snapshot go (e.g. a temporary file or a storage batch).
 * The transport calls write() once per chunk, in order, with each chunk exactly as the sender's
 * source yielded it, never before the previous write() settled, and pauses the connection
 * meanwhile; then finish() once, or abort() once instead. A rejected write() or finish() nacks
 * the stream and closes the connection.
 * After abort() no other method is called. finish() resolving means the snapshot is durable:
 * only then is the 'snap' message delivered through onMessage and an ok ack sent.
 */
export interface SnapshotSink {
  /** Stores the next chunk. A rejection fails the stream (abort is then called). */
  write(chunk: Uint8Array): Promise<void>;
  /** All chunks were written: make them durable. A rejection aborts the stream. */
  finish(): Promise<void>;
  /** The stream failed (sender gone, bad chunk, write/finish failed): discard what was written. */
  abort(reason: string): void;
}

/**
 * Opens a sink for a snapshot from peer `from`, described by `msg`, before its first byte
 * arrives. Throwing refuses the snapshot (the sender's sendSnapshot resolves false).
 */
export type SnapshotSinkFactory = (from: NodeId, msg: SnapshotMessage) => SnapshotSink;

/**
 * Default handshake timeout: 5 s. Covers a TCP connect plus one round trip on a congested
 * network; it also bounds how long a silent inbound socket may hold a file descriptor.
 */
export const handshakeTimeoutMsDefault = 5000;

/**
 * Default snapshot progress timeout: 30 s. The longest a snapshot sender waits for its socket
 * to drain or for the final ack (the receiver makes the snapshot durable before acking);
 * beyond it the stream is abandoned and Raft retries.
 */
export const snapshotProgressTimeoutMsDefault = 30_000;

/**
 * Default drain timeout: 30 s. The longest a flush of Raft messages and AppFrames waits for a
 * full socket buffer to drain; a peer that reads nothing for that long (frozen, or holding the
 * connection behind a stuck snapshot sink) gets its connection closed and redialed, so the
 * queue behind it does not wait forever. Same bound as a snapshot's progress.
 */
export const drainTimeoutMsDefault = 30_000;

/** Options of a PeerTransport. */
export interface PeerTransportOptions {
  /** Peers with another cluster id are refused (CLUSTER_MISMATCH). */
  readonly clusterId: string;
  /** This node's id; it must not be a key of `peers`. */
  readonly nodeId: NodeId;
  /** Where to accept inbound peer connections. */
  readonly listen: PeerAddress;
  /** The other voters and learners; more can be added with addPeer(). */
  readonly peers?: Readonly<Record<NodeId, PeerAddress>>;
  readonly logger: Logger;
  /** Largest frame body in bytes, both directions (default 16 MiB, see frameBytesMaxDefault). */
  readonly frameBytesMax?: number;
  /** Bound on messages queued per peer (default 4096, see sendQueueMessagesMaxDefault). */
  readonly sendQueueMessagesMax?: number;
  /** Bound on estimated bytes queued per peer (default 64 MiB, see sendQueueBytesMaxDefault). */
  readonly sendQueueBytesMax?: number;
  /** Milliseconds allowed for connect + Hello/HelloAck, both directions (default 5000). */
  readonly handshakeTimeoutMs?: number;
  /** Milliseconds a snapshot send waits for drain or the final ack (default 30000). */
  readonly snapshotProgressTimeoutMs?: number;
  /** Milliseconds a flush waits for the socket to drain before closing it (default 30000). */
  readonly drainTimeoutMs?: number;
  /** First reconnect delay in milliseconds (default 50). */
  readonly reconnectDelayMsInitial?: number;
  /** Largest reconnect delay in milliseconds (default 2000). */
  readonly reconnectDelayMsMax?: number;
  /** Random numbers in [0, 1) for reconnect jitter (default Math.random). */
  readonly rng?: Rng;
  /** Receives incoming snapshots; without it every incoming snapshot is refused. */
  readonly snapshotSink?: SnapshotSinkFactory;
  /**
   * Mutual TLS under the cluster CA: the listener requires a client certificate, dialers present
   * theirs and verify the peer's name (its host) against the CA; both sides also require the
   * certificate to name this cluster. Absent: plain TCP.
   */
  readonly tls?: TlsCredentials;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  readonly clusterId: string;
  readonly nodeId: NodeId;
  readonly listen: PeerAddress;
  readonly logger: Logger;
  readonly frameBytesMax: number;
  readonly sendQueueMessagesMax: number;
  readonly sendQueueBytesMax: number;
  readonly handshakeTimeoutMs: number;
  readonly snapshotProgressTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly reconnectDelayMsInitial: number;
  readonly reconnectDelayMsMax: number;
  readonly rng: Rng;
  readonly snapshotSink: SnapshotSinkFactory | null;
  readonly tls: TlsCredentials | null;
}

/** Fills in defaults; programmer mistakes (empty ids, bad bounds) throw TypeError. */
export function resolveOptions(o: PeerTransportOptions): ResolvedOptions {
  if (o.clusterId === '' || o.nodeId === '') throw new TypeError('clusterId and nodeId must be non-empty');
  const resolved: ResolvedOptions = {
    clusterId: o.clusterId,
    nodeId: o.nodeId,
    listen: o.listen,
    logger: o.logger,
    frameBytesMax: o.frameBytesMax ?? frameBytesMaxDefault,
    sendQueueMessagesMax: o.sendQueueMessagesMax ?? sendQueueMessagesMaxDefault,
    sendQueueBytesMax: o.sendQueueBytesMax ?? sendQueueBytesMaxDefault,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? handshakeTimeoutMsDefault,
    snapshotProgressTimeoutMs: o.snapshotProgressTimeoutMs ?? snapshotProgressTimeoutMsDefault,
    drainTimeoutMs: o.drainTimeoutMs ?? drainTimeoutMsDefault,
    reconnectDelayMsInitial: o.reconnectDelayMsInitial ?? reconnectDelayMsInitialDefault,
    reconnectDelayMsMax: o.reconnectDelayMsMax ?? reconnectDelayMsMaxDefault,
    rng: o.rng ?? Math.random,
    snapshotSink: o.snapshotSink ?? null,
    tls: o.tls ?? null,
  };
  if (!(resolved.frameBytesMax >= 1024 && resolved.frameBytesMax <= frameBytesMaxCeiling)) {
    throw new TypeError(`frameBytesMax ${resolved.frameBytesMax} is outside 1024..${frameBytesMaxCeiling}`);
  }
  for (const key of ['sendQueueMessagesMax', 'sendQueueBytesMax', 'handshakeTimeoutMs', 'snapshotProgressTimeoutMs', 'drainTimeoutMs'] as const) {
    if (!(resolved[key] > 0)) throw new TypeError(`${key} must be positive`);
  }
  if (!(resolved.reconnectDelayMsInitial > 0 && resolved.reconnectDelayMsMax >= resolved.reconnectDelayMsInitial)) {
    throw new TypeError('reconnect delays must satisfy 0 < reconnectDelayMsInitial <= reconnectDelayMsMax');
  }
  return resolved;
}
