import { assert } from './assert.js';
import { TermProbe } from './recovery.js';
import { applyConfChange, decodeConfChange, encodeConfChange, validateConfChange } from './conf-change.js';
import { RaftError } from './errors.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import type { Rng } from './rng.js';
import type { Storage } from './storage.js';
import { ProgressTracker } from './tracker/tracker.js';
import type { Progress } from './tracker/progress.js';
import {
  NONE,
  type AppendMessage,
  type AppendResponseMessage,
  type ConfChange,
  type ConfState,
  type Entry,
  type HeartbeatMessage,
  type Message,
  type NodeId,
  type ReadState,
  type Role,
  type SnapshotMessage,
  type SnapshotMeta,
  type VoteMessage,
} from './types.js';
import { dataEntryBytes, totalBytes } from './util.js';

/** Structured logging hook; the runtime passes a pino child logger, tests pass nothing. */
export interface RaftLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silentLogger: RaftLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Test-only hooks that deliberately break a rule, so tests can prove the simulator catches it. */
export interface TestingKnobs {
  /** Commit an entry of an earlier term by counting replicas (violates Raft §5.4.2). */
  readonly commitPriorTermByCount?: boolean;
  /**
   * A leader commits what it has persisted itself, without waiting for a majority: it then
   * acknowledges writes a new leader never saw. The jepsen-like negative control uses it.
   */
  readonly commitOnLocalPersist?: boolean;
}

/** Configuration of one Raft node. */
export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: Storage;
  /** Ticks without hearing from a leader before campaigning; jittered to [n, 2n). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats. Invariant: heartbeatTicks < electionTicks. */
  readonly heartbeatTicks: number;
  /** The last index the application applied before a restart. */
  readonly applied?: number;
  /** Byte budget of the entries in one append message. */
  readonly appendBytesMax?: number;
  /** Append messages in flight per follower in replicate state (pipelining window). */
  readonly inflightMessagesMax?: number;
  /** Bytes in flight per follower in replicate state. */
  readonly inflightBytesMax?: number;
  /** Bytes of proposed but uncommitted entries a leader accepts before dropping proposals. */
  readonly uncommittedBytesMax?: number;
  /** Bytes of committed entries handed out in one Ready. */
  readonly applyBytesMax?: number;
  /** Outstanding ReadIndex requests on a leader. */
  readonly readIndexRequestsMax?: number;
  /** PreVote (Raft thesis §9.6); default true. */
  readonly preVote?: boolean;
  /** CheckQuorum: a leader that cannot hear a quorum steps down; default true. */
  readonly checkQuorum?: boolean;
  readonly rng: Rng;
  readonly logger?: RaftLogger;
  readonly testingKnobs?: TestingKnobs;
  /**
   * Start recovering from storage damage (recovery.ts): the node's durable state was rebuilt
   * from nothing, so it votes in nothing and counts in no quorum until it has caught up.
   */
  readonly recovering?: boolean;
}

/** Counters of notable events, for metrics and for the simulator's checks. */
export interface RaftStats {
  elections: number;
  proposalsDropped: number;
}

type CampaignType = 'preElection' | 'election' | 'transfer';

/**
 * The Raft state machine of one node: elections, replication, commitment, snapshots,
 * ReadIndex, leadership transfer and single-server membership changes. Pure: no I/O, clocks or
 * randomness beyond the injected Rng. Output accumulates in `msgs` and `readStates`; RawNode
 * packages it into Ready batches.
 */
export class Raft {
  readonly id: NodeId;
  /** Invariant: term never decreases. */
  term = 0;
  /** Invariant: at most one vote per term (persisted before any vote response leaves). */
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: Role = 'follower';
  readonly log: RaftLog;
  readonly prs: ProgressTracker;
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  readonly readOnly: ReadOnly;
  readonly stats: RaftStats = { elections: 0, proposalsDropped: 0 };

  /** Ticks since the last election timeout reset (leader: since the last CheckQuorum round). */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** The node a leadership transfer targets, or NONE. */
  leadTransferee: NodeId = NONE;
  /**
   * Index of the latest conf change this leader proposed, or of its term's no-op: a new
   * change waits until it applies.
   */
  pendingConfIndex = 0;
  /** Bytes of entries this leader appended that are not yet committed. */
  uncommittedBytes = 0;
  /** Recovering from storage damage (recovery.ts): no votes, in no quorum. */
  recovering: boolean;
  /** Set when recovery ended; RawNode reports it in the next Ready and clears it. */
  recoveredUnreported = false;
  /** Why recovery began at run time (amnesia found); RawNode reports it in the next Ready. */
  recoveryStartedUnreported: string | undefined;
  /** The term probe of the current recovery. */
  #termProbe = new TermProbe();
  /** Ticks since the last term probes went out. */
  #probeElapsed = 0;
  /** While recovering: the highest commit index a leader's append announced, and its term. */
  #leaderCommit = { term: 0, index: 0 };
  /** ReadIndex requests that arrived before this leader committed an entry in its term. */
  #pendingReadIndex: Array<{ context: Uint8Array; from: NodeId }> = [];

