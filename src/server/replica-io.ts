/**
 * What a replica's ready loop reaches outside itself (issue 17, item 5), as narrow injected
 * interfaces: the clock with its timers, the peer transport, the durable storage. The runtime
 * hands it the real ones (systemClock, PeerTransport, DurableStorage); tests hand it fakes
 * (test/server/replica-fakes.ts), so the loop runs with no sockets, no disk and no wall time.
 */
import type { Message, NodeId } from '../../raft/types.js';
import type { RecoveringMarker, SaveBatch, SaveResult } from '../storage/index.js';

/** Cancels a timer started by ReplicaClock.every. */
export type CancelTimer = () => void;

/** Time and timers of a replica. */
export interface ReplicaClock {
  /** Wall clock in milliseconds (deadlines, log lines, the recovering marker's time). */
  now(): number;
  /** Monotonic clock in milliseconds (housekeeping pace, cluster time). */
  monoNow(): number;
  /**
   * Calls `fn` every `ms` milliseconds until cancelled. A `background` timer does not keep the
   * process alive (Node's unref).
   */
  every(ms: number, fn: () => void, opts?: { readonly background?: boolean }): CancelTimer;
  /** Calls `fn` once, after the current turn and the I/O callbacks already due (setImmediate). */
  defer(fn: () => void): void;
}

/** The real clock: `now` and `monoNow` as given, Node's setInterval and setImmediate. */
export function systemClock(now: () => number = Date.now, monoNow: () => number = () => performance.now()): ReplicaClock {
  return {
    now,
    monoNow,
    every(ms, fn, opts) {
      const t = setInterval(fn, ms);
      if (opts?.background === true) t.unref();
      return () => clearInterval(t);
    },
    defer(fn) {
      setImmediate(fn);
    },
  };
}

/** What the ready loop needs of the peer transport; PeerTransport has it. */
export interface ReplicaTransport {
  /** Queues `messages` to their peers (a message to an unknown or unreachable peer is dropped). */
  send(messages: readonly Message[]): void;
  /** Whether a connection to `id` is up now. */
  isConnected(id: NodeId): boolean;
}

/** What the ready loop needs of durable storage; DurableStorage has it (a memory one stands in for tests). */
export interface ReplicaStorage {
  /** Persists one Ready's entries, hard state, snapshot meta and applied changes in one batch. */
  save(batch: SaveBatch): Promise<SaveResult>;
  /** Writes the durable recovering marker (raft/recovery.ts). */
  markRecovering(marker: RecoveringMarker): Promise<void>;
  /** Deletes the durable recovering marker. */
  markRecovered(): Promise<void>;
}
