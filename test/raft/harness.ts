import {
  AssertionError,
  RawNode,
  assert,
  seededRng,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type Raft,
  type RaftConfig,
  type ReadState,
  type TestingKnobs,
} from '../../raft/index.js';
import { SafetyChecker } from '../sim/checker.js';
import { SimNode, type Envelope, type NodeObserver } from '../sim/sim-node.js';

/**
 * A small deterministic harness for scripted Raft scenarios, in the spirit of etcd-raft's
 * interaction tests: a cluster of SimNodes (n1..nN) on a lossless FIFO network that the test
 * drives by hand (tick, campaign, propose, partition, crash), with the simulator's
 * SafetyChecker run after every step so every scenario also checks Raft safety.
 *
 * Nothing happens unless the test asks: `stabilize()` runs ready/deliver rounds until the
 * cluster is quiet; ticks and campaigns stabilize after themselves unless told not to.
 */

/** Raft options a scenario may set for every node, or per node. */
export type RaftOptions = Partial<
  Pick<
    RaftConfig,
    | 'preVote'
    | 'checkQuorum'
    | 'appendBytesMax'
    | 'inflightMessagesMax'
    | 'inflightBytesMax'
    | 'uncommittedBytesMax'
    | 'applyBytesMax'
    | 'readIndexRequestsMax'
  >
> & { readonly testingKnobs?: TestingKnobs };

/** A log to preload into a node's durable storage before it boots (etcd's newTestRaft style). */
export interface InitialLog {
  /** Term of each entry, starting at index 1. Entry data is derived from (index, term). */
  readonly terms: readonly number[];
  /** Persisted term; defaults to the last entry's term. */
  readonly term?: number;
  readonly vote?: NodeId;
  readonly commit?: number;
}

export interface ClusterOptions {
  /** Number of voters n1..nN (default 3). */
  readonly voters?: number;
  /** Learners, named after the voters (n{N+1}..) when a number is given. */
  readonly learners?: number;
  /** Ticks of the election timeout (default 10; jittered to [n, 2n)). */
  readonly electionTicks?: number;
  /** Ticks between heartbeats (default 1). */
  readonly heartbeatTicks?: number;
  readonly raft?: RaftOptions;
  readonly perNode?: Readonly<Record<NodeId, RaftOptions>>;
  /** Snapshot and compact once this many entries were applied past the last snapshot (default: never). */
  readonly snapshotEveryEntries?: number;
  /** Entries kept behind a snapshot for slow followers (default 0). */
  readonly compactionTrailingEntries?: number;
  readonly logs?: Readonly<Record<NodeId, InitialLog>>;
  /**
   * Report the outcome of every `snap` message to its sender the way the transport does
   * (default true). Off, the test calls `reportSnapshot` itself.
   */
  readonly autoReportSnapshot?: boolean;
  readonly seed?: number;
}

/** Rounds of ready/deliver after which `stabilize()` declares a livelock. */
const stabilizeRoundsMax = 10_000;

const encoder = new TextEncoder();

/** The data of a preloaded entry: the same (index, term) always carries the same bytes. */
export function preloadedData(index: number, term: number): Uint8Array {
  return encoder.encode(`pre:${index}@${term}`);
}

