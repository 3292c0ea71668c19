/**
 * One replica of the Raft group (issue 17, item 5; DESIGN "Replicas"): the Raft core and the
 * parts that own its state, wired to each other. Every input goes through one event switch
 * (`events`, replica-events.ts); one ready loop (ready-loop.ts) alone drives the core, applying
 * committed entries (applier.ts). The parts: client proposals (proposer.ts), forwarding
 * (forwarding.ts), linearizable reads (reads.ts), membership (membership-owner.ts), log
 * compaction (compactor.ts), snapshot send/install (snapshot-transfer.ts) and what follows an
 * install (snapshot-adoption.ts). The node (node-runtime.ts) opens the storage and the
 * transport, hosts the replica and serves the public API over it.
 */
import type { Logger } from 'pino';
import type { TestingKnobs } from '../../raft/raft.js';
import { RawNode } from '../../raft/raw-node.js';
import { seededRng } from '../../raft/rng.js';
import type { NodeId } from '../../raft/types.js';
import { RaftqError } from '../errors.js';
import type { DurableStorage } from '../storage/index.js';
import type { PeerTransport } from '../transport/index.js';
import type { Application } from './application.js';
import { Applier, type AppliedRound } from './applier.js';
import { ClusterClock, LeaderStamper } from './cluster-clock.js';
import { Compactor } from './compactor.js';
import { Forwarding } from './forwarding.js';
import { Membership } from './membership-owner.js';
import type { NodeMetrics } from './metrics-hooks.js';
import { Mutex } from './mutex.js';
import { Proposer } from './proposer.js';
import { ReadyLoop } from './ready-loop.js';
import { LinearizableReads } from './reads.js';
import type { CancelTimer, ReplicaClock } from './replica-io.js';
import { ReplicaEvents, startReplicaTimers } from './replica-events.js';
import type { ReplyCodecs } from './reply-encoding.js';
import type { NodeRuntimeConfig } from './runtime-options.js';
import { deriveSizeLimits } from './size-limits.js';
import { SnapshotAdoption } from './snapshot-adoption.js';
import { SnapshotTransfer } from './snapshot-transfer.js';

/** What a replica is built from. */
export interface ReplicaOptions<Result, Reply> {
  /** The settings; `peers` is the address book the membership starts from. */
  readonly config: NodeRuntimeConfig;
  readonly logger: Logger;
  readonly app: Application<Result, Reply>;
  readonly replyCodecs: ReplyCodecs<Reply>;
  readonly clock: ReplicaClock;
  readonly storage: DurableStorage;
  readonly transport: PeerTransport;
  /** Called when the replica cannot go on (storage failure, broken invariant). */
  readonly onFatal: (err: unknown) => void;
  readonly metrics?: NodeMetrics | undefined;
  /** Seed of election jitter and snapshot retry jitter. */
  readonly seed: number;
  readonly testingKnobs?: TestingKnobs | undefined;
}

/** One replica: its parts, wired. See the module comment. */
export class Replica<Result, Reply> {
  readonly raw: RawNode;
  /** The applied configuration, the address book and the pending membership change. */
  readonly membership: Membership;
  /** Client proposals: queued until the next ready-loop turn, then pending until they apply. */
  readonly proposer: Proposer<Result>;
  /** Requests this follower forwards, requests this leader serves for followers. */
  readonly forwarding: Forwarding<Result, Reply>;
  /** Linearizable reads: waiting for a read index, then for it to apply. */
  readonly reads: LinearizableReads;
  /** The replicated clock applied entries advance. */
  readonly clusterClock = new ClusterClock();
  /** The one event switch every input goes through. */
  readonly events: ReplicaEvents<Reply>;
  readonly #loop: ReadyLoop<AppliedRound<Result>>;
  /** The ready-loop lock, shared with snapshot installs. */
  readonly #lock = new Mutex();
  readonly #clock: ReplicaClock;
  #config: NodeRuntimeConfig;
  #stopTimers: CancelTimer | undefined;
  #stopped = false;
  /** Source of request ids for requests that arrive without one. */
  #requestSeq = 0;

