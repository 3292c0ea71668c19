import type { Logger } from 'pino';
import { assert } from '../../raft/assert.js';
import { RawNode } from '../../raft/raw-node.js';
import { seededRng } from '../../raft/rng.js';
import type { NodeId } from '../../raft/types.js';
import { RaftqError } from '../errors.js';
import { DurableStorage, openStorage } from '../storage/index.js';
import { PeerTransport, type TransportCounters } from '../transport/index.js';
import { Applier, type AppliedRound } from './applier.js';
import { ClusterClock, LeaderStamper } from './cluster-clock.js';
import { Forwarding } from './forwarding.js';
import { Mutex } from './mutex.js';
import { Proposer } from './proposer.js';
import { ReadyLoop } from './ready-loop.js';
import { type CancelTimer, type ReplicaClock, systemClock } from './replica-io.js';
import { ReplicaEvents, startReplicaTimers } from './replica-events.js';
import type { NodeRuntimeConfig, NodeRuntimeOptions, NodeStatus } from './runtime-options.js';
import { Compactor } from './compactor.js';
import { deriveSizeLimits, type SizeLimits } from './size-limits.js';
import { toRaftqError } from './error-map.js';
import { LinearizableReads } from './reads.js';
import { decodeAddressBook, isMember, membersKey, startupAddressBook, transportPeers, type ClusterNode, type MemberAction, type MembershipResult, type MembersView } from './membership.js';
import { Membership, type LeaderHint } from './membership-owner.js';
import { exitOnFatal } from './fatal-exit.js';
import { SnapshotAdoption } from './snapshot-adoption.js';
import { SnapshotTransfer } from './snapshot-transfer.js';
import type { PeerConfig } from './peer-config.js';

export type { NodeRuntimeConfig, NodeRuntimeOptions, NodeStatus } from './runtime-options.js';

/**
 * One raftq node, hosting one replica of the Raft group: the composition of its parts over
 * durable storage and the peer transport (issue 17, item 5). Every input (timer ticks, peer
 * messages, proposals, forwarded frames, reads, snapshot streams) goes through one event switch
 * (replica-events.ts); one ready loop (ready-loop.ts) alone drives the Raft core, applying
 * committed entries (applier.ts) and completing client requests when their entries apply.
 * Requests on a follower are forwarded to the leader. Parts own their state: client proposals
 * (proposer.ts), forwarding (forwarding.ts), linearizable reads (reads.ts), membership
 * (membership-owner.ts), log compaction (compactor.ts), snapshot send/install
 * (snapshot-transfer.ts) and what follows an install (snapshot-adoption.ts). The clock and its
 * timers, the transport and the storage reach the loop through replica-io.ts's interfaces.
 */
export class NodeRuntime<Result, Reply> {
  /** The runtime settings. Invariant: `peers` is the membership's (see the config getter). */
  #config: NodeRuntimeConfig;
  /** The applied configuration, the address book and the pending membership change. */
  readonly #membership: Membership;
  readonly #log: Logger;
  readonly #storage: DurableStorage;
  readonly #transport: PeerTransport;
  readonly #raw: RawNode;
  /** Wall and monotonic time, timers (replica-io.ts). */
  readonly #clock: ReplicaClock;
  /** Stamps this node's proposals; the replicated clock their entries advance when applied. */
  readonly #stamper: LeaderStamper;
  readonly #clusterClock = new ClusterClock();
  readonly #onFatal: (err: unknown) => void;
  readonly #lock = new Mutex();
  /** Every size limit, derived from the peer frame limit (size-limits.ts). */
  readonly #limits: SizeLimits = deriveSizeLimits();
  /** Client proposals: queued until the next ready-loop turn, then pending until they apply. */
  readonly #proposer: Proposer<Result>;
  readonly #snapshots: SnapshotTransfer;
  /** Log compaction: when a snapshot is due and how much log it keeps (compactor.ts). */
  readonly #compactor: Compactor;
  /** The one driver of the Raft core (ready-loop.ts). */
  readonly #loop: ReadyLoop<AppliedRound<Result>>;
  /** The one event switch every input goes through (replica-events.ts). */
  readonly #events: ReplicaEvents<Reply>;
  /** Stops the tick and housekeeping timers, once started. */
  #stopTimers: CancelTimer | undefined;
  #stopped = false;
  /** The pause around a snapshot install's end, and the adoption of its state (snapshot-adoption.ts). */
  readonly #adoption: SnapshotAdoption;
  /** Forwarding: requests this follower forwards, requests this leader serves for followers (forwarding.ts). */
  readonly #forwarding: Forwarding<Result, Reply>;
  /** Source of request ids for requests that arrive without one. */
  #requestSeq = 0;
  /** Linearizable reads: waiting for a read index, then for it to apply. */
  readonly #reads: LinearizableReads;

