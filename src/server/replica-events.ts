/**
 * The one event switch of a replica (issue 17, item 5): every input that reaches the Raft group
 * from outside (a timer tick, the housekeeping timer, a peer's Raft message, a client proposal,
 * a forwarded-request frame, a linearizable read, an incoming snapshot stream) is a
 * ReplicaEvent handed to ReplicaEvents.handle, which first asserts the event's shape (a wrong
 * one is a bug: AssertionError, raft/assert.ts) and then routes it to the part that owns it,
 * waking the ready loop (ready-loop.ts) when the core got work.
 *
 * The timers feed it too (startReplicaTimers), through the injected clock (replica-io.ts), so a
 * test or the simulator ticks the replica by advancing a fake clock.
 */
import type { Logger } from 'pino';
import { assert } from '../../raft/assert.js';
import type { ConfState, Message, NodeId, SnapshotMessage } from '../../raft/types.js';
import type { AppFrame, SnapshotSink } from '../transport/index.js';
import type { CancelTimer, ReplicaClock } from './replica-io.js';

/** A Raft timer tick (every tickMs). */
export interface TickEvent {
  readonly kind: 'tick';
}
/** The housekeeping timer (every second): the leader proposes the application's housekeeping. */
export interface HousekeepEvent {
  readonly kind: 'housekeep';
}
/** A Raft message from a peer. */
export interface PeerMessageEvent {
  readonly kind: 'peerMessage';
  readonly message: Message;
}
/** A client command to replicate (forwarded to the leader on a follower), by `deadline` (wall ms). */
export interface ProposalEvent {
  readonly kind: 'proposal';
  readonly payload: Uint8Array;
  readonly deadline: number;
  readonly requestId: string;
}
/** An app frame from a peer: a forwarded request, or the reply to one this node forwarded. */
export interface ForwardEvent {
  readonly kind: 'forward';
  readonly from: NodeId;
  readonly frame: AppFrame;
}
/** A linearizable read: wait until every write committed before it has applied here. */
export interface ReadEvent {
  readonly kind: 'read';
  readonly timeoutMs: number;
}
/** A peer opens a snapshot stream to this node. */
export interface SnapshotEvent {
  readonly kind: 'snapshot';
  readonly from: NodeId;
  readonly message: SnapshotMessage;
}

/** Everything that reaches a replica from outside. */
export type ReplicaEvent = TickEvent | HousekeepEvent | PeerMessageEvent | ProposalEvent | ForwardEvent | ReadEvent | SnapshotEvent;

/** What ReplicaEvents needs of its replica: each part through a narrow interface. */
export interface ReplicaEventsOptions<Reply> {
  readonly raft: { readonly role: string; tick(): void; step(m: Message): void };
  readonly loop: { kick(): void; sendUrgent(): void };
  /** Holds inbound messages while a snapshot install ends (snapshot-adoption.ts). */
  readonly adoption: { readonly paused: boolean; hold(m: Message): boolean };
  readonly stamper: { noteReceived(): void };
  readonly forwarding: { tick(): void; onApp(from: NodeId, f: AppFrame): void; submit(payload: Uint8Array, deadline: number, requestId: string): Promise<Reply> };
  readonly reads: { read(timeoutMs: number): Promise<void> };
  readonly snapshots: { openSink(from: NodeId, msg: SnapshotMessage): SnapshotSink };
  readonly app: { housekeeping(monoMs: number): Uint8Array | undefined };
  /** Proposes a command with the default deadline (the node's submit). */
  readonly submit: (payload: Uint8Array) => Promise<unknown>;
  /** The applied configuration, and the index of the stored snapshot (the joining-node guard). */
  readonly confState: () => ConfState;
  readonly snapshotIndex: () => number;
  readonly clock: Pick<ReplicaClock, 'now' | 'monoNow'>;
  readonly isStopped: () => boolean;
  readonly logger: Pick<Logger, 'error' | 'debug'>;
}

/** Routes every ReplicaEvent to its owner: see the module comment. */
export class ReplicaEvents<Reply> {
  readonly #o: ReplicaEventsOptions<Reply>;
  /** Last time the "log replay refused" warning of a joining node was logged. */
  #joinRefusedLoggedAt = 0;

  constructor(opts: ReplicaEventsOptions<Reply>) {
    this.#o = opts;
  }

  /** Handles `ev` (asserting its shape first); a proposal resolves to its reply. */
  handle(ev: ProposalEvent): Promise<Reply>;
  /** Handles `ev` (asserting its shape first); resolves once the read may be served. */
  handle(ev: ReadEvent): Promise<void>;
  /** Handles `ev` (asserting its shape first): the sink the stream's chunks go to; throws to refuse it. */
  handle(ev: SnapshotEvent): SnapshotSink;
  /** Handles `ev` (asserting its shape first). */
  handle(ev: TickEvent | HousekeepEvent | PeerMessageEvent | ForwardEvent): void;
  handle(ev: ReplicaEvent): Promise<Reply> | Promise<void> | SnapshotSink | void {
    assertReplicaEvent(ev);
    const o = this.#o;
    switch (ev.kind) {
      case 'tick':
        return this.#tick();
      case 'housekeep':
        return this.#housekeep();
      case 'peerMessage':
        return this.#onPeerMessage(ev.message);
      case 'proposal':
        return o.forwarding.submit(ev.payload, ev.deadline, ev.requestId);
      case 'forward':
        return o.forwarding.onApp(ev.from, ev.frame);
      case 'read':
        return o.reads.read(ev.timeoutMs);
      case 'snapshot':
        return o.snapshots.openSink(ev.from, ev.message);
    }
  }

