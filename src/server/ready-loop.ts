/**
 * The ready loop of a replica (issue 17, item 5): the one place that drives RawNode's Ready
 * cycle. Anything that gives the core work (a tick, a peer message, a proposal, a read) calls
 * kick(); repeated kicks coalesce into one run on the clock's next turn, which drains every
 * Ready holding the ready-loop lock (mutex.ts; a snapshot install holds it too).
 *
 * One turn, persist-before-send: flush the queued proposals into one append; take the Ready;
 * apply its committed entries in memory (applier.ts); write the recovering marker if the core
 * just began recovering; save entries, hard state, snapshot meta and the applied state's
 * changes (persist-ready.ts: the entries cost one fdatasync of a log segment, the applied
 * changes wait in memory for a checkpoint, durable-storage.ts); clear the marker if the core recovered; send the
 * messages; complete what was applied; hand over the read states; advance; compact if due.
 * A leader whose role did not change in this Ready sends first instead (its messages do not
 * depend on its own disk, Raft thesis §10.2.1). While a turn is persisting, heartbeats and
 * their answers leave at once (sendUrgent).
 *
 * A failed turn (a failed save, a broken invariant) stops the loop for good: the failed Ready
 * is never advanced and its messages (if persist-first) never sent, and onFatal is called
 * (fatal-exit.ts explains why nothing is retried in-process).
 *
 * Everything outside is injected through narrow interfaces (replica-io.ts and below), so tests
 * drive the loop with a fake clock, transport and storage (test/server/ready-loop.test.ts).
 */
import type { Logger } from 'pino';
import type { Ready } from '../../raft/raw-node.js';
import { NONE, type Entry, type Message, type NodeId, type ReadState, type Role, type SnapshotMessage, type SoftState } from '../../raft/types.js';
import type { AppliedChanges } from '../storage/index.js';
import type { NodeMetrics } from './metrics-hooks.js';
import { persistReady } from './persist-ready.js';
import type { ReplicaClock, ReplicaStorage, ReplicaTransport } from './replica-io.js';

/** What the ready loop needs of the Raft core; RawNode has it. */
export interface ReadyLoopRaft {
  readonly role: Role;
  readonly term: number;
  hasReady(): boolean;
  ready(): Ready;
  advance(rd: Ready): void;
  /** Heartbeats and their answers produced since the last Ready (sent while a turn persists). */
  takeUrgentMessages(): Message[];
  reportUnreachable(to: NodeId): void;
}

/** What the ready loop does with one Ready's committed entries (applier.ts). */
export interface ReadyLoopApplier<Round> {
  /** Applies `entries` (non-empty) in memory; the changes to save with the Ready. */
  apply(entries: readonly Entry[]): Round & { readonly changes: AppliedChanges };
  /** The round's changes are durable: complete it. */
  settle(round: Round): void;
}

/** Who hears of leader changes and read states (forwarding.ts, reads.ts). */
export interface ReadyLoopListeners {
  /** The leader changed from `prev` (requests forwarded to it are lost). */
  leaderReplaced(prev: NodeId): void;
  /** A Ready named a leader: requests waiting for one go on, pending reads ask it again. */
  leaderKnown(): void;
  /** The read states of a Ready, after its save. */
  onReadStates(readStates: readonly ReadState[]): void;
  /** The applied index may have moved (after advance). */
  notifyApplied(): void;
}

/** What ReadyLoop needs of its replica. */
export interface ReadyLoopOptions<Round> {
  readonly raft: ReadyLoopRaft;
  readonly storage: ReplicaStorage;
  readonly transport: ReplicaTransport;
  readonly clock: Pick<ReplicaClock, 'now' | 'defer'>;
  /** The ready-loop lock, shared with snapshot installs (mutex.ts). */
  readonly lock: { run(fn: () => Promise<void>): Promise<void> };
  /** Appends the proposals queued since the last turn (Proposer.flush). */
  readonly flushProposals: () => void;
  readonly applier: ReadyLoopApplier<Round>;
  readonly listeners: ReadyLoopListeners;
  /** Compacts the log if a compaction is due (Compactor.maybeCompact). */
  readonly maybeCompact: () => Promise<void>;
  /** Streams a snapshot to a follower (SnapshotTransfer.send); failures are its own business. */
  readonly sendSnapshot: (m: SnapshotMessage) => void;
  /** Whether the replica is stopping: the loop drains no more Readys. */
  readonly isStopped: () => boolean;
  /** The loop failed: the node cannot go on. */
  readonly onFatal: (err: unknown) => void;
  readonly logger: Pick<Logger, 'info' | 'fatal'>;
  readonly metrics?: Pick<NodeMetrics, 'persisted' | 'leaderChanged'> | undefined;
}

