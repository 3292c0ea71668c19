import { assert } from './assert.js';
import { Raft, type RaftConfig, type RaftStats } from './raft.js';
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, ReadState, Role, SnapshotMeta, SoftState } from './types.js';

/**
 * One batch of work for the application, in this order:
 * 1. persist `snapshot` (install its data), `entries` and `hardState` durably (one fsync);
 * 2. send `messages` (they may depend on step 1: votes, append acks);
 * 3. apply `committedEntries` to the state machine;
 * 4. call advance(ready).
 */
export interface Ready {
  /** Set when leader or role changed since the last Ready. */
  readonly softState: SoftState | undefined;
  /** Set when term, vote or commit changed since the last Ready. */
  readonly hardState: HardState | undefined;
  /** Entries to append to durable storage (may replace a conflicting suffix). */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader, to install before applying anything else. */
  readonly snapshot: SnapshotMeta | undefined;
  /** Committed entries to apply, in order. */
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** Whether the writes of step 1 must be fsynced (entries, snapshot, term or vote changed). */
  readonly mustSync: boolean;
  /**
   * The node finished recovering from storage damage (raft/recovery.ts) since the last Ready:
   * once this Ready is persisted, the runtime clears its durable recovering marker.
   */
  readonly recovered: boolean;
  /**
   * The node found at run time that it lost acknowledged entries and began recovering: the
   * runtime writes its durable recovering marker (with this reason) before sending anything.
   */
  readonly recoveryStarted: string | undefined;
}

/** Public state of a node for status displays. */
export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly soft: SoftState;
  readonly confState: ConfState;
  /** Leader only: each member's match index and replication state. */
  readonly progress: ReadonlyMap<NodeId, { match: number; next: number; state: string; recentActive: boolean }>;
}

/**
 * The application's handle on the Raft core, in the style of etcd's RawNode: feed it ticks,
 * messages and proposals; drain Ready batches; confirm each with advance().
 */
export class RawNode {
  readonly #raft: Raft;
  #prevSoft: SoftState;
  #prevHard: HardState;
  /** Invariant: at most one Ready is outstanding. */
  #outstanding: Ready | undefined;

  constructor(cfg: RaftConfig) {
    this.#raft = new Raft(cfg);
    this.#prevSoft = this.#soft();
    this.#prevHard = this.#hard();
  }

  /** This node's role now. */
  get role(): Role {
    return this.#raft.role;
  }

  /** The leader this node knows of now, or NONE. */
  get leader(): NodeId {
    return this.#raft.lead;
  }

  /** The current term. */
  get term(): number {
    return this.#raft.term;
  }

  /** The highest index the core knows to be applied (advanced by advance()). */
  get applied(): number {
    return this.#raft.log.applied;
  }

  /** The index of the newest membership change proposed by this leader (0 when none is). */
  get pendingConfIndex(): number {
    return this.#raft.pendingConfIndex;
  }

  /** The configuration in force now. */
  confState(): ConfState {
    return this.#raft.prs.confState();
  }

  /**
   * Whether stepping a snapshot message of term `msgTerm` carrying `snap` would make the core
   * install it now (Raft.restoreDecision: the core's own rules, not a copy of them).
   */
  wouldRestore(msgTerm: number, snap: SnapshotMeta): boolean {
    return this.#raft.restoreDecision(msgTerm, snap) === 'restore';
  }

  /** The index of the snapshot the core installed that no Ready has handed out yet, if any. */
  pendingSnapshotIndex(): number | undefined {
    return this.#raft.log.unstable.snapshot?.index;
  }

  /**
   * The core itself, for tests, the simulator's checker and the interaction scenarios only:
   * the runtime uses the methods above, so the core's state has one reader and one writer.
   */
  coreForTesting(): Raft {
    return this.#raft;
  }

  tick(): void {
    this.#raft.tick();
  }

  /** Campaigns now (unless not allowed), as if the election timeout had elapsed. */
  campaign(): void {
    this.#raft.campaignIfAllowed(false);
  }

  /** See Raft.forgetLeader. */
  forgetLeader(): void {
    this.#raft.forgetLeader();
  }

  step(m: Message): void {
    this.#raft.step(m);
  }

  /** See Raft.propose. */
  propose(data: Uint8Array): { index: number; term: number } {
    return this.#raft.propose(data);
  }

  /** See Raft.proposeBatch. */
  proposeBatch(datas: readonly Uint8Array[]): { index: number; term: number } {
    return this.#raft.proposeBatch(datas);
  }

  proposeConfChange(cc: ConfChange): { index: number; term: number } {
    return this.#raft.proposeConfChange(cc);
  }

