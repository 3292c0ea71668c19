/**
 * A simulated node that runs the runtime's own replica parts: every input goes through the
 * event switch (src/server/replica-events.ts) and the ready loop (src/server/ready-loop.ts)
 * alone drives the Raft core, with the simulator's clock, network and disk injected
 * (replica-io.ts). What is simulated is only what lies outside the replica: a memory storage
 * whose saves complete when the simulator says (`completeSave`, the fsync), a state machine of
 * strings rebuilt from the latest snapshot after a crash, and snapshot data that travels beside
 * `snap` messages.
 *
 * A crash drops the replica whole (its loop, its pending save, its proposals) and boots a new
 * one on what the storage holds, as a process restart does.
 */
import { MemoryStorage, RawNode, seededRng, type ConfState, type Entry, type NodeId, type RaftConfig } from '../../raft/index.js';
import { RaftqError } from '../../src/errors.js';
import { Mutex } from '../../src/server/mutex.js';
import { PendingProposals } from '../../src/server/pending-proposals.js';
import { ReadyLoop, type ReadyLoopApplier } from '../../src/server/ready-loop.js';
import { ReplicaEvents } from '../../src/server/replica-events.js';
import type { ReplicaStorage } from '../../src/server/replica-io.js';
import type { AppliedChanges, SaveBatch, SaveResult } from '../../src/storage/index.js';
import type { ObservedNode } from './checker.js';
import { unusedByTheSimulator, type ReplicaObserver, type ReplicaWorld } from './replica-world.js';
import { applyEntry, currentSnapshot, hashId, installSnapshot, maybeCompact, persistHardState, type AppState, type Envelope, type SimNodeOptions } from './sim-node.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** One Ready's applied entries (the state machine is volatile: nothing of it rides the save). */
type Round = { readonly entries: readonly Entry[]; readonly changes: AppliedChanges };

/** One simulated node hosting one replica: see the module comment. */
export class ReplicaNode implements ObservedNode {
  readonly id: NodeId;
  /** What survives a crash (replaced whole when storage damage is repaired from nothing). */
  storage: MemoryStorage;
  /** The durable recovering marker (raft/recovery.ts), written and cleared by the ready loop. */
  recoveringMarker = false;
  readonly #initial: ConfState;
  /** Snapshot data by snapshot index (durable, like the storage). */
  readonly snapshots = new Map<number, AppState>();
  node!: RawNode;
  /** Volatile application state. */
  app: AppState = { index: 0, commands: [] };
  proposals = new PendingProposals<string>();
  readonly #proposedTermAt = new Map<number, number>();
  /** Proposals made at an index where this node had proposed in another term before. */
  proposalIndexReused = 0;
  confState: ConfState;
  /** The highest entry this node acknowledged to a leader in `term` (see SimNode.acked). */
  acked: { term: number; index: number; entryTerm: number } | undefined;
  /** What stopped the ready loop (a broken invariant), for the simulator to report. */
  fatal: unknown;
  #incomingSnap = new Map<number, AppState>();
  #loop!: ReadyLoop<Round>;
  #events!: ReplicaEvents<never>;
  /** The save of the current incarnation waiting for its fsync. */
  #pendingSave: (() => void) | undefined;
  #incarnation = 0;
  readonly #opts: SimNodeOptions;
  readonly #seed: number;
  readonly #observer: ReplicaObserver;
  readonly #world: ReplicaWorld;

  constructor(id: NodeId, initial: ConfState, opts: SimNodeOptions, seed: number, observer: ReplicaObserver, world: ReplicaWorld) {
    this.id = id;
    this.storage = new MemoryStorage(initial);
    this.#initial = initial;
    this.confState = initial;
    this.#opts = opts;
    this.#seed = seed;
    this.#observer = observer;
    this.#world = world;
    this.#boot();
  }