  readonly #cfg: Required<Omit<RaftConfig, 'applied' | 'logger' | 'testingKnobs' | 'storage' | 'rng' | 'id' | 'recovering'>>;
  readonly #rng: Rng;
  readonly #logger: RaftLogger;
  readonly #knobs: TestingKnobs;

  constructor(cfg: RaftConfig) {
    assert(cfg.id !== NONE, 'raft id must not be empty');
    assert(cfg.heartbeatTicks >= 1 && cfg.electionTicks > cfg.heartbeatTicks, 'electionTicks must exceed heartbeatTicks >= 1');
    this.id = cfg.id;
    this.#cfg = {
      electionTicks: cfg.electionTicks,
      heartbeatTicks: cfg.heartbeatTicks,
      appendBytesMax: cfg.appendBytesMax ?? 1 << 20,
      inflightMessagesMax: cfg.inflightMessagesMax ?? 256,
      inflightBytesMax: cfg.inflightBytesMax ?? 32 << 20,
      uncommittedBytesMax: cfg.uncommittedBytesMax ?? 64 << 20,
      applyBytesMax: cfg.applyBytesMax ?? 8 << 20,
      readIndexRequestsMax: cfg.readIndexRequestsMax ?? 4096,
      preVote: cfg.preVote ?? true,
      checkQuorum: cfg.checkQuorum ?? true,
    };
    this.#rng = cfg.rng;
    this.#logger = cfg.logger ?? silentLogger;
    this.#knobs = cfg.testingKnobs ?? {};
    this.readOnly = new ReadOnly(this.#cfg.readIndexRequestsMax);
    this.log = new RaftLog(cfg.storage, cfg.applied ?? 0);
    this.prs = new ProgressTracker({ countMax: this.#cfg.inflightMessagesMax, bytesMax: this.#cfg.inflightBytesMax });

    const { hardState, confState } = cfg.storage.initialState();
    this.prs.applyConfState(confState, this.log.lastIndex() + 1);
    if (hardState.term > 0 || hardState.commit > 0) {
      // Log regression check: the durable commit index must be covered by the durable log.
      assert(
        hardState.commit >= this.log.firstIndex() - 1 && hardState.commit <= this.log.lastIndex(),
        () => `hard state commit ${hardState.commit} outside log [${this.log.firstIndex() - 1}, ${this.log.lastIndex()}]: the log lost entries it had acknowledged`,
      );
      this.term = hardState.term;
      this.vote = hardState.vote;
      this.log.committed = hardState.commit;
    }
    if (cfg.applied !== undefined && cfg.applied > 0) {
      assert(cfg.applied <= this.log.committed, () => `applied ${cfg.applied} beyond commit ${this.log.committed}`);
    }
    this.recovering = cfg.recovering ?? false;
    if (this.recovering) this.#logger.warn({ term: this.term }, 'recovering from storage damage: not voting and in no quorum until caught up');
    this.becomeFollower(this.term, NONE);
  }

  /** Election timeout in ticks (before jitter). */
  get electionTicks(): number {
    return this.#cfg.electionTicks;
  }

  /** Whether this node may campaign: a voter of the current configuration, not recovering. */
  promotable(): boolean {
    return this.prs.isVoter(this.id) && !this.recovering;
  }

  // ---------------------------------------------------------------------------------------
  // Role changes.

  #reset(term: number): void {
    if (this.term !== term) {
      assert(term > this.term, () => `term going backwards ${this.term} -> ${term}`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.#cfg.electionTicks + this.#rng.int(this.#cfg.electionTicks);
    this.leadTransferee = NONE;
    this.prs.resetVotes();
    const next = this.log.lastIndex() + 1;
    for (const [id, pr] of this.prs.progress) {
      pr.becomeProbe();
      pr.match = id === this.id ? this.log.lastStableIndex() : 0;
      pr.next = next;
      pr.sentCommit = 0;
      pr.recentActive = false;
    }
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly.reset();
    this.#pendingReadIndex = [];
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.#reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become pre-candidate');
    // Term and vote are unchanged: a pre-election that fails leaves no trace. The old leader is
    // forgotten so that this node does not refuse pre-votes on its behalf (etcd #8334).
    this.prs.resetVotes();
    this.lead = NONE;
    this.role = 'preCandidate';
  }

  becomeCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become candidate');
    this.#reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.stats.elections++;
  }

  becomeLeader(): void {
    assert(this.role === 'candidate', () => `${this.role} cannot become leader`);
    assert(this.promotable(), 'a non-voter cannot become leader');
    this.#reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.prs.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Conf changes wait until everything up to and including this term's no-op is applied: a
    // leader appends no membership change before an entry of its own term commits (the fix to
    // single-server changes, Ongaro, raft-dev 2015), and none while an older one is unapplied.
    this.pendingConfIndex = this.#appendEntries([{ type: 'normal', data: new Uint8Array(0) }]);
    this.#logger.info({ term: this.term }, 'became leader');
  }

  /**
   * The application saw the leader's connection drop (a crashed leader's sockets close at
   * once). A follower forgets the leader and ends its lease, so it grants pre-votes and
   * campaigns after the random part of its election timeout instead of a whole timeout.
   */
  forgetLeader(): void {
    if (this.role !== 'follower' || this.lead === NONE) return;
    this.lead = NONE;
    this.electionElapsed = Math.max(this.electionElapsed, this.#cfg.electionTicks);
  }

  // ---------------------------------------------------------------------------------------
  // Inputs.

  /** Advances logical time by one tick. */
  tick(): void {
    if (this.role === 'leader') this.#tickHeartbeat();
    else this.#tickElection();
  }

  #tickElection(): void {
    this.electionElapsed++;
    if (this.recovering) this.#tickRecovery();
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaignIfAllowed(false);
    }
  }

  #tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.#cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.#cfg.checkQuorum) {
        if (!this.prs.quorumActive(this.id)) {
          this.#logger.warn({ term: this.term }, 'stepped down: quorum not active');
          this.becomeFollower(this.term, NONE);
          return;
        }
        for (const [id, pr] of this.prs.progress) if (id !== this.id) pr.recentActive = false;
      }
      if (this.leadTransferee !== NONE) this.#abortLeaderTransfer('timed out');
    }
    if (this.heartbeatElapsed >= this.#cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.#bcastHeartbeat(this.readOnly.lastPendingContext());
    }
  }

  /**
   * Starts an election unless this node is leader, is not a voter, or has committed
   * membership changes it has not applied yet. With PreVote, a normal timeout first runs a
   * pre-election; a transfer goes straight to a real one.
   */
  campaignIfAllowed(transfer: boolean): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    if (this.#hasUnappliedConfChange()) {
      this.#logger.warn({ term: this.term }, 'not campaigning: unapplied conf change');
      return;
    }
    if (transfer) this.#campaign('transfer');
    else if (this.#cfg.preVote) this.#campaign('preElection');
    else this.#campaign('election');
  }

  #hasUnappliedConfChange(): boolean {
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    if (lo > this.log.committed) return false;
    const ents = this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER);
    return ents.some((e) => e.type === 'conf');
  }

  #campaign(kind: CampaignType): void {
    let term: number;
    let type: 'vote' | 'preVote';
    if (kind === 'preElection') {
      this.becomePreCandidate();
      type = 'preVote';
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      type = 'vote';
      term = this.term;
    }
    this.prs.recordVote(this.id, true);
    if (this.prs.tallyVotes().result === 'won') {
      // A single-voter cluster wins at once.
      if (kind === 'preElection') this.#campaign('election');
      else this.becomeLeader();
      return;
    }
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    for (const id of [...this.prs.voters].sort()) {
      if (id === this.id) continue;
      this.#send({ type, from: this.id, to: id, term, index, logTerm, transfer: kind === 'transfer' });
    }
  }

  /** Handles a message from a peer. */
  step(m: Message): void {
    assert(m.to === this.id, () => `message for ${m.to} stepped into ${this.id}`);
    if (m.type === 'termProbe' || m.type === 'termProbeResp') {
      this.#handleTermProbe(m);
      return;
    }
    this.#stepByTerm(m);
    if (this.recovering) this.#maybeFinishRecovery();
  }

  #stepByTerm(m: Message): void {
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        // Leader lease: while we hear from a leader, ignore campaigns (unless a transfer), so a
        // partitioned node rejoining cannot disrupt a healthy cluster.
        const inLease = this.#cfg.checkQuorum && this.lead !== NONE && this.electionElapsed < this.#cfg.electionTicks;
        if (!m.transfer && inLease) {
          this.#logger.debug({ term: this.term, from: m.from, type: m.type }, 'ignored campaign within leader lease');
          return;
        }
      }
      if (m.type === 'preVote') {
        // A pre-vote never changes our term.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // A granted pre-vote carries the future term; it is counted, not adopted.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.#cfg.checkQuorum || this.#cfg.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // A stale leader (e.g. healed after a partition) learns our term and steps down.
        this.#send({ type: 'appResp', from: this.id, to: m.from, term: this.term, index: 0, reject: false, rejectHint: 0, logTerm: 0 });
      } else if (m.type === 'preVote') {
        this.#send({ type: 'preVoteResp', from: this.id, to: m.from, term: this.term, reject: true });
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      this.#handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.#stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.#stepCandidate(m);
        return;
      case 'follower':
        this.#stepFollower(m);
        return;
    }
  }

  #handleVoteRequest(m: VoteMessage): void {
    const canVote =
      !this.recovering &&
      (this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === 'preVote' && m.term > this.term));
    const respType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // A granted pre-vote answers in the requested term, so the pre-candidate counts it.
      this.#send({ type: respType, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.#send({ type: respType, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  #stepLeader(m: Message): void {
    const pr = this.prs.progress.get(m.from);
    switch (m.type) {
      case 'appResp':
        if (pr !== undefined) {
          this.#noteRecovering(m.from, pr, m.recovering === true);
          this.#handleAppendResponse(m, pr);
        }
        return;
      case 'heartbeatResp':
        if (pr === undefined) return;
        this.#noteRecovering(m.from, pr, m.recovering === true);
        pr.recentActive = true;
        pr.probeSent = false;
        // Appends in a full window may all have been lost: free one slot so that a heartbeat
        // round always lets one append through, which either succeeds or is rejected and
        // sends the follower back to probing.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
        // A follower in probe state that is caught up (e.g. after reportUnreachable) also gets
        // an (empty) append: its answer moves it back to replicate state.
        if (pr.match < this.log.lastIndex() || pr.state === 'probe') this.#sendAppend(m.from);
        // A recovering node may ack a stale leader's term it forgot it left: it confirms nothing.
        if (m.context.byteLength > 0 && !pr.recovering) this.#handleReadAck(m.from, m.context);
        return;
      case 'readIndex':
        this.#leaderReadIndex(m.context, m.from);
        return;
      default:
        return;
    }
  }

  #handleAppendResponse(m: AppendResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.#sendAppend(m.from);
      }
      return;
    }
    // An ack of the match point itself still ends probing (a caught-up follower probed after
    // reportUnreachable answers with the index it already acknowledged).
    if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === 'probe')) {
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
        // The follower can be caught up from the log, whatever snapshot got it there (an older
        // one than pendingSnapshot, say, while the pending one was lost): resume replicating.
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

      if (this.#maybeCommit()) {
        this.#bcastAppend();
      } else if (pr.canBumpCommit(this.log.committed)) {
        // The follower may lag on the commit index (its acks were lost, say): tell it now
        // rather than at the next heartbeat, but only if no message in flight already does.
        this.#sendAppend(m.from);
      }
      // Keep the pipeline full while there are entries and window space.
      while (this.#maybeSendAppend(m.from, false)) {
        /* loop */
      }
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
        this.#logger.info({ term: this.term, to: m.from }, 'transfer target caught up; sending TimeoutNow');
        this.#send({ type: 'timeoutNow', from: this.id, to: m.from, term: this.term });
      }
    }
  }

  #stepCandidate(m: Message): void {
    const respType = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
    switch (m.type) {
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.#handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.#handleHeartbeat(m);
        return;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.#handleSnapshot(m);
        return;
      case 'voteResp':
      case 'preVoteResp': {
        if (m.type !== respType) return;
        this.prs.recordVote(m.from, !m.reject);
        const { result } = this.prs.tallyVotes();
        if (result === 'won') {
          if (this.role === 'preCandidate') this.#campaign('election');
          else {
            this.becomeLeader();
            this.#bcastAppend();
          }
        } else if (result === 'lost') {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  #stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        // An append carries the leader's whole commit index (a heartbeat only what it believes
        // we hold): what a recovering node must reach.
        if (this.recovering && (this.#leaderCommit.term !== m.term || m.commit > this.#leaderCommit.index)) this.#leaderCommit = { term: m.term, index: m.commit };
        this.#handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleHeartbeat(m);
        return;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleSnapshot(m);
        return;
      case 'timeoutNow':
        // Only a voter may act on it: a learner or removed node never becomes leader.
        this.#logger.info({ term: this.term, from: m.from }, 'received TimeoutNow; campaigning');
        this.campaignIfAllowed(true);
        return;
      case 'readIndexResp':
        // Only the leader of this term vouches for a read index (same term is checked above);
        // the runtime also matches the context to a read this process started.
        if (!m.reject && m.from === this.lead) this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  #handleAppend(m: AppendMessage): void {
    if (m.index < this.log.committed) {
      this.#send({ type: 'appResp', from: this.id, to: m.from, term: this.term, index: this.log.committed, reject: false, rejectHint: 0, logTerm: 0 });
      return;
    }
    const appended = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (appended !== undefined) {
      if (appended.truncatedFrom !== 0) this.#dropAcksFrom(appended.truncatedFrom);
      this.#send({ type: 'appResp', from: this.id, to: m.from, term: this.term, index: appended.lastNew, reject: false, rejectHint: 0, logTerm: 0 });
      return;
    }
    const hintIndex = Math.min(m.index, this.log.lastIndex());
    const hint = this.log.findConflictByTerm(hintIndex, m.logTerm);
    this.#send({ type: 'appResp', from: this.id, to: m.from, term: this.term, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  #handleHeartbeat(m: HeartbeatMessage): void {
    // The leader sends at most what it believes we hold: more than we have means we lost
    // entries we acknowledged (a damaged log cut at a record boundary, a disk that lied).
    if (m.commit > this.log.lastIndex() && !this.recovering) {
      this.#enterRecovery(`leader ${m.from} of term ${m.term} believes this node holds entry ${m.commit}, but its log ends at ${this.log.lastIndex()}: acknowledged entries were lost`);
    }
    // A leader that has not yet heard we are recovering believes we hold what we lost.
    this.log.commitTo(this.recovering ? Math.min(m.commit, this.log.lastIndex()) : m.commit);
    this.#send({ type: 'heartbeatResp', from: this.id, to: m.from, term: this.term, context: m.context });
  }

  #handleSnapshot(m: SnapshotMessage): void {
    const s = m.snapshot;
    if (this.#restore(s)) {
      this.#logger.info({ term: this.term, index: s.index, snapTerm: s.term }, 'restored snapshot');
      this.#send({ type: 'appResp', from: this.id, to: m.from, term: this.term, index: this.log.lastIndex(), reject: false, rejectHint: 0, logTerm: 0 });
    } else {
      this.#send({ type: 'appResp', from: this.id, to: m.from, term: this.term, index: this.log.committed, reject: false, rejectHint: 0, logTerm: 0 });
    }
  }

  /**
   * What stepping a snapshot message of term `msgTerm` carrying `s` would do now: nothing
   * (`stale`: an older term, or at or below what we committed, hashicorp/raft #212;
   * `not-member`: this node is not in its configuration), fast-forward the commit index
   * (`have-entry`: we hold its last entry), or install it (`restore`). The one place of these
   * rules: #restore acts on it, and the runtime asks it before streaming a snapshot in.
   */
  restoreDecision(msgTerm: number, s: SnapshotMeta): 'stale' | 'not-member' | 'have-entry' | 'restore' {
    if (msgTerm < this.term || s.index <= this.log.committed) return 'stale';
    if (!s.confState.voters.includes(this.id) && !s.confState.learners.includes(this.id)) return 'not-member';
    return this.log.matchTerm(s.index, s.term) ? 'have-entry' : 'restore';
  }

  /** Installs a snapshot unless it is stale or redundant. Returns whether it was installed. */
  #restore(s: SnapshotMeta): boolean {
    const decision = this.restoreDecision(this.term, s);
    if (decision === 'stale') return false;
    assert(this.role === 'follower', 'only a follower restores a snapshot');
    if (decision === 'not-member') {
      this.#logger.warn({ term: this.term, index: s.index }, 'ignored snapshot: this node is not in its configuration');
      return false;
    }
    if (decision === 'have-entry') {
      // We already hold the entry: just fast-forward the commit index.
      this.log.commitTo(s.index);
      return false;
    }
    this.log.restore(s);
    this.#dropAcksFrom(s.index + 1);
    this.prs.applyConfState(s.confState, this.log.lastIndex() + 1);
    return true;
  }

  /**
   * Withdraws the acknowledgements not yet sent of entries at or after `index`, which were
   * just cut from the log (a conflicting append, a snapshot restore). Messages leave only after
   * their Ready is persisted, so such an ack was never true: its entries were in the unstable
   * log only, and a leader of their term could still count it toward committing them.
   * (Found by the simulator, seed 8745: a follower acked 44..47 in term 3, an append of term 4
   * cut its log back to 43 before that Ready was taken, and the ack went out anyway.)
   */
  #dropAcksFrom(index: number): void {
    this.msgs = this.msgs.filter((m) => m.type !== 'appResp' || m.reject || m.index < index);
  }

  // ---------------------------------------------------------------------------------------
  // Recovery from storage damage (recovery.ts).

  /** Leader: follows a follower's recovering flag; on entering recovery forgets its match. */
  #noteRecovering(from: NodeId, pr: Progress, recovering: boolean): void {
    if (recovering === pr.recovering) return;
    if (recovering) this.#forgetMatch(from, pr);
    else {
      pr.recovering = false;
      this.#logger.info({ term: this.term, node: from }, 'follower recovered: it counts in quorums again');
    }
  }

  /** Leader: `from` is recovering; whatever it acknowledged before may be gone. */
  #forgetMatch(from: NodeId, pr: Progress): void {
    this.#logger.warn({ term: this.term, node: from, match: pr.match }, 'follower is recovering from storage damage: it counts in no quorum until caught up');
    pr.recovering = true;
    pr.match = 0;
    pr.becomeProbe();
  }

  /**
   * Amnesia found at run time: this node lost entries it acknowledged. From now on it recovers
   * as a node rebuilt after damage does (it may have voted on a longer log than it has).
   */
  #enterRecovery(reason: string): void {
    this.#logger.error({ term: this.term, lastIndex: this.log.lastIndex() }, `storage lost acknowledged entries: recovering (${reason})`);
    this.recovering = true;
    this.recoveryStartedUnreported = reason;
    this.#termProbe = new TermProbe();
    this.#leaderCommit = { term: 0, index: 0 };
    this.#probeElapsed = 0;
  }

  /** Answers a term probe (changing nothing), or records an answer while recovering. */
  #handleTermProbe(m: Message): void {
    if (m.type === 'termProbe') {
      // Only a recovering node probes. A leader forgets what it believed the node holds before
      // answering, so the node's recovery (which needs this answer) never ends while this
      // leader still counts acknowledgements the node has lost.
      const pr = this.role === 'leader' ? this.prs.progress.get(m.from) : undefined;
      if (pr !== undefined) this.#forgetMatch(m.from, pr);
      this.#send({ type: 'termProbeResp', from: this.id, to: m.from, term: this.term });
      return;
    }
    if (!this.recovering) return;
    this.#termProbe.record(m.from, m.term);
    const floor = this.#termProbe.floor(this.prs.voters, this.id);
    if (floor === undefined) return;
    if (floor > this.term) this.becomeFollower(floor, NONE);
    // A vote we cast before the damage was in a term at or below the floor: never vote in it.
    if (this.vote === NONE) this.vote = this.id;
    this.#maybeFinishRecovery();
  }

  /** Sends term probes to the voters that have not answered, every heartbeat interval. */
  #tickRecovery(): void {
    if (this.#probeElapsed++ % this.#cfg.heartbeatTicks !== 0) return;
    if (this.#termProbe.floor(this.prs.voters, this.id) !== undefined) return;
    for (const to of this.#termProbe.missing(this.prs.voters, this.id)) this.#send({ type: 'termProbe', from: this.id, to, term: this.term });
  }

  /** Ends recovery once both conditions of recovery.ts hold. */
  #maybeFinishRecovery(): void {
    if (!this.recovering || this.#termProbe.floor(this.prs.voters, this.id) === undefined) return;
    if (this.role !== 'follower' || this.lead === NONE || this.#leaderCommit.term !== this.term) return;
    // The leader's commit index at an entry of its own term: every entry committed before
    // the damage is at or below it. We must hold it durably, and know it committed.
    const commit = this.#leaderCommit.index;
    if (commit < 1 || this.log.committed < commit || this.log.lastStableIndex() < commit || this.log.termOrZero(commit) !== this.term) return;
    this.recovering = false;
    this.recoveredUnreported = true;
    this.#termProbe = new TermProbe();
    this.#leaderCommit = { term: 0, index: 0 };
    if (this.vote === NONE) this.vote = this.lead;
    this.#logger.info({ term: this.term, leader: this.lead, commit }, 'recovered from storage damage: voting and counting in quorums again');
  }

  // ---------------------------------------------------------------------------------------
  // Proposals, reads, transfers, membership.

  /**
   * Appends `data` to the log as a new entry (leader only). Returns the entry's index; the
   * proposal succeeded if the entry applied at that index has the returned term.
   * Throws RaftError NOT_LEADER (with the known leader) or PROPOSAL_DROPPED.
   */
  propose(data: Uint8Array): { index: number; term: number } {
    return this.#proposeEntry('normal', data);
  }

  /** Proposes a single-server membership change (leader only). */
  proposeConfChange(cc: ConfChange): { index: number; term: number } {
    if (this.role === 'leader') {
      if (this.pendingConfIndex > this.log.applied) {
        throw new RaftError('CONF_CHANGE_PENDING', `conf change at ${this.pendingConfIndex} is not applied yet (applied ${this.log.applied})`);
      }
      validateConfChange(this.prs.confState(), cc);
    }
    const r = this.#proposeEntry('conf', encodeConfChange(cc));
    this.pendingConfIndex = r.index;
    return r;
  }

  #proposeEntry(type: 'normal' | 'conf', data: Uint8Array): { index: number; term: number } {
    if (this.role !== 'leader') {
      this.stats.proposalsDropped++;
      throw new RaftError('NOT_LEADER', this.lead === NONE ? 'no leader' : `not the leader; leader is ${this.lead}`, this.lead);
    }
    if (!this.prs.progress.has(this.id)) {
      this.stats.proposalsDropped++;
      throw new RaftError('PROPOSAL_DROPPED', 'this leader was removed from the configuration');
    }
    if (this.leadTransferee !== NONE) {
      this.stats.proposalsDropped++;
      throw new RaftError('PROPOSAL_DROPPED', `leadership transfer to ${this.leadTransferee} in progress`);
    }
    // Bound uncommitted bytes so re-proposals cannot grow the log without limit (etcd #10167);
    // one entry is always admitted when nothing is outstanding, so large entries still progress.
    // Checked with the size the entry is charged (payload and overhead), so the bound holds exactly.
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + dataEntryBytes(data) > this.#cfg.uncommittedBytesMax) {
      this.stats.proposalsDropped++;
      throw new RaftError('PROPOSAL_DROPPED', `uncommitted log is full (${this.uncommittedBytes} bytes)`);
    }
    const last = this.#appendEntries([{ type, data }]);
    this.#bcastAppend();
    return { index: last, term: this.term };
  }

  /**
   * Proposes several commands at once (one append, one broadcast); all or none are accepted.
   * Returns the index of the first; they occupy consecutive indexes.
   */
  proposeBatch(datas: readonly Uint8Array[]): { index: number; term: number } {
    assert(datas.length > 0, 'empty proposal batch');
    if (this.role !== 'leader') {
      this.stats.proposalsDropped += datas.length;
      throw new RaftError('NOT_LEADER', this.lead === NONE ? 'no leader' : `not the leader; leader is ${this.lead}`, this.lead);
    }
    if (this.leadTransferee !== NONE || !this.prs.progress.has(this.id)) {
      this.stats.proposalsDropped += datas.length;
      throw new RaftError('PROPOSAL_DROPPED', 'leadership transfer in progress or leader removed');
    }
    let bytes = 0;
    for (const d of datas) bytes += dataEntryBytes(d);
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.#cfg.uncommittedBytesMax) {
      this.stats.proposalsDropped += datas.length;
      throw new RaftError('PROPOSAL_DROPPED', `uncommitted log is full (${this.uncommittedBytes} bytes)`);
    }
    const last = this.#appendEntries(datas.map((data) => ({ type: 'normal' as const, data })));
    this.#bcastAppend();
    return { index: last - datas.length + 1, term: this.term };
  }

  /**
   * Requests a linearizable read point for `context` (unique per request). The answer arrives
   * as a ReadState in a later Ready. Throws RaftError NOT_LEADER / PROPOSAL_DROPPED when the
   * request cannot be served now.
   */
  readIndex(context: Uint8Array): void {
    assert(context.byteLength > 0, 'read index context must not be empty');
    if (this.role === 'leader') {
      this.#leaderReadIndex(context, this.id);
      return;
    }
    if (this.role === 'follower' && this.lead !== NONE) {
      this.#send({ type: 'readIndex', from: this.id, to: this.lead, term: this.term, context });
      return;
    }
    throw new RaftError('NOT_LEADER', 'no leader to serve a read index', this.lead);
  }

  #leaderReadIndex(context: Uint8Array, from: NodeId): void {
    if (this.log.termOrZero(this.log.committed) !== this.term) {
      // Until an entry of this term commits we do not know the true commit index.
      if (this.#pendingReadIndex.length < this.#cfg.readIndexRequestsMax) this.#pendingReadIndex.push({ context, from });
      else this.#rejectRead(context, from);
      return;
    }
    if (this.prs.voters.size === 1) {
      this.#answerRead({ index: this.log.committed, context, from });
      return;
    }
    if (!this.readOnly.add(this.log.committed, context, from)) {
      this.#rejectRead(context, from);
      return;
    }
    this.#bcastHeartbeat(context);
  }

  #rejectRead(context: Uint8Array, from: NodeId): void {
    if (from !== this.id) this.#send({ type: 'readIndexResp', from: this.id, to: from, term: this.term, context, index: 0, reject: true });
    else throw new RaftError('PROPOSAL_DROPPED', 'too many outstanding read index requests');
  }

  #handleReadAck(from: NodeId, context: Uint8Array): void {
    const acks = this.readOnly.recvAck(from, context);
    if (acks === undefined) return;
    const votes = new Map<NodeId, boolean>([[this.id, true]]);
    for (const id of acks) votes.set(id, true);
    let granted = 0;
    for (const id of this.prs.voters) if (votes.get(id) === true) granted++;
    if (granted < Math.floor(this.prs.voters.size / 2) + 1) return;
    for (const req of this.readOnly.advance(context)) this.#answerRead(req);
  }

  #answerRead(req: { index: number; context: Uint8Array; from: NodeId }): void {
    if (req.from === this.id) this.readStates.push({ index: req.index, context: req.context });
    else this.#send({ type: 'readIndexResp', from: this.id, to: req.from, term: this.term, context: req.context, index: req.index, reject: false });
  }

  #releasePendingReadIndex(): void {
    const pending = this.#pendingReadIndex;
    this.#pendingReadIndex = [];
    for (const p of pending) this.#leaderReadIndex(p.context, p.from);
  }

  /** Starts a leadership transfer to `to` (leader only). */
  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader') throw new RaftError('NOT_LEADER', 'only the leader can transfer leadership', this.lead);
    if (to === this.id) return;
    if (!this.prs.isVoter(to)) throw new RaftError('INVALID_CONF_CHANGE', `transfer target ${to} is not a voter`);
    if (this.leadTransferee === to) return;
    if (this.leadTransferee !== NONE) this.#abortLeaderTransfer('superseded');
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    this.leadTransferee = to;
    this.#logger.info({ term: this.term, to }, 'starting leadership transfer');
    const pr = this.prs.progress.get(to);
    if (pr !== undefined && pr.match === this.log.lastIndex()) {
      this.#send({ type: 'timeoutNow', from: this.id, to, term: this.term });
    } else {
      this.#sendAppend(to);
    }
  }

  #abortLeaderTransfer(reason: string): void {
    this.#logger.info({ term: this.term, to: this.leadTransferee, reason }, 'leadership transfer aborted');
    this.leadTransferee = NONE;
  }

  /**
   * Applies a committed membership change (called by RawNode as the entry is applied).
   * Returns the new configuration.
   */
  applyConfChange(cc: ConfChange): ConfState {
    // Membership is the base configuration (bootstrap or snapshot) plus the conf entries after
    // it. A node started with no membership (a new member) can only learn it from a snapshot:
    // replaying conf entries onto nothing yields a configuration without the cluster's voters,
    // so once promoted it would elect itself alone and commit on its own (split brain).
    assert(
      this.prs.voters.size > 0,
      () =>
        `${this.id}: ${cc.type} ${cc.nodeId} applied onto an empty configuration; ` +
        `a new member must start with the cluster's membership or install a snapshot`,
    );
    const cs = applyConfChange(this.prs.confState(), cc);
    this.prs.applyConfState(cs, this.log.lastIndex() + 1);
    if (this.role === 'leader') {
      if (!this.prs.isVoter(this.id)) {
        this.#logger.info({ term: this.term }, 'stepping down: removed from the voters');
        this.becomeFollower(this.term, NONE);
        return cs;
      }
      if (this.leadTransferee !== NONE && !this.prs.isVoter(this.leadTransferee)) this.#abortLeaderTransfer('target removed');
      // A smaller quorum may commit more; new members learn the log either way.
      this.#maybeCommit();
      this.#bcastAppend();
    }
    return cs;
  }

  /** Decodes and applies a committed `conf` entry. */
  applyConfEntry(e: Entry): ConfState {
    assert(e.type === 'conf', 'not a conf entry');
    return this.applyConfChange(decodeConfChange(e.data));
  }

  /** The application could not deliver a snapshot to `to` (or did). */
  reportSnapshot(to: NodeId, ok: boolean): void {
    const pr = this.prs.progress.get(to);
    if (this.role !== 'leader' || pr === undefined || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the next heartbeat response before probing again.
    pr.probeSent = true;
  }

  /** The transport could not reach `to`: stop pipelining to it. */
  reportUnreachable(to: NodeId): void {
    const pr = this.prs.progress.get(to);
    if (this.role === 'leader' && pr !== undefined && pr.state === 'replicate') pr.becomeProbe();
  }

  /**
   * The highest index the application may compact its log to without breaking a snapshot in
   * flight: a follower being sent a snapshot at index s needs the entries after s (hashicorp/raft
   * #212). Returns `upTo` unchanged when no snapshot is in flight.
   */
  compactionLimit(upTo: number): number {
    let limit = upTo;
    if (this.role !== 'leader') return limit;
    for (const [id, pr] of this.prs.progress) {
      if (id !== this.id && pr.state === 'snapshot' && pr.pendingSnapshot > 0) limit = Math.min(limit, pr.pendingSnapshot);
    }
    return limit;
  }

  // ---------------------------------------------------------------------------------------
  // Persistence acknowledgements (called by RawNode.advance).

  /** The leader's own entries up to `index` are durable: count itself toward the quorum. */
  onStable(index: number, term: number): void {
    this.log.stableTo(index, term);
    if (this.recovering) this.#maybeFinishRecovery();
    if (this.role !== 'leader') return;
    const self = this.prs.progress.get(this.id);
    if (self === undefined) return;
    if (self.maybeUpdate(this.log.lastStableIndex()) && this.#maybeCommit()) this.#bcastAppend();
  }

  /** Committed entries handed out were applied. */
  onApplied(ents: readonly Entry[]): void {
    const last = ents[ents.length - 1];
    if (last === undefined) return;
    this.log.appliedTo(last.index);
    if (this.role === 'leader') {
      this.uncommittedBytes = Math.max(0, this.uncommittedBytes - totalBytes(ents.filter((e) => e.term === this.term)));
    }
    for (const e of ents) if (e.type === 'conf') this.applyConfEntry(e);
  }

  // ---------------------------------------------------------------------------------------
  // Sending.

  #send(m: Message): void {
    if (this.recovering && (m.type === 'appResp' || m.type === 'heartbeatResp')) this.msgs.push({ ...m, recovering: true });
    else this.msgs.push(m);
  }

  #appendEntries(ents: ReadonlyArray<{ type: 'normal' | 'conf'; data: Uint8Array }>): number {
    let index = this.log.lastIndex();
    const full: Entry[] = ents.map((e) => ({ term: this.term, index: ++index, type: e.type, data: e.data }));
    this.uncommittedBytes += totalBytes(full);
    return this.log.append(full);
  }

  #maybeCommit(): boolean {
    const before = this.log.committed;
    const mci = this.#knobs.commitOnLocalPersist === true ? (this.prs.progress.get(this.id)?.match ?? 0) : this.prs.committed();
    if (!Number.isFinite(mci)) return false;
    const committed = this.log.maybeCommit(mci, this.term, this.#knobs.commitPriorTermByCount === true);
    if (committed && this.log.termOrZero(before) !== this.term && this.log.termOrZero(this.log.committed) === this.term) {
      this.#releasePendingReadIndex();
    }
    return committed;
  }

  #bcastAppend(): void {
    for (const id of this.prs.progress.keys()) if (id !== this.id) this.#sendAppend(id);
  }

  #sendAppend(to: NodeId): void {
    this.#maybeSendAppend(to, true);
  }

  /**
   * Sends entries (or an empty append carrying the commit index when `sendIfEmpty`) to `to`,
   * or a snapshot when the entries it needs were compacted. Returns whether a message was sent.
   */
  #maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.maybeTerm(prevIndex);
    let ents: Entry[] | undefined;
    if (prevTerm !== undefined) {
      try {
        ents = this.log.entriesFrom(pr.next, this.#cfg.appendBytesMax);
      } catch (e) {
        if (!(e instanceof RaftError && e.code === 'COMPACTED')) throw e;
      }
    }
    if (prevTerm === undefined || ents === undefined) return this.#maybeSendSnapshot(to, pr);
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.#send({ type: 'app', from: this.id, to, term: this.term, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed });
    const last = ents[ents.length - 1];
    if (last !== undefined) pr.sentEntries(last.index, totalBytes(ents));
    pr.sentCommitTo(this.log.committed);
    return true;
  }

  #maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    let snapshot: SnapshotMeta;
    try {
      snapshot = this.log.snapshot();
    } catch (e) {
      if (e instanceof RaftError && e.code === 'SNAPSHOT_TEMPORARILY_UNAVAILABLE') return false;
      throw e;
    }
    assert(snapshot.index > 0, 'need a snapshot but none exists');
    pr.becomeSnapshot(snapshot.index);
    this.#logger.info({ term: this.term, to, index: snapshot.index }, 'sending snapshot');
    this.#send({ type: 'snap', from: this.id, to, term: this.term, snapshot });
    return true;
  }

  #bcastHeartbeat(context: Uint8Array | undefined): void {
    for (const [id, pr] of this.prs.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.#send({ type: 'heartbeat', from: this.id, to: id, term: this.term, commit, context: context ?? new Uint8Array(0) });
      pr.sentCommitTo(commit);
    }
  }
}
