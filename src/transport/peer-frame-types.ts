/**
 * The frames of a peer connection as a discriminated union, apart from their encoding so that
 * peer-frame.ts and the hand-written raft-batch-codec.ts can share them without importing each
 * other.
 */
import type { Message, SnapshotMessage } from '../../raft/types.js';
import type { HandshakeErrorCode } from './errors.js';

/** The handshake failures a listener reports to the dialer in a Refuse frame. */
export type RefuseCode = Exclude<HandshakeErrorCode, 'HANDSHAKE_TIMEOUT'>;

/** Dialer -> listener: who is calling. */
export interface HelloFrame {
  readonly kind: 'hello';
  readonly clusterId: string;
  readonly nodeId: string;
  readonly protocolVersion: number;
}

/** Listener -> dialer: handshake accepted. */
export interface HelloAckFrame {
  readonly kind: 'helloAck';
  readonly nodeId: string;
  readonly protocolVersion: number;
}

/** Listener -> dialer: handshake refused; the connection closes. */
export interface RefuseFrame {
  readonly kind: 'refuse';
  readonly code: RefuseCode;
  readonly reason: string;
}

/** Dialer -> listener: Raft messages. */
export interface RaftBatchFrame {
  readonly kind: 'raftBatch';
  readonly messages: readonly Message[];
}

/** Dialer -> listener: one piece of a snapshot stream (see peer.proto SnapshotChunk). */
export interface SnapshotChunkFrame {
  readonly kind: 'snapshotChunk';
  readonly streamId: number;
  readonly seq: number;
  readonly data: Uint8Array;
  readonly done: boolean;
  /** Present exactly on seq 0. */
  readonly meta: SnapshotMessage | null;
}

/** Listener -> dialer: the outcome of a snapshot stream. */
export interface SnapshotAckFrame {
  readonly kind: 'snapshotAck';
  readonly streamId: number;
  readonly ok: boolean;
  readonly reason: string;
}

/** Either direction after the handshake: opaque application bytes. */
export interface AppFrame {
  readonly kind: 'app';
  /** The application's label for the payload, e.g. "forward" or "reply". */
  readonly appKind: string;
  readonly requestId: number;
  readonly payload: Uint8Array;
  /**
   * Bits the application defines; absent means 0. A node of an earlier release drops them
   * unread (an unknown protobuf field), so a bit may only ask for something optional.
   */
  readonly flags?: number;
}

/** Every frame of a peer connection. */
export type PeerFrame =
  | HelloFrame
  | HelloAckFrame
  | RefuseFrame
  | RaftBatchFrame
  | SnapshotChunkFrame
  | SnapshotAckFrame
  | AppFrame;
