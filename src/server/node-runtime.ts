import type { Logger } from 'pino';
import { assert } from '../../raft/assert.js';
import type { NodeId } from '../../raft/types.js';
import { RaftqError } from '../errors.js';
import { checkpointThresholdsDefault, DurableStorage, openStorage } from '../storage/index.js';
import { PeerTransport, type TransportCounters } from '../transport/index.js';
import { toRaftqError } from './error-map.js';
import { exitOnFatal } from './fatal-exit.js';
import { decodeAddressBook, isMember, membersKey, startupAddressBook, transportPeers, type ClusterNode, type MemberAction, type MembershipResult, type MembersView } from './membership.js';
import type { PeerConfig } from './peer-config.js';
import { Replica } from './replica.js';
import { type ReplicaClock, systemClock } from './replica-io.js';
import type { NodeRuntimeConfig, NodeRuntimeOptions, NodeStatus } from './runtime-options.js';
import { deriveSizeLimits } from './size-limits.js';

export type { NodeRuntimeConfig, NodeRuntimeOptions, NodeStatus } from './runtime-options.js';

/**
 * One raftq node: it opens the data directory and the peer transport, hosts one replica of the
 * Raft group over them (replica.ts: the event switch, the ready loop and the parts that own the
 * replica's state) and serves the public API (submit, reads, membership, status, stop) over
 * that replica. Requests on a follower are forwarded to the leader.
 */
export class NodeRuntime<Result, Reply> {
  readonly #replica: Replica<Result, Reply>;
  readonly #log: Logger;
  readonly #storage: DurableStorage;
  readonly #transport: PeerTransport;
  readonly #clock: ReplicaClock;

  private constructor(opts: NodeRuntimeOptions<Result, Reply>, storage: DurableStorage, transport: PeerTransport) {
    this.#log = opts.logger;
    this.#storage = storage;
    this.#transport = transport;
    this.#clock = systemClock(opts.now, opts.monoNow);
    this.#replica = new Replica<Result, Reply>({
      config: opts.config,
      logger: opts.logger,
      app: opts.app,
      replyCodecs: opts.replyCodecs,
      clock: this.#clock,
      storage,
      transport,
      onFatal: opts.onFatal ?? defaultFatal(opts.logger),
      metrics: opts.metrics,
      seed: opts.seed ?? (Date.now() ^ (process.pid << 8)) >>> 0,
      testingKnobs: opts.testingKnobs,
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
      ...(opts.unsafeSegmentLog !== undefined ? { unsafeSegmentLog: opts.unsafeSegmentLog } : {}),
      ...(config.segmentBytes !== undefined ? { segmentBytesMax: config.segmentBytes } : {}),
      ...(opts.app.logBacked !== undefined ? { logBacked: opts.app.logBacked } : {}),
      // Compaction reaches the last checkpoint at most: several checkpoints per compaction interval.
      checkpointEntries: Math.max(1, Math.min(checkpointThresholdsDefault.entries, Math.floor(config.snapshotEntries / 4))),
      checkpointLogBytes: Math.max(1, Math.min(checkpointThresholdsDefault.logBytes, Math.floor(config.snapshotBytes / 4))),
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
        snapshotSink: (from, message) => node!.#replica.events.handle({ kind: 'snapshot', from, message }),
        ...(opts.tls !== undefined ? { tls: opts.tls } : {}),
      });
      node = new NodeRuntime({ ...opts, config: { ...config, peers: book } }, storage, transport);
      const replica = node.#replica;
      await replica.clusterClock.load(storage);
      transport.onMessage((message) => replica.events.handle({ kind: 'peerMessage', message }));
      transport.onApp((from, frame) => replica.events.handle({ kind: 'forward', from, frame }));
      await transport.start();
      replica.startTimers();
      logger.info({ applied: storage.appliedIndex(), last: storage.lastIndex(), term: storage.hardState().term }, 'node started');
      return node;
    } catch (e) {
      await storage.close();
      throw e;
    }
  }

  /** The runtime settings; `peers` follows membership changes (the members' addresses). */
  get config(): NodeRuntimeConfig {
    return this.#replica.config;
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
    return this.#replica.membership.change(action, id, addr, timeoutMs);
  }

  /**
   * The members with their addresses and, on the leader, replication progress (match, state,
   * active).
   */
  members(): MembersView {
    return this.#replica.membership.members(this.status());
  }

  /** Every node this one dials (self included), with its addresses, progress and connection, as of `st`. */
  clusterNodes(st: NodeStatus = this.status()): ClusterNode[] {
    return this.#replica.membership.nodes(st);
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
    return this.#replica.submit(payload, opts);
  }

  /**
   * Waits until this node's state reflects every write committed before the call (ReadIndex,
   * Raft thesis §6.4): a read after it is linearizable.
   */
  async linearizableRead(timeoutMs = this.config.requestTimeoutMs): Promise<void> {
    this.#checkRunning();
    await this.#replica.events.handle({ kind: 'read', timeoutMs });
  }

  /** Resolves once the applied index reaches `index`; TIMEOUT after `timeoutMs`. */
  waitApplied(index: number, timeoutMs = this.config.requestTimeoutMs): Promise<void> {
    return this.#replica.reads.waitApplied(index, timeoutMs);
  }

  /** Asks the leader (this node) to hand leadership to `to`. */
  transferLeadership(to: NodeId): void {
    const raw = this.#replica.raw;
    if (raw.role !== 'leader') throw new RaftqError('NOT_LEADER', 'only the leader can transfer leadership', this.#replica.membership.leaderHint());
    try {
      raw.transferLeadership(to);
    } catch (e) {
      throw toRaftqError(e);
    }
    this.#replica.kick();
  }

  /** The current leader's id and addresses, if known. */
  leader(): { id: string; http?: string; client?: string } | undefined {
    return this.#replica.membership.leaderHint().leader;
  }

  /** The node's Raft state, for status endpoints. */
  status(): NodeStatus {
    const s = this.#replica.raw.status();
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
    return this.#replica.raw.stats;
  }

  /**
   * Graceful shutdown: hands leadership to a caught-up follower (waiting up to `transferWaitMs`),
   * stops the timers, finishes the ready loop, fails what is still pending, closes the
   * transport and the storage.
   */
  async stop(transferWaitMs = 2000): Promise<void> {
    if (this.#replica.stopped) return;
    if (this.#replica.raw.role === 'leader' && Object.keys(this.config.peers).length > 1) await this.#handOffLeadership(transferWaitMs);
    await this.#replica.stop();
    await this.#transport.close();
    await this.#storage.close();
    this.#log.info({}, 'node stopped');
  }

  async #handOffLeadership(waitMs: number): Promise<void> {
    const raw = this.#replica.raw;
    const best = this.#replica.handOffTarget();
    if (best === undefined) return;
    this.#log.info({ to: best }, 'shutting down: transferring leadership');
    try {
      raw.transferLeadership(best);
    } catch {
      return;
    }
    this.#replica.kick();
    const until = this.#clock.now() + waitMs;
    while (raw.role === 'leader' && this.#clock.now() < until) await sleep(this.config.tickMs);
  }

  #checkRunning(): void {
    if (this.#replica.stopped) throw new RaftqError('UNAVAILABLE', 'node is shutting down');
  }
}

function defaultFatal(logger: Logger): (err: unknown) => void {
  return (err) => exitOnFatal(logger, err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