/** A test cluster. Node ids are "n1".."nN" for voters, then learners. */
export class TestCluster {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly checker = new SafetyChecker();
  /** Every message any node sent, delivered or not, in send order. Tests may clear it. */
  sent: Message[] = [];
  /** Every `snap` message sent, with its data, so a test can deliver a copy late. */
  readonly sentSnapshots: Envelope[] = [];
  /** The ReadIndex answers each node handed to its application, in order. */
  readonly readStates = new Map<NodeId, ReadState[]>();
  /** Forwards to the checker and records what the checker does not look at. */
  readonly #observer: NodeObserver = {
    onPersist: (node, entries) => this.checker.onPersist(node, entries),
    onApply: (node, entry) => this.checker.onApply(node, entry),
    onAck: (node, index, durableLast) => this.checker.onAck(node, index, durableLast),
    onProposalOutcome: (node, key, at, outcome) => this.checker.onProposalOutcome(node, key, at, outcome),
    onReady: (node, rd) => {
      if (rd.readStates.length > 0) this.readStates.set(node.id, [...(this.readStates.get(node.id) ?? []), ...rd.readStates]);
    },
  };
  /** Nodes that are crashed: they neither tick, process readies, nor receive messages. */
  readonly #down = new Set<NodeId>();
  /** Directed links that drop everything: "from>to". */
  readonly #blocked = new Set<string>();
  /** An extra drop rule: a message is delivered only if this returns true. */
  deliverIf: ((m: Message) => boolean) | undefined;
  /** Messages matching this are parked (neither delivered nor reported) until `releaseHeld`. */
  hold: ((m: Message) => boolean) | undefined;
  #held: Envelope[] = [];
  #queue: Envelope[] = [];
  readonly #o: ClusterOptions;
  readonly #boots = new Map<NodeId, number>();

  constructor(o: ClusterOptions = {}) {
    this.#o = o;
    const voterCount = o.voters ?? 3;
    const voters = Array.from({ length: voterCount }, (_, i) => `n${i + 1}`);
    const learners = Array.from({ length: o.learners ?? 0 }, (_, i) => `n${voterCount + i + 1}`);
    for (const id of [...voters, ...learners]) this.#addSimNode(id, { voters, learners });
  }

  /**
   * Adds a node that is not (yet) a member, booted with `membership` as its base configuration:
   * what the operator starts a new member with (typically the cluster's current configuration).
   * It learns later changes from the log, or the whole membership from a snapshot.
   */
  addNode(id: NodeId, membership: ConfState): SimNode {
    assert(!this.nodes.has(id), () => `${id} exists`);
    return this.#addSimNode(id, membership);
  }

  #addSimNode(id: NodeId, cs: ConfState): SimNode {
    const sim = new SimNode(
      id,
      cs,
      {
        electionTicks: this.#o.electionTicks ?? 10,
        heartbeatTicks: this.#o.heartbeatTicks ?? 1,
        snapshotEveryEntries: this.#o.snapshotEveryEntries ?? Number.MAX_SAFE_INTEGER,
        compactionTrailingEntries: this.#o.compactionTrailingEntries ?? 0,
      },
      this.#o.seed ?? 1,
      this.#observer,
    );
    const pre = this.#o.logs?.[id];
    if (pre !== undefined) {
      const ents: Entry[] = pre.terms.map((term, i) => ({ index: i + 1, term, type: 'normal', data: preloadedData(i + 1, term) }));
      sim.storage.append(ents);
      sim.storage.setHardState({ term: pre.term ?? pre.terms[pre.terms.length - 1] ?? 0, vote: pre.vote ?? '', commit: pre.commit ?? 0 });
    }
    this.nodes.set(id, sim);
    this.#boot(sim);
    return sim;
  }

  /**
   * Replaces the RawNode SimNode booted with one configured with this scenario's Raft options
   * (SimNodeOptions does not carry PreVote, CheckQuorum or the byte limits). Same storage, so
   * the crash semantics are SimNode's.
   */
  #boot(sim: SimNode): void {
    const boots = (this.#boots.get(sim.id) ?? 0) + 1;
    this.#boots.set(sim.id, boots);
    const opts: RaftOptions = { ...this.#o.raft, ...this.#o.perNode?.[sim.id] };
    const cfg: RaftConfig = {
      ...opts,
      id: sim.id,
      storage: sim.storage,
      electionTicks: this.#o.electionTicks ?? 10,
      heartbeatTicks: this.#o.heartbeatTicks ?? 1,
      applied: sim.storage.snapshot().index,
      recovering: sim.recoveringMarker,
      rng: seededRng(((this.#o.seed ?? 1) * 7919 + boots * 104729 + Number(sim.id.replace(/\D/g, ''))) >>> 0),
    };
    sim.node = new RawNode(cfg);
  }

  // ---------------------------------------------------------------------------------------
  // Accessors.

  /** The simulated node `id`. */
  sim(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    assert(n !== undefined, () => `no node ${id}`);
    return n;
  }

  /** The Raft state machine of `id` (read its role, term, log, progress...). */
  raft(id: NodeId): Raft {
    return this.sim(id).node.coreForTesting();
  }

  /** The commands `id` applied, in order. */
  applied(id: NodeId): readonly string[] {
    return this.sim(id).app.commands;
  }

  /** The one up node that is leader in the highest term, or undefined. */
  leader(): NodeId | undefined {
    let best: Raft | undefined;
    for (const n of this.nodes.values()) {
      const r = n.node.coreForTesting();
      if (this.#down.has(n.id) || r.role !== 'leader') continue;
      if (best === undefined || r.term > best.term) best = r;
    }
    return best?.id;
  }

  /** The terms of `id`'s log from its first index on (compacted entries are left out). */
  logTerms(id: NodeId): number[] {
    const log = this.raft(id).log;
    const out: number[] = [];
    for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(log.termOrZero(i));
    return out;
  }

  /** The ReadIndex answers `id` produced so far. */
  reads(id: NodeId): ReadState[] {
    return this.readStates.get(id) ?? [];
  }

  /** The messages sent so far that match `pred`. */
  sentWhere(pred: (m: Message) => boolean): Message[] {
    return this.sent.filter(pred);
  }

  // ---------------------------------------------------------------------------------------
  // Driving the cluster.

  /** Ticks `id` `n` times, stabilizing after each tick unless told not to. */
  tick(id: NodeId, n = 1, o: { stabilize?: boolean } = {}): void {
    for (let i = 0; i < n; i++) {
      if (!this.#down.has(id)) this.sim(id).node.tick();
      this.#check();
      if (o.stabilize !== false) this.stabilize();
    }
  }

  /** Ticks every up node once, `n` times over, stabilizing after each round. */
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const sim of this.nodes.values()) if (!this.#down.has(sim.id)) sim.node.tick();
      this.#check();
      this.stabilize();
    }
  }

  /** Ticks every up node until some node leads, at most `ticksMax` rounds. Returns the leader. */
  tickUntilLeader(ticksMax = 100): NodeId {
    for (let i = 0; i < ticksMax; i++) {
      const l = this.leader();
      if (l !== undefined) return l;
      this.tickAll();
    }
    const l = this.leader();
    assert(l !== undefined, `no leader after ${ticksMax} ticks`);
    return l;
  }

  /** Makes `id`'s randomized election timeout exactly `ticks` (until its next role change). */
  setElectionTimeout(id: NodeId, ticks: number): void {
    this.raft(id).randomizedElectionTimeout = ticks;
  }

  /** `id` campaigns now (a pre-election when PreVote is on), then the cluster stabilizes. */
  campaign(id: NodeId, o: { stabilize?: boolean } = {}): void {
    this.sim(id).node.campaign();
    this.#check();
    if (o.stabilize !== false) this.stabilize();
  }

  /** Proposes `text` on `id` (throws what the core throws). Does not stabilize. */
  propose(id: NodeId, text: string): { index: number; term: number } {
    const r = this.sim(id).node.propose(encoder.encode(text));
    this.#check();
    return r;
  }

  /** Cuts both directions between `id` and every other node. */
  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  /** Cuts both directions between `a` and `b`. */
  cut(a: NodeId, b: NodeId): void {
    this.block(a, b);
    this.block(b, a);
  }

  /** Drops every message from `from` to `to` (one way). */
  block(from: NodeId, to: NodeId): void {
    this.#blocked.add(`${from}>${to}`);
  }

  /** Restores every link and removes the `deliverIf` rule. Crashed nodes stay down. */
  heal(): void {
    this.#blocked.clear();
    this.deliverIf = undefined;
  }

  /**
   * Crashes `id`: everything not yet persisted (unstable entries, an unsaved vote, messages it
   * has not sent) is lost, and it stays down until `restart`. Messages to it are dropped;
   * messages it already sent are still on the wire.
   */
  crash(id: NodeId): void {
    const sim = this.sim(id);
    this.#down.add(id);
    sim.crashAndRestart();
    this.#boot(sim);
    this.#check();
  }

  /**
   * Crashes `id` and rebuilds its storage from nothing (SimNode.wipeAndRestart): with `protect`
   * it recovers as raft/recovery.ts describes, without it it is an amnesiac voter. It stays down
   * until `restart`.
   */
  wipe(id: NodeId, protect: boolean): void {
    const sim = this.sim(id);
    this.#down.add(id);
    sim.wipeAndRestart(protect);
    this.#boot(sim);
    this.#check();
  }

  /** Crashes `id` and cuts its durable log after `last` (SimNode.cutDurableLogAndRestart); it stays down until `restart`. */
  cutLog(id: NodeId, last: number): void {
    const sim = this.sim(id);
    this.#down.add(id);
    sim.cutDurableLogAndRestart(last);
    this.#boot(sim);
    this.#check();
  }

  /** Brings a crashed node back up (it rebooted from its durable storage at the crash). */
  restart(id: NodeId): void {
    assert(this.#down.has(id), () => `${id} is not down`);
    this.#down.delete(id);
  }

  /** Whether `id` is crashed. */
  isDown(id: NodeId): boolean {
    return this.#down.has(id);
  }

  /**
   * Runs rounds of (every up node persists and handles its Ready; every queued message is
   * delivered or dropped) until no node has a Ready and no message is queued.
   */
  stabilize(): void {
    for (let round = 0; ; round++) {
      assert(round < stabilizeRoundsMax, `not stable after ${stabilizeRoundsMax} rounds: a message loop?`);
      const readies = this.processReadies();
      if (this.#queue.length === 0) {
        if (!readies) return;
        continue;
      }
      this.deliverAll();
    }
  }

  /** Every up node handles its pending Ready (one each). Returns whether any had one. */
  processReadies(): boolean {
    let any = false;
    for (const sim of this.nodes.values()) {
      if (this.#down.has(sim.id) || !sim.beginReady()) continue;
      any = true;
      const out = sim.finishReady().map((env) => this.#relabelSnapshot(sim, env));
      for (const env of out) {
        this.sent.push(env.msg);
        if (env.msg.type === 'snap') this.sentSnapshots.push(env);
      }
      this.#queue.push(...out);
      this.#check();
    }
    return any;
  }

  /**
   * Sends a snapshot the way the node runtime does (src/server/node-runtime.ts #sendSnapshot):
   * the sender's current applied state, re-labelled with its index, term and membership, not the
   * older compaction point the core named. SimNode sends the latter, whose membership may predate
   * a member added since; that member then refuses it until the next compaction.
   */
  #relabelSnapshot(sim: SimNode, env: Envelope): Envelope {
    if (env.msg.type !== 'snap') return env;
    const app = sim.app;
    assert(app.index >= env.msg.snapshot.index, () => `${sim.id}: applied ${app.index} behind its snapshot ${env.msg.type === 'snap' ? env.msg.snapshot.index : 0}`);
    const snapshot = { index: app.index, term: sim.storage.term(app.index), confState: sim.confState };
    return { msg: { ...env.msg, snapshot }, snapData: app };
  }

  /** Delivers (or drops) every queued message, in send order. Returns how many were delivered. */
  deliverAll(): number {
    const batch = this.#queue;
    this.#queue = [];
    let delivered = 0;
    for (const env of batch) {
      if (this.hold?.(env.msg) === true) {
        this.#held.push(env);
        continue;
      }
      const { from, to } = env.msg;
      const ok = !this.#down.has(to) && !this.#blocked.has(`${from}>${to}`) && (this.deliverIf?.(env.msg) ?? true) && this.nodes.has(to);
      if (ok) {
        this.sim(to).deliver(env);
        delivered++;
        this.#check();
      }
      if (env.msg.type === 'snap' && this.#o.autoReportSnapshot !== false && !this.#down.has(from)) {
        this.sim(from).node.reportSnapshot(to, ok);
        this.#check();
      }
    }
    return delivered;
  }

  /** Queues `env` as if it had just been sent (a duplicate or a long-delayed message). */
  inject(env: Envelope): void {
    this.#queue.push(env);
  }

  /** Puts the held messages back on the wire (they are delivered by the next round) and stops holding. */
  releaseHeld(): Message[] {
    const held = this.#held;
    this.#held = [];
    this.hold = undefined;
    this.#queue.push(...held);
    return held.map((e) => e.msg);
  }

  /** Safety after every step: the simulator's checker plus the log's own position invariants. */
  #check(): void {
    this.checker.checkNodes([...this.nodes.values()]);
    for (const sim of this.nodes.values()) {
      const log = sim.node.coreForTesting().log;
      if (!(log.applied <= log.committed && log.committed <= log.lastIndex())) {
        throw new AssertionError(`${sim.id}: applied ${log.applied} <= committed ${log.committed} <= last ${log.lastIndex()} broken`);
      }
    }
  }
}