  readIndex(context: Uint8Array): void {
    this.#raft.readIndex(context);
  }

  transferLeadership(to: NodeId): void {
    this.#raft.transferLeadership(to);
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    this.#raft.reportSnapshot(to, ok);
  }

  reportUnreachable(to: NodeId): void {
    this.#raft.reportUnreachable(to);
  }

  /** See Raft.compactionLimit. */
  compactionLimit(upTo: number): number {
    return this.#raft.compactionLimit(upTo);
  }

  get stats(): RaftStats {
    return this.#raft.stats;
  }

  /** Whether ready() would return anything. */
  hasReady(): boolean {
    assert(this.#outstanding === undefined, 'hasReady() while a Ready is outstanding');
    const r = this.#raft;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.log.unstable.entries.length > 0 || r.log.hasPendingSnapshot()) return true;
    if (r.log.hasNextCommittedEntries() || r.recoveredUnreported || r.recoveryStartedUnreported !== undefined) return true;
    if (!softEqual(this.#soft(), this.#prevSoft) || !hardEqual(this.#hard(), this.#prevHard)) return true;
    return false;
  }

  /**
   * Takes out of the pending output the messages that depend on nothing a Ready persists:
   * heartbeats and heartbeat responses of the last persisted term. The runtime sends them at
   * once while a Ready is still being persisted, so that a slow fsync (a LevelDB write stall
   * under a large backlog) does not silence the leader long enough for an election. Messages of
   * a term the outstanding Ready has yet to persist stay for their Ready: no message carries a
   * term before it is durable. Callable at any time, a Ready outstanding or not.
   */
  takeUrgentMessages(): Message[] {
    const r = this.#raft;
    const term = this.#prevHard.term;
    const urgent: Message[] = [];
    const rest: Message[] = [];
    for (const m of r.msgs) ((m.type === 'heartbeat' || m.type === 'heartbeatResp') && m.term === term ? urgent : rest).push(m);
    if (urgent.length > 0) r.msgs = rest;
    return urgent;
  }

  /** Collects the next batch of work. advance() must be called before the next ready(). */
  ready(applyBytesMax = 8 << 20): Ready {
    assert(this.#outstanding === undefined, 'ready() called twice without advance()');
    const r = this.#raft;
    const soft = this.#soft();
    const hard = this.#hard();
    const entries = r.log.unstableEntries();
    const snapshot = r.log.unstable.snapshot;
    const rd: Ready = {
      softState: softEqual(soft, this.#prevSoft) ? undefined : soft,
      hardState: hardEqual(hard, this.#prevHard) ? undefined : hard,
      entries,
      snapshot,
      committedEntries: r.log.nextCommittedEntries(applyBytesMax),
      messages: r.msgs,
      readStates: r.readStates,
      // A commit-only change may be lost in a crash (it is re-learned from the leader).
      mustSync: entries.length > 0 || snapshot !== undefined || hard.term !== this.#prevHard.term || hard.vote !== this.#prevHard.vote,
      recovered: r.recoveredUnreported,
      recoveryStarted: r.recoveryStartedUnreported,
    };
    r.recoveredUnreported = false;
    r.recoveryStartedUnreported = undefined;
    r.msgs = [];
    r.readStates = [];
    if (rd.softState !== undefined) this.#prevSoft = rd.softState;
    this.#outstanding = rd;
    return rd;
  }

  /** Confirms that `rd` was persisted, sent and applied. */
  advance(rd: Ready): void {
    assert(this.#outstanding === rd, 'advance() with a Ready that is not outstanding');
    this.#outstanding = undefined;
    const r = this.#raft;
    if (rd.hardState !== undefined) this.#prevHard = rd.hardState;
    if (rd.snapshot !== undefined) {
      r.log.stableSnapTo(rd.snapshot.index);
      r.log.appliedTo(rd.snapshot.index);
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) r.onStable(last.index, last.term);
    r.onApplied(rd.committedEntries);
  }

  /** A snapshot of the node's state. */
  status(): Status {
    const r = this.#raft;
    const progress = new Map<NodeId, { match: number; next: number; state: string; recentActive: boolean }>();
    if (r.role === 'leader') {
      for (const [id, pr] of r.prs.progress) progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive });
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      soft: this.#soft(),
      confState: r.prs.confState(),
      progress,
    };
  }

  #soft(): SoftState {
    return { leader: this.#raft.lead, role: this.#raft.role };
  }

  #hard(): HardState {
    return { term: this.#raft.term, vote: this.#raft.vote, commit: this.#raft.log.committed };
  }
}

function softEqual(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}

function hardEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
