import {
  MemoryStorage,
  RawNode,
  applyConfChange,
  decodeConfChange,
  seededRng,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type RaftConfig,
  type Ready,
  type SnapshotMeta,
  type TestingKnobs,
} from '../../raft/index.js';
import { RaftqError } from '../../src/errors.js';
import { PendingProposals } from '../../src/server/pending-proposals.js';

/** The application state of a simulated node: the commands applied, in order. */
export interface AppState {
  /** Index of the last applied entry. */
  readonly index: number;
  /** Data of every applied normal entry with data, as strings, in index order. */
  readonly commands: readonly string[];
}

/** A message in flight with the snapshot data that travels beside a `snap` message. */
export interface Envelope {
  readonly msg: Message;
  readonly snapData?: AppState;
}

/** Bugs the simulator can inject into the node's persistence, to prove its checkers work. */
export interface PersistenceBugs {
  /** Persist the term but not the vote (a node may then vote twice in one term after a crash). */
  readonly dropVote?: boolean;
  /**
   * Answer every pending proposal "not applied" (UNAVAILABLE) when leadership is lost, as if
   * losing leadership proved it (it does not: a later leader may still commit the entry).
   */
  readonly notAppliedOnStepDown?: boolean;
}

/** Options shared by every simulated node. */
export interface SimNodeOptions {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Compact the log once this many entries are applied beyond the last snapshot. */
  readonly snapshotEveryEntries: number;
  /** Entries kept behind the snapshot index so slow followers can catch up without one. */
  readonly compactionTrailingEntries: number;
  readonly appendBytesMax?: number;
  readonly inflightMessagesMax?: number;
  readonly knobs?: TestingKnobs;
  readonly bugs?: PersistenceBugs;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Snapshot data sets a node keeps; older ones may still be named by queued messages. */
const snapshotsKept = 4;

/**
 * Observations the node reports to the simulator's checkers as it works.
 */
export interface NodeObserver {
  onPersist(node: SimNode, entries: readonly Entry[]): void;
  onApply(node: SimNode, entry: Entry): void;
  onReady(node: SimNode, rd: Ready): void;
  /** An acknowledgement (appResp) leaves: `index` must be in the durable log, which ends at `durableLast`. */
  onAck(node: SimNode, index: number, durableLast: number): void;
  /** A client proposal's answer: applied (ok), or the error the runtime would give. */
  onProposalOutcome(node: SimNode, key: string, at: { index: number; term: number }, outcome: 'ok' | Error): void;
}

/**
 * A Raft node hosted in memory with a synchronous ready cycle of its own: durable storage (a
 * MemoryStorage that survives crashes), a state machine that is rebuilt from the latest
 * snapshot after a crash, and a Ready split into "persist" and "finish" so a crash can fall
 * between them and lose the unsynced writes. Only the Raft interaction harness
 * (test/raft/harness.ts) uses it: its tests step the core message by message. The simulator
 * runs the runtime's own event switch and ready loop instead (replica-node.ts); this file
 * also holds the types both share.
 */
export class SimNode {
  readonly id: NodeId;
  /** What survives a crash (replaced whole when storage damage is repaired from nothing). */
  storage: MemoryStorage;
  /**
   * The durable recovering marker (raft/recovery.ts): set when the storage was rebuilt from
   * nothing with the protection on, cleared once a Ready reporting `recovered` is persisted.
   */
  recoveringMarker = false;
  /** The configuration the node was first booted with: what a rebuilt storage starts from. */
  readonly #initial: ConfState;
  /** Snapshot data by snapshot index (durable, like the storage). */
  readonly snapshots = new Map<number, AppState>();
  node!: RawNode;
  /** Volatile application state. */
  app: AppState = { index: 0, commands: [] };
  /** Client proposals this node appended as leader: the runtime's own bookkeeping (volatile). */
  proposals = new PendingProposals<string>();
  /** Index -> term of every proposal this node made (any incarnation), to spot index reuse. */
  readonly #proposedTermAt = new Map<number, number>();
  /** Proposals made at an index where this node had proposed in another term before. */
  proposalIndexReused = 0;
  confState: ConfState;
  /**
   * The highest entry this node acknowledged to a leader in `term`. Within one term a log only
   * grows, so while the node is still in that term the entry must be in its durable log.
   */
  acked: { term: number; index: number; entryTerm: number } | undefined;
  /** The Ready being persisted, if any. */
  pending: Ready | undefined;
  /** Snapshot data received with a `snap` message, keyed by snapshot index. */
  #incomingSnap = new Map<number, AppState>();
  readonly #opts: SimNodeOptions;
  readonly #seed: number;
  #restarts = 0;
  readonly #observer: NodeObserver;

  constructor(id: NodeId, initial: ConfState, opts: SimNodeOptions, seed: number, observer: NodeObserver) {
    this.id = id;
    this.storage = new MemoryStorage(initial);
    this.#initial = initial;
    this.confState = initial;
    this.#opts = opts;
    this.#seed = seed;
    this.#observer = observer;
    this.#boot();
  }