  #boot(): void {
    const incarnation = ++this.#incarnation;
    const snap = this.storage.snapshot();
    this.app = snap.index > 0 ? (this.snapshots.get(snap.index) ?? { index: snap.index, commands: [] }) : { index: 0, commands: [] };
    this.confState = snap.confState;
    this.#pendingSave = undefined;
    this.#incomingSnap.clear();
    // A crash ends the process: what it had pending is answered by nobody (outcome unknown).
    this.proposals = new PendingProposals<string>();
    const cfg: RaftConfig = {
      id: this.id,
      storage: this.storage,
      electionTicks: this.#opts.electionTicks,
      heartbeatTicks: this.#opts.heartbeatTicks,
      applied: snap.index,
      rng: seededRng((this.#seed * 31 + (incarnation - 1) * 7919 + hashId(this.id)) >>> 0),
      ...(this.#opts.appendBytesMax !== undefined ? { appendBytesMax: this.#opts.appendBytesMax } : {}),
      ...(this.#opts.inflightMessagesMax !== undefined ? { inflightMessagesMax: this.#opts.inflightMessagesMax } : {}),
      ...(this.#opts.knobs !== undefined ? { testingKnobs: this.#opts.knobs } : {}),
      recovering: this.recoveringMarker,
    };
    const raw = new RawNode(cfg);
    this.node = raw;
    const stopped = (): boolean => incarnation !== this.#incarnation;
    const world = this.#world;
    const loop = new ReadyLoop<Round>({
      raft: raw,
      storage: this.#replicaStorage(stopped),
      transport: { send: (msgs) => msgs.forEach((msg) => this.#send({ msg })), isConnected: () => true },
      clock: { now: () => world.now(), defer: (fn) => world.defer(fn) },
      lock: new Mutex(),
      flushProposals: () => undefined,
      applier: this.#applier(),
      listeners: {
        leaderReplaced: (prev) => {
          if (this.#opts.bugs?.notAppliedOnStepDown === true && prev === this.id) this.proposals.failAll(new RaftqError('UNAVAILABLE', 'leadership lost (injected bug: the outcome is really unknown)'));
        },
        leaderKnown: () => undefined,
        onReadStates: () => undefined,
        notifyApplied: () => undefined,
      },
      maybeCompact: () => Promise.resolve(maybeCompact(this, this.node, this.#opts)),
      sendSnapshot: (m) => this.#world.send(currentSnapshot(this, m)),
      isStopped: stopped,
      onFatal: (e) => {
        this.fatal ??= e;
      },
      logger: { info: () => undefined, fatal: () => undefined } as never,
    });
    this.#loop = loop;
    this.#events = new ReplicaEvents<never>({
      ...unusedByTheSimulator,
      raft: raw,
      loop,
      confState: () => this.confState,
      snapshotIndex: () => this.storage.snapshot().index,
      clock: { now: () => world.now(), monoNow: () => world.now() },
      isStopped: stopped,
    });
  }

  /** Storage damage repaired from nothing (see SimNode.wipeAndRestart). */
  wipeAndRestart(protect: boolean): void {
    this.storage = new MemoryStorage(this.#initial);
    this.snapshots.clear();
    this.acked = undefined;
    this.recoveringMarker = protect;
    this.crashAndRestart();
  }

  /** Loses every volatile state, including a save in flight, and restarts from storage. */
  crashAndRestart(): void {
    this.#boot();
  }

  /** A timer tick (the event switch's tick event). */
  tick(): void {
    this.#events.handle({ kind: 'tick' });
  }

  /** Hands a message to the node (keeping snapshot data for a later install). */
  deliver(env: Envelope): void {
    if (env.msg.type === 'snap' && env.snapData !== undefined) this.#incomingSnap.set(env.msg.snapshot.index, env.snapData);
    this.#events.handle({ kind: 'peerMessage', message: env.msg });
  }

  /** The transport's verdict on a streamed snapshot. */
  reportSnapshot(to: NodeId, ok: boolean): void {
    this.node.reportSnapshot(to, ok);
    this.#loop.kick();
  }

  /** Wakes the ready loop (after a restart: the rebooted core may have entries to apply). */
  kick(): void {
    this.#loop.kick();
  }

  /** Proposes `key` as a leader does for a client; throws the core's RaftError when not leader. */
  propose(key: string): void {
    const at = this.node.proposeBatch([encoder.encode(key)]);
    const before = this.#proposedTermAt.get(at.index);
    if (before !== undefined && before !== at.term) this.proposalIndexReused++;
    this.#proposedTermAt.set(at.index, at.term);
    this.proposals.add(
      at.index,
      at.term,
      () => this.#observer.onProposalOutcome(this, key, at, 'ok'),
      (e) => this.#observer.onProposalOutcome(this, key, at, e),
    );
    this.#loop.kick();
  }

  /** The fsync of the pending save is done: its writes are durable now. */
  completeSave(): void {
    const done = this.#pendingSave;
    this.#pendingSave = undefined;
    done?.();
  }

  #replicaStorage(stopped: () => boolean): ReplicaStorage {
    return {
      save: (batch) =>
        new Promise<SaveResult>((resolve) => {
          if (stopped()) return;
          this.#pendingSave = () => {
            this.#persist(batch);
            resolve({ syncMs: 0, entryCount: batch.entries.length });
          };
          this.#world.saveStarted(this.id);
        }),
      markRecovering: () => {
        if (!stopped()) this.recoveringMarker = true;
        return Promise.resolve();
      },
      markRecovered: () => {
        if (!stopped()) this.recoveringMarker = false;
        return Promise.resolve();
      },
    };
  }

  #persist(batch: SaveBatch): void {
    if (batch.snapshot !== undefined) installSnapshot(this, this.#incomingSnap, batch.snapshot);
    if (batch.entries.length > 0) {
      this.storage.append(batch.entries);
      this.#observer.onPersist(this, batch.entries);
    }
    if (batch.hardState !== undefined) persistHardState(this.storage, batch.hardState, this.#opts);
  }

  #send(env: Envelope): void {
    const m = env.msg;
    if (m.type === 'appResp' && !m.reject) {
      this.#observer.onAck(this, m.index, this.storage.lastIndex());
      if (m.index >= this.storage.firstIndex()) {
        const entryTerm = this.storage.term(m.index);
        if (this.acked === undefined || this.acked.term < m.term || this.acked.index < m.index) this.acked = { term: m.term, index: m.index, entryTerm };
      }
    }
    this.#world.send(env);
  }

  #applier(): ReadyLoopApplier<Round> {
    return {
      apply: (entries) => {
        for (const e of entries) {
          applyEntry(this, e);
          this.#observer.onApply(this, e);
        }
        return { entries, changes: { writes: [], appliedIndex: entries[entries.length - 1]!.index, confState: this.confState } };
      },
      settle: ({ entries }) => {
        for (const e of entries) this.proposals.settle(e.index, e.term, e.type === 'normal' ? decoder.decode(e.data) : undefined);
      },
    };
  }
}