  #tick(): void {
    const o = this.#o;
    if (o.isStopped() || o.adoption.paused) return;
    o.raft.tick();
    o.forwarding.tick();
    o.loop.sendUrgent();
    o.loop.kick();
  }

  #housekeep(): void {
    const o = this.#o;
    if (o.isStopped() || o.raft.role !== 'leader') return;
    const cmd = o.app.housekeeping(o.clock.monoNow());
    if (cmd === undefined) return;
    o.submit(cmd).catch((e: unknown) => o.logger.debug({ err: e }, 'housekeeping proposal failed'));
  }

  #onPeerMessage(m: Message): void {
    const o = this.#o;
    if (o.isStopped()) return;
    if (m.type === 'app' && m.index === 0 && m.entries.length > 0 && o.confState().voters.length === 0 && o.snapshotIndex() === 0) {
      // A joining node knows no membership: replaying the log from index 1 onto it would give
      // it a configuration without the cluster's voters. It must receive a snapshot first
      // (leaders compact their log when they add a member, so one is always sent).
      if (o.clock.now() - this.#joinRefusedLoggedAt > 5000) {
        this.#joinRefusedLoggedAt = o.clock.now();
        o.logger.error({ from: m.from }, 'refused a log replay from index 1: this joining node must first receive a snapshot (is the leader running an older raftq that does not compact on member add?)');
      }
      return;
    }
    // Entries from a leader: stamps made no later than now (cluster-clock.ts).
    if (m.type === 'app' && m.entries.length > 0) o.stamper.noteReceived();
    if (o.adoption.hold(m)) return;
    o.raft.step(m);
    if (m.type === 'heartbeat') o.loop.sendUrgent();
    o.loop.kick();
  }
}

/**
 * Asserts that `ev` has the shape of a ReplicaEvent: a known kind with fields of the right
 * types. Types already say so; this catches a caller that went around them.
 */
export function assertReplicaEvent(ev: ReplicaEvent): void {
  const e: unknown = ev;
  assert(typeof e === 'object' && e !== null && typeof (e as { kind?: unknown }).kind === 'string', 'replica event: not an object with a kind');
  switch (ev.kind) {
    case 'tick':
    case 'housekeep':
      return;
    case 'peerMessage':
      return assertMessage(ev.message, 'peerMessage');
    case 'proposal':
      assert(ev.payload instanceof Uint8Array, 'replica event proposal: payload is not bytes');
      assert(typeof ev.deadline === 'number' && !Number.isNaN(ev.deadline), 'replica event proposal: deadline is not a number');
      assert(typeof ev.requestId === 'string', 'replica event proposal: requestId is not a string');
      return;
    case 'forward':
      assert(typeof ev.from === 'string', 'replica event forward: from is not a node id');
      assert(typeof ev.frame === 'object' && ev.frame !== null && typeof ev.frame.appKind === 'string' && ev.frame.payload instanceof Uint8Array, 'replica event forward: not an app frame');
      return;
    case 'read':
      assert(typeof ev.timeoutMs === 'number' && !Number.isNaN(ev.timeoutMs), 'replica event read: timeoutMs is not a number');
      return;
    case 'snapshot':
      assert(typeof ev.from === 'string', 'replica event snapshot: from is not a node id');
      assertMessage(ev.message, 'snapshot');
      assert(ev.message.type === 'snap', 'replica event snapshot: not a snap message');
      return;
    default:
      assert(false, () => `replica event: unknown kind ${JSON.stringify((ev as { kind: unknown }).kind)}`);
  }
}

function assertMessage(m: unknown, kind: string): void {
  assert(typeof m === 'object' && m !== null, `replica event ${kind}: no message`);
  const { type, from } = m as { type?: unknown; from?: unknown };
  assert(typeof type === 'string' && typeof from === 'string', `replica event ${kind}: not a Raft message (type and from)`);
}

/**
 * Starts the replica's timers on `clock`: a tick event every `tickMs`, a housekeeping event
 * every second (in the background: it does not keep the process alive). Returns what stops both.
 */
export function startReplicaTimers(clock: Pick<ReplicaClock, 'every'>, tickMs: number, handle: (ev: TickEvent | HousekeepEvent) => void): CancelTimer {
  const stopTicks = clock.every(tickMs, () => handle({ kind: 'tick' }));
  const stopHousekeeping = clock.every(1000, () => handle({ kind: 'housekeep' }), { background: true });
  return () => {
    stopTicks();
    stopHousekeeping();
  };
}
