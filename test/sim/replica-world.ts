/**
 * What a simulated replica (replica-node.ts) reaches outside itself: the simulator's checkers,
 * its clock, network and disk, and stand-ins for the replica parts the simulator leaves unused.
 */
import type { Entry, NodeId } from '../../raft/index.js';
import type { ReplicaEventsOptions } from '../../src/server/replica-events.js';
import type { ObservedNode } from './checker.js';
import type { Envelope } from './sim-node.js';

/** What the node reports to the simulator's checkers as it works. */
export interface ReplicaObserver {
  onPersist(node: ObservedNode, entries: readonly Entry[]): void;
  onApply(node: ObservedNode, entry: Entry): void;
  /** An acknowledgement (appResp) leaves: `index` must be in the durable log, which ends at `durableLast`. */
  onAck(node: ObservedNode, index: number, durableLast: number): void;
  onProposalOutcome(node: ObservedNode, key: string, at: { index: number; term: number }, outcome: 'ok' | Error): void;
}

/** What the node needs of the simulator. */
export interface ReplicaWorld {
  /** Sim time in milliseconds. */
  now(): number;
  /** Runs `fn` once the current event is handled (the ready loop's next turn). */
  defer(fn: () => void): void;
  /** Puts `env` on the network. */
  send(env: Envelope): void;
  /** A save began: the simulator calls ReplicaNode.completeSave once its fsync is done (unless the node crashed first). */
  saveStarted(node: NodeId): void;
}

/**
 * The parts of a replica the simulator does not exercise: no snapshot install pause, no
 * forwarding (clients propose at the node they picked), no reads, no housekeeping. Snapshot data
 * travels beside the `snap` message instead of in a stream.
 */
export const unusedByTheSimulator = {
  adoption: { paused: false, hold: () => false },
  stamper: { noteReceived: () => undefined },
  forwarding: { tick: () => undefined, onApp: () => undefined, submit: () => Promise.reject(new Error('the simulator proposes directly')) },
  reads: { read: () => Promise.reject(new Error('the simulator does not read')) },
  snapshots: { openSink: (): never => { throw new Error('snapshot data travels beside the snap message'); } },
  app: { housekeeping: () => undefined },
  submit: () => Promise.resolve(),
  logger: { error: () => undefined, debug: () => undefined } as never,
} satisfies Partial<ReplicaEventsOptions<never>>;