/** Drives the Raft core's Ready cycle: see the module comment. */
export class ReadyLoop<Round> {
  readonly #o: ReadyLoopOptions<Round>;
  #soft: SoftState = { leader: NONE, role: 'follower' };
  #driving = false;
  #driveAgain = false;
  /** The loop failed (onFatal was called): it never runs again, the failed Ready is never advanced. */
  #failed = false;

  constructor(opts: ReadyLoopOptions<Round>) {
    this.#o = opts;
  }

  /** Whether a run is scheduled or under way. */
  get driving(): boolean {
    return this.#driving;
  }

  /** Whether the loop failed and stopped for good. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Schedules the loop (coalescing repeated calls). */
  kick(): void {
    if (this.#failed) return;
    if (this.#driving) {
      this.#driveAgain = true;
      return;
    }
    this.#driving = true;
    this.#o.clock.defer(() => void this.#drive());
  }

  /**
   * While the loop is busy (persisting a Ready), heartbeats and their responses leave at once
   * instead of waiting for the next Ready (RawNode.takeUrgentMessages).
   */
  sendUrgent(): void {
    if (!this.#driving) return;
    const urgent = this.#o.raft.takeUrgentMessages();
    if (urgent.length > 0) this.#o.transport.send(urgent);
  }

  async #drive(): Promise<void> {
    const o = this.#o;
    try {
      do {
        this.#driveAgain = false;
        await o.lock.run(async () => {
          while (!o.isStopped() && (await this.#processReady())) {
            /* drain */
          }
        });
      } while (this.#driveAgain && !o.isStopped());
    } catch (e) {
      this.#failed = true;
      o.logger.fatal({ err: e }, 'ready loop failed; stopping the node');
      o.onFatal(e);
    } finally {
      this.#driving = false;
    }
  }

  async #processReady(): Promise<boolean> {
    const o = this.#o;
    o.flushProposals();
    if (!o.raft.hasReady()) return false;
    const rd = o.raft.ready();
    if (rd.softState !== undefined) this.#onSoftState(rd.softState);
    // A leader's messages (appends, heartbeats) do not depend on its own disk: it counts
    // itself toward a quorum only after advance() confirms its fsync (Raft thesis §10.2.1), so
    // it sends first and writes in parallel with its followers. Everyone else persists first:
    // their votes and acks promise durable state.
    const sendFirst = o.raft.role === 'leader' && rd.softState === undefined;
    if (sendFirst) this.#sendMessages(rd);
    // 1. Apply the committed entries in memory; their state writes ride the save.
    const applied = rd.committedEntries.length > 0 ? o.applier.apply(rd.committedEntries) : undefined;
    // 2. Persist in one batch (persist-ready.ts); group commit: everything proposed since the
    //    last turn rides this fsync.
    // The core found it lost acknowledged entries: a restart must recover too (raft/recovery.ts).
    if (rd.recoveryStarted !== undefined) await o.storage.markRecovering({ reason: rd.recoveryStarted, since: new Date(o.clock.now()).toISOString() });
    await persistReady(o.storage, rd, applied?.changes, o.metrics);
    // The core left recovery and this Ready, now durable, holds the term and vote it took.
    if (rd.recovered) await o.storage.markRecovered();
    // 3. Send; complete what was applied.
    if (!sendFirst) this.#sendMessages(rd);
    if (applied !== undefined) o.applier.settle(applied);
    o.listeners.onReadStates(rd.readStates);
    // 4. Advance.
    o.raft.advance(rd);
    o.listeners.notifyApplied();
    await o.maybeCompact();
    return true;
  }

  #sendMessages(rd: Ready): void {
    const o = this.#o;
    const plain: Message[] = [];
    for (const m of rd.messages) {
      if (m.type === 'snap') {
        o.sendSnapshot(m);
        continue;
      }
      if (!o.transport.isConnected(m.to)) o.raft.reportUnreachable(m.to);
      plain.push(m);
    }
    if (plain.length > 0) o.transport.send(plain);
  }

  #onSoftState(s: SoftState): void {
    const o = this.#o;
    const prev = this.#soft;
    this.#soft = s;
    const term = o.raft.term;
    if (s.leader !== prev.leader) {
      o.listeners.leaderReplaced(prev.leader);
      o.logger.info({ term, leader: s.leader || null, role: s.role }, s.leader === NONE ? 'leader lost' : 'leader changed');
      o.metrics?.leaderChanged();
    }
    if (s.role !== prev.role) o.logger.info({ term, role: s.role }, `became ${s.role}`);
    // Requests waiting for a leader go on; ReadIndex requests died with the old leader: ask the new one.
    if (s.leader !== NONE) o.listeners.leaderKnown();
  }
}
