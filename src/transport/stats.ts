/**
 * Transport counters. Monotonic totals since the transport was created; a metrics exporter
 * (prom-client) samples them through PeerTransport.stats().
 */

import type { HandshakeErrorCode } from './errors.js';

/** Monotonic counters of one transport. */
export interface TransportCounters {
  /** Bytes written to / read from peer sockets, frame headers included. */
  bytesSent: number;
  bytesReceived: number;
  /** Frames written / read (every kind). */
  framesSent: number;
  framesReceived: number;
  /** Raft messages written in batches / delivered to onMessage. */
  messagesSent: number;
  messagesReceived: number;
  /** Outbound dials after the first one to a peer. */
  reconnects: number;
  /** Messages dropped: the peer's send queue was full. */
  dropsQueueFull: number;
  /** Messages dropped: the peer was not connected (or unknown). */
  dropsDisconnected: number;
  /** Messages dropped: alone, the message encodes to more than frameBytesMax. */
  dropsOversize: number;
  /** Inbound messages dropped: `to` is not this node or `from` is not the connected peer. */
  dropsMisaddressed: number;
  /** Inbound connections closed for a malformed, oversized or truncated frame. */
  framesRejected: number;
  /** Inbound handshakes this node refused. */
  handshakesRefused: number;
  /** Outbound handshakes a peer refused (or that timed out). */
  handshakesFailed: number;
  /** Snapshot streams sent and acknowledged ok / that failed. */
  snapshotsSent: number;
  snapshotsSendFailed: number;
  /** Snapshot streams received and installed / aborted. */
  snapshotsReceived: number;
  snapshotsReceiveFailed: number;
  /** AppFrames written / received. */
  appFramesSent: number;
  appFramesReceived: number;
}

/** A fresh set of zero counters. */
export function zeroCounters(): TransportCounters {
  return {
    bytesSent: 0,
    bytesReceived: 0,
    framesSent: 0,
    framesReceived: 0,
    messagesSent: 0,
    messagesReceived: 0,
    reconnects: 0,
    dropsQueueFull: 0,
    dropsDisconnected: 0,
    dropsOversize: 0,
    dropsMisaddressed: 0,
    framesRejected: 0,
    handshakesRefused: 0,
    handshakesFailed: 0,
    snapshotsSent: 0,
    snapshotsSendFailed: 0,
    snapshotsReceived: 0,
    snapshotsReceiveFailed: 0,
    appFramesSent: 0,
    appFramesReceived: 0,
  };
}

/** The state of one outbound peer, as reported by stats(). */
export interface PeerStats {
  readonly addr: string;
  /** True once the handshake succeeded and until the connection closes. */
  readonly connected: boolean;
  readonly queuedMessages: number;
  /** The last handshake failure code for this peer (e.g. CLUSTER_MISMATCH), or null. */
  readonly lastHandshakeError: HandshakeErrorCode | null;
}

/** A snapshot of a transport's counters and peers. */
export interface TransportStats extends Readonly<TransportCounters> {
  readonly peers: Readonly<Record<string, PeerStats>>;
}
