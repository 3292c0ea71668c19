/**
 * The peer transport's public surface, for the node runtime. Everything else in
 * src/transport is internal.
 */
export { PeerTransport, type AppHandler, type MessageHandler } from './peer-transport.js';
export type { PeerAddress, PeerTransportOptions, SnapshotSink, SnapshotSinkFactory } from './options.js';
export type { AppFrame } from './peer-frame.js';
export type { PeerStats, TransportCounters, TransportStats } from './stats.js';
export { FrameError, frameErrorCodes, handshakeErrorCodes, type FrameErrorCode, type HandshakeErrorCode } from './errors.js';
export { encodeRaftMessage, decodeRaftMessage } from './codec.js';
export { frameBytesMaxDefault } from '../proto/framing.js';
export { Backoff, type Rng } from './backoff.js';
export { TlsCredentials, TlsConfigError, certificateNodeId, clusterMismatch, clusterUri, nodeUri, tlsPollIntervalMsDefault, type TlsFiles, type TlsMaterial } from './tls-credentials.js';