  private constructor(opts: NodeRuntimeOptions<Result, Reply>, storage: DurableStorage, transport: PeerTransport) {
    this.#config = opts.config;
    this.#log = opts.logger;
    this.#storage = storage;
    this.#transport = transport;
    const clock = systemClock(opts.now, opts.monoNow);
    this.#clock = clock;
    this.#stamper = new LeaderStamper(clock.monoNow, clock.now);
    this.#onFatal = opts.onFatal ?? defaultFatal(opts.logger);
    const seed = opts.seed ?? (Date.now() ^ (process.pid << 8)) >>> 0;
    this.#raw = new RawNode({
      id: opts.config.nodeId,
      storage,
      electionTicks: opts.config.electionTicks,
      heartbeatTicks: opts.config.heartbeatTicks,
      applied: storage.appliedIndex(),
      rng: seededRng(seed),
      logger: opts.logger,
      ...(opts.testingKnobs !== undefined ? { testingKnobs: opts.testingKnobs } : {}),
      // Rebuilt after damage (storage/repair.ts): no vote, in no quorum until caught up (raft/recovery.ts).
      recovering: storage.recovering !== undefined,
    });
    this.#membership = new Membership({
      self: opts.config.nodeId,
      dataDir: opts.config.dataDir,
      raft: this.#raw,
      transport,
      logger: opts.logger,
      book: opts.config.peers,
      confState: storage.appliedConfState(),
      kick: () => this.#loop.kick(),
    });
    this.#proposer = new Proposer<Result>({
      raft: this.#raw,
      app: opts.app,
      stamper: this.#stamper,
      proposalsMax: opts.config.proposalsMax,
      commandBytesMax: this.#limits.commandBytesMax,
      leaderHint: () => this.#leaderHint(),
      kick: () => this.#loop.kick(),
      now: clock.now,
      metrics: opts.metrics,
    });
    this.#forwarding = new Forwarding<Result, Reply>({
      settings: () => this.config,
      raft: this.#raw,
      proposer: this.#proposer,
      app: opts.app,
      replyCodecs: opts.replyCodecs,
      transport,
      forwardReplyBytesMax: this.#limits.forwardReplyBytesMax,
      leaderHint: () => this.#leaderHint(),
      release: (cmd) => this.submit(cmd),
      isStopped: () => this.#stopped,
      logger: opts.logger,
      now: clock.now,
    });
    this.#reads = new LinearizableReads({ self: opts.config.nodeId, raft: this.#raw, kick: () => this.#loop.kick(), now: clock.now });
    this.#compactor = new Compactor({
      storage,
      raft: this.#raw,
      settings: opts.config,
      confState: () => this.#membership.confState,
      logger: opts.logger,
      now: clock.now,
      metrics: opts.metrics,
    });
    this.#adoption = new SnapshotAdoption({
      lock: this.#lock,
      step: (m) => this.#raw.step(m),
      kick: () => this.#loop.kick(),
      storage,
      stamper: this.#stamper,
      app: opts.app,
      clusterClock: this.#clusterClock,
      membership: this.#membership,
      proposer: this.#proposer,
    });
    const retryRng = seededRng(seed ^ 0x5eed);
    this.#snapshots = new SnapshotTransfer({
      raw: this.#raw,
      storage,
      logger: opts.logger,
      rng: () => retryRng.next(),
      sendSnapshot: (to, msg, chunks) => transport.sendSnapshot(to, msg, chunks),
      reportSnapshot: (to, ok) => {
        this.#raw.reportSnapshot(to, ok);
        this.#loop.kick();
      },
      runPaused: (fn) => this.#adoption.runPaused(fn),
      adopt: (msg) => this.#adoption.adopt(msg),
      onFatal: (err) => this.#onFatal(err),
      isStopped: () => this.#stopped,
      onSnapshotSent: () => opts.metrics?.snapshotSent(),
    });
    const applier = new Applier<Result>({
      membership: this.#membership,
      proposer: this.#proposer,
      clusterClock: this.#clusterClock,
      app: opts.app,
      memberAdded: () => this.#compactor.memberAdded(),
      metrics: opts.metrics,
    });
    this.#loop = new ReadyLoop<AppliedRound<Result>>({
      raft: this.#raw,
      storage,
      transport,
      clock,
      lock: this.#lock,
      flushProposals: () => this.#proposer.flush(),
      applier,
      listeners: {
        leaderReplaced: (prev) => this.#forwarding.leaderReplaced(prev),
        leaderKnown: () => {
          this.#forwarding.leaderKnown();
          this.#reads.onLeaderKnown();
        },
        onReadStates: (rs) => this.#reads.onReadStates(rs),
        notifyApplied: () => this.#reads.notifyApplied(),
      },
      maybeCompact: () => this.#compactor.maybeCompact(),
      sendSnapshot: (m) => void this.#snapshots.send(m),
      isStopped: () => this.#stopped,
      onFatal: (err) => this.#onFatal(err),
      logger: opts.logger,
      metrics: opts.metrics,
    });
    this.#events = new ReplicaEvents<Reply>({
      raft: this.#raw,
      loop: this.#loop,
      adoption: this.#adoption,
      stamper: this.#stamper,
      forwarding: this.#forwarding,
      reads: this.#reads,
      snapshots: this.#snapshots,
      app: opts.app,
      submit: (cmd) => this.submit(cmd),
      confState: () => this.#membership.confState,
      snapshotIndex: () => storage.snapshot().index,
      clock,
      isStopped: () => this.#stopped,
      logger: opts.logger,
    });
  }

  /**
   * Opens the data directory (locking it), loads the application state, starts the peer
   * transport and the tick timer. A damaged data directory is moved aside and recreated
   * (storage/repair.ts: the storage is then `recovering`). Throws the storage's typed errors
   * (DATA_DIR_LOCKED, CLUSTER_MISMATCH, STORAGE_FULL, STORAGE_IO; STORAGE_CORRUPT only if the
   * fresh directory fails too) before anything listens.
   */
  static async start<Result, Reply>(opts: NodeRuntimeOptions<Result, Reply>): Promise<NodeRuntime<Result, Reply>> {
    const { config, logger } = opts;
    const self = config.peers[config.nodeId];
    assert(self !== undefined, `node ${config.nodeId} is not in its own peer list`);
    if (config.join === true && Object.keys(config.peers).length < 2) {
      throw new RaftqError('INVALID_ARGUMENT', `--join: --peers must name at least one existing member besides ${config.nodeId} (the node accepts connections only from known peers)`);
    }
    const storage = await openStorage(config.dataDir, {
      clusterId: config.clusterId,
      nodeId: config.nodeId,
      // A joining node knows no membership until a snapshot brings it (membership.ts).
      initialConfState: config.join === true ? { voters: [], learners: [] } : { voters: Object.keys(config.peers).sort(), learners: [] },
      logger,
      ...(opts.openDb !== undefined ? { openDb: opts.openDb } : {}),
      ...(opts.skipChecksums === true ? { skipChecksums: true } : {}),
      // Only peers can repair a damaged node: alone, it refuses to start (STORAGE_CORRUPT).
      repair: Object.keys(config.peers).length > 1,
      onRepair: () => opts.metrics?.storageRepaired(),
    });
    try {
      await opts.app.reload(storage);
      const cs = storage.appliedConfState();
      if (config.join === true && cs.voters.length === 0) logger.info({ peers: Object.keys(config.peers) }, 'joining: not a member yet; waiting for the leader to add this node (raftq member add)');
      else if (config.join !== true && !isMember(cs, config.nodeId)) logger.warn({ confState: cs }, 'this node is not a member of the cluster configuration it stores (it was removed, or is still joining)');
      const book = startupAddressBook(config.peers, cs, decodeAddressBook(await storage.get(membersKey)), config.nodeId);
      let node: NodeRuntime<Result, Reply> | undefined;
      const transport = new PeerTransport({
        clusterId: config.clusterId,
        nodeId: config.nodeId,
        listen: { host: config.listenHost, port: self.peerPort },
        peers: transportPeers(book, config.nodeId),
        logger,
        frameBytesMax: deriveSizeLimits().peerFrameBytesMax,
        snapshotSink: (from, message) => node!.#events.handle({ kind: 'snapshot', from, message }),
      });
      node = new NodeRuntime({ ...opts, config: { ...config, peers: book } }, storage, transport);
      await node.#clusterClock.load(storage);
      transport.onMessage((message) => node.#events.handle({ kind: 'peerMessage', message }));
      transport.onApp((from, frame) => node.#events.handle({ kind: 'forward', from, frame }));
      await transport.start();
      node.#stopTimers = startReplicaTimers(node.#clock, config.tickMs, (ev) => node.#events.handle(ev));
      logger.info({ applied: storage.appliedIndex(), last: storage.lastIndex(), term: storage.hardState().term }, 'node started');
      return node;
    } catch (e) {
      await storage.close();
      throw e;
    }
  }

  /** The runtime settings; `peers` follows membership changes (the members' addresses). */
  get config(): NodeRuntimeConfig {
    const peers = this.#membership.peers;
    if (this.#config.peers !== peers) this.#config = { ...this.#config, peers };
    return this.#config;
  }

  // ---------------------------------------------------------------------------------------
  // Membership (single-server changes; README "Operations").

  /**
   * Changes the membership by one server and resolves once the conf entry applied on this
   * leader: `add` makes `id` a learner (addresses required unless known from --peers),
   * `promote` makes a caught-up learner a voter, `remove` removes a voter or learner. Leader
   * only: elsewhere throws NOT_LEADER with the leader hint (NO_LEADER when none is known).
   * Throws INVALID_ARGUMENT for a change that makes no sense for the current configuration,
   * UNAVAILABLE while another change is pending or a learner has not caught up, TIMEOUT when
   * the entry did not apply in time (outcome unknown: check `GET /v1/cluster/members`).
   */
  async changeMembership(action: MemberAction, id: NodeId, addr?: PeerConfig, timeoutMs = this.config.requestTimeoutMs): Promise<MembershipResult> {
    this.#checkRunning();
    return this.#membership.change(action, id, addr, timeoutMs);
  }

  /**
   * The members with their addresses and, on the leader, replication progress (match, state,
   * active).
   */
  members(): MembersView {
    return this.#membership.members(this.status());
  }

  /** Every node this one dials (self included), with its addresses, progress and connection, as of `st`. */
  clusterNodes(st: NodeStatus = this.status()): ClusterNode[] {
    return this.#membership.nodes(st);
  }

  // ---------------------------------------------------------------------------------------
  // Client-facing operations.

  /**
   * Replicates `payload` and returns the reply once its entry is committed on a majority
   * (fsynced) and applied. On a follower the request is forwarded to the leader. Throws
   * RaftqError: NO_LEADER, UNAVAILABLE (overload, lost leadership: not applied), TIMEOUT
   * (outcome unknown), or the application's validation errors.
   */
  async submit(payload: Uint8Array, opts: { timeoutMs?: number; requestId?: string } = {}): Promise<Reply> {
    const deadline = this.#clock.now() + (opts.timeoutMs ?? this.config.requestTimeoutMs);
    const requestId = opts.requestId ?? `${this.config.nodeId}-${++this.#requestSeq}`;
    return this.#events.handle({ kind: 'proposal', payload, deadline, requestId });
  }

  /**
   * Waits until this node's state reflects every write committed before the call (ReadIndex,
   * Raft thesis §6.4): a read after it is linearizable.
   */
  async linearizableRead(timeoutMs = this.config.requestTimeoutMs): Promise<void> {
    this.#checkRunning();
    await this.#events.handle({ kind: 'read', timeoutMs });
  }

  /** Resolves once the applied index reaches `index`; TIMEOUT after `timeoutMs`. */
  waitApplied(index: number, timeoutMs = this.config.requestTimeoutMs): Promise<void> {
    return this.#reads.waitApplied(index, timeoutMs);
  }

  /** Asks the leader (this node) to hand leadership to `to`. */
  transferLeadership(to: NodeId): void {
    if (this.#raw.role !== 'leader') throw new RaftqError('NOT_LEADER', 'only the leader can transfer leadership', this.#leaderHint());
    try {
      this.#raw.transferLeadership(to);
    } catch (e) {
      throw toRaftqError(e);
    }
    this.#loop.kick();
  }

  /** The current leader's id and addresses, if known. */
  leader(): { id: string; http?: string; client?: string } | undefined {
    return this.#leaderHint().leader;
  }

  /** The node's Raft state, for status endpoints. */
  status(): NodeStatus {
    const s = this.#raw.status();
    const progress: NodeStatus['progress'] = {};
    for (const [id, p] of s.progress) progress[id] = { match: p.match, next: p.next, state: p.state, active: p.recentActive };
    const peersConnected: Record<NodeId, boolean> = {};
    for (const id of Object.keys(this.config.peers)) if (id !== this.config.nodeId) peersConnected[id] = this.#transport.isConnected(id);
    return {
      id: s.id,
      role: s.soft.role,
      term: s.term,
      leader: s.soft.leader,
      commitIndex: s.commit,
      appliedIndex: s.applied,
      lastIndex: s.lastIndex,
      snapshotIndex: this.#storage.snapshot().index,
      confState: s.confState,
      progress,
      peersConnected,
      ...(this.#storage.recovering !== undefined ? { recovering: this.#storage.recovering } : {}),
    };
  }

  /** The stored application state (for reads after linearizableRead). */
  get storage(): DurableStorage {
    return this.#storage;
  }

  /** The peer transport's counters (bytes, frames, reconnects, drops, snapshots). */
  transportStats(): TransportCounters {
    const { peers: _peers, ...counters } = this.#transport.stats();
    void _peers;
    return counters;
  }

  /** Raft's counters (elections, dropped proposals). */
  get raftStats(): { elections: number; proposalsDropped: number } {
    return this.#raw.stats;
  }

  /**
   * Graceful shutdown: hands leadership to a caught-up follower (waiting up to `transferWaitMs`),
   * stops the timers, finishes the ready loop, fails what is still pending, closes the
   * transport and the storage.
   */
  async stop(transferWaitMs = 2000): Promise<void> {
    if (this.#stopped) return;
    if (this.#raw.role === 'leader' && Object.keys(this.config.peers).length > 1) await this.#handOffLeadership(transferWaitMs);
    this.#stopped = true;
    this.#stopTimers?.();
    await this.#lock.run(async () => {});
    this.#proposer.failAll();
    this.#membership.failAll(new RaftqError('TIMEOUT', 'node shut down before the membership change applied; outcome unknown'));
    // Forwarded requests may still be applied by the leader: their outcome is unknown.
    this.#forwarding.failAll('the node shut down');
    this.#reads.failAll();
    await this.#transport.close();
    await this.#storage.close();
    this.#log.info({}, 'node stopped');
  }

  async #handOffLeadership(waitMs: number): Promise<void> {
    const st = this.#raw.status();
    let best: NodeId | undefined;
    let bestMatch = -1;
    for (const [id, p] of st.progress) {
      if (id === this.config.nodeId || !st.confState.voters.includes(id)) continue;
      if (p.match > bestMatch) {
        best = id;
        bestMatch = p.match;
      }
    }
    if (best === undefined) return;
    this.#log.info({ to: best }, 'shutting down: transferring leadership');
    try {
      this.#raw.transferLeadership(best);
    } catch {
      return;
    }
    this.#loop.kick();
    const until = this.#clock.now() + waitMs;
    while (this.#raw.role === 'leader' && this.#clock.now() < until) await sleep(this.config.tickMs);
  }

  #leaderHint(): LeaderHint {
    return this.#membership.leaderHint();
  }

  #checkRunning(): void {
    if (this.#stopped) throw new RaftqError('UNAVAILABLE', 'node is shutting down');
  }
}

function defaultFatal(logger: Logger): (err: unknown) => void {
  return (err) => exitOnFatal(logger, err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