  constructor(o: ReplicaOptions<Result, Reply>) {
    const { config, logger, app, clock, storage, transport, metrics } = o;
    this.#config = config;
    this.#clock = clock;
    const limits = deriveSizeLimits();
    const kick = (): void => this.#loop.kick();
    const isStopped = (): boolean => this.#stopped;
    /** Stamps this node's proposals; the replicated clock their entries advance when applied. */
    const stamper = new LeaderStamper(clock.monoNow, clock.now);
    const raw = new RawNode({
      id: config.nodeId,
      storage,
      electionTicks: config.electionTicks,
      heartbeatTicks: config.heartbeatTicks,
      applied: storage.appliedIndex(),
      rng: seededRng(o.seed),
      logger,
      ...(o.testingKnobs !== undefined ? { testingKnobs: o.testingKnobs } : {}),
      // Rebuilt after damage (storage/repair.ts): no vote, in no quorum until caught up (raft/recovery.ts).
      recovering: storage.recovering !== undefined,
    });
    this.raw = raw;
    const membership = new Membership({ self: config.nodeId, dataDir: config.dataDir, raft: raw, transport, logger, book: config.peers, confState: storage.appliedConfState(), kick });
    this.membership = membership;
    const leaderHint = () => membership.leaderHint();
    const proposer = new Proposer<Result>({ raft: raw, app, stamper, proposalsMax: config.proposalsMax, commandBytesMax: limits.commandBytesMax, leaderHint, kick, now: clock.now, metrics });
    this.proposer = proposer;
    const forwarding = new Forwarding<Result, Reply>({
      settings: () => this.config,
      raft: raw,
      proposer,
      app,
      replyCodecs: o.replyCodecs,
      transport,
      forwardReplyBytesMax: limits.forwardReplyBytesMax,
      leaderHint,
      release: (cmd) => this.submit(cmd),
      isStopped,
      logger,
      now: clock.now,
    });
    this.forwarding = forwarding;
    const reads = new LinearizableReads({ self: config.nodeId, raft: raw, kick, now: clock.now });
    this.reads = reads;
    const coldWrites = app.coldWrites?.bind(app);
    const compactor = new Compactor({ storage, raft: raw, settings: config, confState: () => membership.confState, logger, now: clock.now, metrics, coldWrites });
    const adoption = new SnapshotAdoption({ lock: this.#lock, step: (m) => raw.step(m), kick, storage, stamper, app, clusterClock: this.clusterClock, membership, proposer });
    const retryRng = seededRng(o.seed ^ 0x5eed);
    const snapshots = new SnapshotTransfer({
      raw,
      storage,
      logger,
      rng: () => retryRng.next(),
      sendSnapshot: (to, msg, chunks) => transport.sendSnapshot(to, msg, chunks),
      reportSnapshot: (to, ok) => {
        raw.reportSnapshot(to, ok);
        kick();
      },
      runPaused: (fn) => adoption.runPaused(fn),
      adopt: (msg) => adoption.adopt(msg),
      onFatal: o.onFatal,
      isStopped,
      onSnapshotSent: () => metrics?.snapshotSent(),
    });
    const applier = new Applier<Result>({ membership, proposer, clusterClock: this.clusterClock, app, memberAdded: () => compactor.memberAdded(), metrics });
    this.#loop = new ReadyLoop<AppliedRound<Result>>({
      raft: raw,
      storage,
      transport,
      clock,
      lock: this.#lock,
      flushProposals: () => proposer.flush(),
      applier,
      listeners: {
        leaderReplaced: (prev) => forwarding.leaderReplaced(prev),
        leaderKnown: () => {
          forwarding.leaderKnown();
          reads.onLeaderKnown();
        },
        onReadStates: (rs) => reads.onReadStates(rs),
        notifyApplied: () => reads.notifyApplied(),
      },
      maybeCompact: () => compactor.maybeCompact(),
      sendSnapshot: (m) => void snapshots.send(m),
      isStopped,
      onFatal: o.onFatal,
      logger,
      metrics,
    });
    this.events = new ReplicaEvents<Reply>({
      raft: raw,
      loop: this.#loop,
      adoption,
      stamper,
      forwarding,
      reads,
      snapshots,
      app,
      submit: (cmd) => this.submit(cmd),
      confState: () => membership.confState,
      snapshotIndex: () => storage.snapshot().index,
      clock,
      isStopped,
      logger,
    });
  }

  /** The settings; `peers` follows membership changes (the members' addresses). */
  get config(): NodeRuntimeConfig {
    const peers = this.membership.peers;
    if (this.#config.peers !== peers) this.#config = { ...this.#config, peers };
    return this.#config;
  }

  /** Whether stop() was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Proposes `payload` (forwarded to the leader on a follower) by a deadline `timeoutMs` from now. */
  submit(payload: Uint8Array, opts: { timeoutMs?: number; requestId?: string } = {}): Promise<Reply> {
    const deadline = this.#clock.now() + (opts.timeoutMs ?? this.config.requestTimeoutMs);
    const requestId = opts.requestId ?? `${this.config.nodeId}-${++this.#requestSeq}`;
    return this.events.handle({ kind: 'proposal', payload, deadline, requestId });
  }

  /** Wakes the ready loop (after the core was given work outside the event switch). */
  kick(): void {
    this.#loop.kick();
  }

  /** Starts the tick and housekeeping timers (replica-events.ts). */
  startTimers(): void {
    this.#stopTimers = startReplicaTimers(this.#clock, this.config.tickMs, (ev) => this.events.handle(ev));
  }

  /** Stops the timers, waits for the ready loop's turn to end and fails everything still pending. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopTimers?.();
    await this.#lock.run(async () => {});
    this.proposer.failAll();
    this.membership.failAll(new RaftqError('TIMEOUT', 'node shut down before the membership change applied; outcome unknown'));
    // Forwarded requests may still be applied by the leader: their outcome is unknown.
    this.forwarding.failAll('the node shut down');
    this.reads.failAll();
  }

  /** The caught-up voter (highest match) a leader about to stop hands leadership to, if any. */
  handOffTarget(): NodeId | undefined {
    const st = this.raw.status();
    let best: NodeId | undefined;
    let bestMatch = -1;
    for (const [id, p] of st.progress) {
      if (id === this.config.nodeId || !st.confState.voters.includes(id)) continue;
      if (p.match > bestMatch) {
        best = id;
        bestMatch = p.match;
      }
    }
    return best;
  }
}