  #boot(): void {
    const snap = this.storage.snapshot();
    this.app = snap.index > 0 ? (this.snapshots.get(snap.index) ?? { index: snap.index, commands: [] }) : { index: 0, commands: [] };
    this.confState = snap.confState;
    this.pending = undefined;
    this.#incomingSnap.clear();
    // A crash ends the process: what it had pending is answered by nobody (outcome unknown).
    this.proposals = new PendingProposals<string>();
    const cfg: RaftConfig = {
      id: this.id,
      storage: this.storage,
      electionTicks: this.#opts.electionTicks,
      heartbeatTicks: this.#opts.heartbeatTicks,
      applied: snap.index,
      rng: seededRng((this.#seed * 31 + this.#restarts * 7919 + hashId(this.id)) >>> 0),
      ...(this.#opts.appendBytesMax !== undefined ? { appendBytesMax: this.#opts.appendBytesMax } : {}),
      ...(this.#opts.inflightMessagesMax !== undefined ? { inflightMessagesMax: this.#opts.inflightMessagesMax } : {}),
      ...(this.#opts.knobs !== undefined ? { testingKnobs: this.#opts.knobs } : {}),
      recovering: this.recoveringMarker,
    };
    this.node = new RawNode(cfg);
  }

  /**
   * Storage damage repaired from nothing, as the runtime does it: the node loses its log, its
   * hard state, its snapshots and its state machine, and restarts on an empty storage. With
   * `protect` the rebuilt storage carries the recovering marker (the node votes in nothing and
   * counts in no quorum until caught up); without it the node is the amnesiac of the trap.
   */
  /**
   * Damage no checksum can see: the durable log loses its tail after `last` (a log cut at a
   * record boundary, a disk that lied about a sync), and the node restarts on what is left.
   * Only the leader can tell it (its heartbeat names a commit the node no longer holds).
   */
  cutDurableLogAndRestart(last: number): void {
    const old = this.storage;
    const first = old.firstIndex();
    if (first - 1 > 0) throw new Error('cutDurableLogAndRestart: a compacted log is not supported');
    this.storage = new MemoryStorage(old.snapshot().confState);
    this.storage.append(old.entries(first, last + 1, Number.MAX_SAFE_INTEGER));
    const hs = old.hardState();
    this.storage.setHardState({ ...hs, commit: Math.min(hs.commit, last) });
    this.acked = undefined;
    this.crashAndRestart();
  }

  wipeAndRestart(protect: boolean): void {
    this.storage = new MemoryStorage(this.#initial);
    this.snapshots.clear();
    this.acked = undefined;
    this.recoveringMarker = protect;
    this.crashAndRestart();
  }

  /** Loses every volatile state, including a Ready being persisted, and restarts from storage. */
  crashAndRestart(): void {
    this.#restarts++;
    this.#boot();
  }

  /** Hands a message to the node (keeping snapshot data for a later install). */
  deliver(env: Envelope): void {
    if (env.msg.type === 'snap' && env.snapData !== undefined) this.#incomingSnap.set(env.msg.snapshot.index, env.snapData);
    this.node.step(env.msg);
  }

  /**
   * Proposes `key` as the runtime does for a client (RawNode.proposeBatch, then tracked in
   * PendingProposals until its outcome). Throws the core's RaftError when not leader.
   */
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
  }

  /** Starts persisting the next Ready, if there is one. Returns whether one was taken. */
  beginReady(): boolean {
    if (this.pending !== undefined || !this.node.hasReady()) return false;
    this.pending = this.node.ready();
    if (this.#opts.bugs?.notAppliedOnStepDown === true && this.pending.softState !== undefined && this.pending.softState.role !== 'leader') {
      this.proposals.failAll(new RaftqError('UNAVAILABLE', 'leadership lost (injected bug: the outcome is really unknown)'));
    }
    this.#observer.onReady(this, this.pending);
    return true;
  }

  /**
   * Completes the pending Ready: makes its writes durable, then returns its messages (with
   * snapshot data attached), applies committed entries and advances.
   */
  finishReady(): Envelope[] {
    const rd = this.pending;
    if (rd === undefined) return [];
    this.pending = undefined;
    // 1. Persist (one fsync in the real runtime).
    if (rd.snapshot !== undefined) installSnapshot(this, this.#incomingSnap, rd.snapshot);
    if (rd.entries.length > 0) {
      this.storage.append(rd.entries);
      this.#observer.onPersist(this, rd.entries);
    }
    if (rd.hardState !== undefined) persistHardState(this.storage, rd.hardState, this.#opts);
    // 2. Send.
    const out: Envelope[] = rd.messages.map((msg) => (msg.type === 'snap' ? currentSnapshot(this, msg) : { msg }));
    for (const m of rd.messages) {
      if (m.type !== 'appResp' || m.reject) continue;
      this.#observer.onAck(this, m.index, this.storage.lastIndex());
      if (m.index < this.storage.firstIndex()) continue;
      const entryTerm = this.storage.term(m.index);
      if (this.acked === undefined || this.acked.term < m.term || this.acked.index < m.index) this.acked = { term: m.term, index: m.index, entryTerm };
    }
    // 3. Apply.
    for (const e of rd.committedEntries) {
      applyEntry(this, e);
      this.#observer.onApply(this, e);
      this.proposals.settle(e.index, e.term, e.type === 'normal' ? decoder.decode(e.data) : undefined);
    }
    // The recovering marker is cleared only once the Ready that ended recovery is durable.
    if (rd.recovered) this.recoveringMarker = false;
    // 4. Advance, then compact if the log grew long.
    this.node.advance(rd);
    maybeCompact(this, this.node, this.#opts);
    return out;
  }
}

/**
 * What both simulated nodes (SimNode here, ReplicaNode in replica-node.ts) keep and handle
 * alike: the storage, the snapshot data, the string state machine and its membership, the
 * client proposals. The helpers below are the one copy of how either node persists a hard
 * state, installs and sends snapshots, applies an entry and compacts.
 */
export interface SimNodeState {
  readonly id: NodeId;
  storage: MemoryStorage;
  readonly snapshots: Map<number, AppState>;
  app: AppState;
  confState: ConfState;
  readonly proposals: PendingProposals<string>;
}

/** Persists `hs`; the dropVote bug forgets a vote cast in the current term. */
export function persistHardState(storage: MemoryStorage, hs: HardState, opts: SimNodeOptions): void {
  if (opts.bugs?.dropVote === true) {
    const prev = storage.hardState();
    storage.setHardState({ term: hs.term, vote: prev.term === hs.term ? prev.vote : '', commit: hs.commit });
  } else {
    storage.setHardState(hs);
  }
}

/** Installs the snapshot `meta` with the data that arrived with it (taken out of `incoming`). */
export function installSnapshot(n: SimNodeState, incoming: Map<number, AppState>, meta: SnapshotMeta): void {
  const data = incoming.get(meta.index);
  if (data === undefined) throw new Error(`${n.id}: snapshot ${meta.index} arrived without its data`);
  incoming.delete(meta.index);
  n.snapshots.set(meta.index, data);
  n.storage.applySnapshot(meta);
  n.proposals.failUpTo(meta.index, new RaftqError('TIMEOUT', 'a snapshot replaced the log before the request applied; outcome unknown'));
  n.app = data;
  n.confState = meta.confState;
}

/**
 * Like the real runtime, a snapshot goes out as the sender's current applied state (at or
 * after the compaction point the core named), so it carries the current membership.
 */
export function currentSnapshot(n: SimNodeState, msg: Extract<Envelope['msg'], { type: 'snap' }>): Envelope {
  const app = n.app;
  const snapshot: SnapshotMeta = { index: app.index, term: n.storage.term(app.index), confState: n.confState };
  return { msg: { ...msg, snapshot }, snapData: app };
}

/** Applies `e` to the string state machine (and a conf entry to the membership), in order. */
export function applyEntry(n: SimNodeState, e: Entry): void {
  if (e.index <= n.app.index) throw new Error(`${n.id}: re-applying ${e.index} (applied ${n.app.index})`);
  if (e.index !== n.app.index + 1) throw new Error(`${n.id}: apply gap: ${e.index} after ${n.app.index}`);
  let commands = n.app.commands;
  if (e.type === 'normal' && e.data.byteLength > 0) commands = [...commands, decoder.decode(e.data)];
  if (e.type === 'conf') n.confState = applyConfChange(n.confState, decodeConfChange(e.data));
  n.app = { index: e.index, commands };
}

/** Takes a snapshot and compacts the log once snapshotEveryEntries entries applied past the last. */
export function maybeCompact(n: SimNodeState, node: RawNode, opts: SimNodeOptions): void {
  const snapIndex = n.storage.snapshot().index;
  if (n.app.index - snapIndex < opts.snapshotEveryEntries) return;
  n.snapshots.set(n.app.index, n.app);
  n.storage.createSnapshot(n.app.index, n.confState);
  const target = node.compactionLimit(n.app.index - opts.compactionTrailingEntries);
  if (target > n.storage.firstIndex()) n.storage.compact(Math.min(target, n.app.index));
  // Keep the few newest snapshots: a `snap` message queued before this compaction may still
  // name an older one.
  const keep = [...n.snapshots.keys()].sort((a, b) => b - a).slice(0, snapshotsKept);
  for (const idx of n.snapshots.keys()) if (!keep.includes(idx)) n.snapshots.delete(idx);
}

/** A stable hash of a node id (seeds each node's election jitter). */
export function hashId(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}
