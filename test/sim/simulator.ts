import { RaftError, seededRng, type NodeId, type Rng, type TestingKnobs } from '../../raft/index.js';
import { SafetyChecker, SafetyViolation } from './checker.js';
import { MinHeap } from './min-heap.js';
import { ReplicaNode } from './replica-node.js';
import type { Envelope, PersistenceBugs, SimNodeOptions } from './sim-node.js';

/** How hostile the simulated world is. Probabilities are per event; times in simulated ms. */
export interface FaultProfile {
  /** Probability that a message is dropped. */
  readonly dropRate: number;
  /** Probability that a message is delivered twice. */
  readonly duplicateRate: number;
  /** Message delay is uniform in [1, delayMaxMs]; different delays reorder messages. */
  readonly delayMaxMs: number;
  /** Mean time between network partition changes (0: never partition). */
  readonly partitionEveryMs: number;
  /** Mean time between node crashes (0: never crash). */
  readonly crashEveryMs: number;
  /** Downtime of a crashed node is uniform in [1, downMaxMs]. */
  readonly downMaxMs: number;
  /** Longest simulated fsync. */
  readonly fsyncMaxMs: number;
  /** Probability that a crash hits the current leader rather than a random node. */
  readonly leaderCrashRate: number;
  /**
   * Probability that a crash also destroys the node's storage, repaired from nothing (the
   * corrupt nemesis's worst case), while no other node is recovering. 0 (the default
   * profile): never, and no random draw, so older seeds keep their schedules.
   */
  readonly wipeRate?: number;
}

/** One simulation: everything is decided by `seed`. */
export interface SimOptions {
  readonly seed: number;
  readonly nodeCount: number;
  /** Length of the faulty phase in simulated ms; then faults heal and liveness is checked. */
  readonly faultPhaseMs: number;
  /** After healing, the cluster must commit the probe proposals within this many ms. */
  readonly livenessBudgetMs: number;
  readonly faults: FaultProfile;
  /** Mean time between client proposals during the faulty phase. */
  readonly proposeEveryMs: number;
  /** Byte budget of one append message (small values split batches across messages). */
  readonly appendBytesMax: number;
  /** Pipelining window per follower. */
  readonly inflightMessagesMax: number;
  readonly knobs?: TestingKnobs;
  readonly bugs?: PersistenceBugs;
  /** Wiped nodes come back without the recovering protection (the amnesia trap's negative control). */
  readonly unprotectedWipes?: boolean;
}

/** What a simulation observed. */
export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  /** The violated property or liveness failure, when !ok. */
  readonly failure?: string;
  readonly stats: {
    readonly events: number;
    readonly messages: number;
    readonly crashes: number;
    /** Crashes that also destroyed the node's storage (FaultProfile.wipeRate). */
    readonly wipes: number;
    readonly partitions: number;
    readonly leaders: number;
    readonly committed: number;
    readonly snapshotsSent: number;
    /** Proposals made at an index where the same node had proposed in an earlier term. */
    readonly proposalIndexReused: number;
    /** Client answers: applied, not applied (UNAVAILABLE), outcome unknown. */
    readonly outcomes: { readonly ok: number; readonly notApplied: number; readonly unknown: number };
  };
}

/** A profile with every kind of fault, tuned so that seeds see elections, crashes and snapshots. */
export const defaultFaults: FaultProfile = {
  dropRate: 0.05,
  duplicateRate: 0.02,
  delayMaxMs: 20,
  partitionEveryMs: 400,
  crashEveryMs: 600,
  downMaxMs: 500,
  fsyncMaxMs: 3,
  leaderCrashRate: 0.3,
};

/**
 * A profile that makes the Raft paper's Figure 8 likely: five nodes, one entry per append and
 * no pipelining (so a new leader replicates old entries one round trip at a time), and crashes
 * that mostly hit the leader. It exists to catch commit-rule bugs.
 */
export const figure8Overrides: Partial<SimOptions> = {
  nodeCount: 5,
  appendBytesMax: 1,
  inflightMessagesMax: 1,
  proposeEveryMs: 5,
  faults: { ...defaultFaults, crashEveryMs: 60, downMaxMs: 60, partitionEveryMs: 60, dropRate: 0.05, leaderCrashRate: 1 },
};

/** The default faults plus storage wiped on one node at a time (raft/recovery.ts). */
export const amnesiaOverrides: Partial<SimOptions> = {
  faults: { ...defaultFaults, crashEveryMs: 300, wipeRate: 0.5, leaderCrashRate: 0.5 },
};

/** Named fault profiles for `npm run sim -- --profile NAME`. */
export const simProfiles: Readonly<Record<string, Partial<SimOptions>>> = {
  default: {},
  figure8: figure8Overrides,
  amnesia: amnesiaOverrides,
};

/** The options used for a seed by the test suite and `npm run sim`. */
export function defaultSimOptions(seed: number, overrides: Partial<SimOptions> = {}): SimOptions {
  return {
    seed,
    nodeCount: seed % 3 === 0 ? 5 : 3,
    faultPhaseMs: 3000,
    livenessBudgetMs: 6000,
    faults: defaultFaults,
    proposeEveryMs: 15,
    appendBytesMax: 256,
    inflightMessagesMax: 8,
    ...overrides,
  };
}

const tickIntervalMs = 10;
const electionTicks = 10;
const probeProposals = 5;

type Event =
  | { kind: 'deliver'; env: Envelope; senderGeneration: number }
  | { kind: 'tick'; node: NodeId }
  | { kind: 'readyDone'; node: NodeId; generation: number }
  | { kind: 'crash' }
  | { kind: 'restart'; node: NodeId }
  | { kind: 'partition' }
  | { kind: 'propose' }
  | { kind: 'heal' }
  | { kind: 'probe' }
  | { kind: 'snapStatus'; node: NodeId; to: NodeId; ok: boolean };

/**
 * A deterministic cluster simulator: one seed decides message delays, drops, duplicates,
 * reordering, partitions (symmetric and one-way), crashes that lose unsynced writes, restarts
 * and client proposals. Safety is checked after every event; liveness after the faults heal.
 *
 * Each node runs the runtime's event switch and ready loop (replica-node.ts). Their only
 * asynchrony is the loop's own promises and the saves the simulator completes (a readyDone
 * event is the fsync), so after each event one macrotask turn lets every loop run as far as it
 * can (#quiesce): the order of everything is still decided by the seed alone.
 */
export class Simulator {
  readonly #o: SimOptions;
  readonly #rng: Rng;
  readonly #queue = new MinHeap<Event>();
  readonly nodes = new Map<NodeId, ReplicaNode>();
  /** The ready loops' next turns (ReplicaClock.defer), run once the current event is handled. */
  #deferred: Array<() => void> = [];
  /** A save completed during the current event: its ready loop goes on. */
  #saveCompleted = false;
  readonly #down = new Set<NodeId>();
  /** Directed links that drop everything: "from>to". */
  #blocked = new Set<string>();
  /** Bumped when a node crashes, invalidating its in-flight Ready. */
  readonly #generation = new Map<NodeId, number>();
  /** The generation each node's storage was last wiped at. */
  readonly #wipedAt = new Map<NodeId, number>();
  readonly checker = new SafetyChecker();
  #now = 0;
  #healed = false;
  #proposalSeq = 0;
  /** Probe proposals issued after healing that must commit. */
  readonly #probes = new Set<string>();
  readonly #stats = { events: 0, messages: 0, crashes: 0, wipes: 0, partitions: 0, snapshotsSent: 0 };

  constructor(o: SimOptions) {
    this.#o = o;
    this.#rng = seededRng(o.seed ^ 0x5eed);
    const ids = Array.from({ length: o.nodeCount }, (_, i) => `n${i + 1}`);
    const nodeOpts: SimNodeOptions = {
      electionTicks,
      heartbeatTicks: 1,
      snapshotEveryEntries: 40,
      compactionTrailingEntries: 10,
      appendBytesMax: o.appendBytesMax,
      inflightMessagesMax: o.inflightMessagesMax,
      ...(o.knobs !== undefined ? { knobs: o.knobs } : {}),
      ...(o.bugs !== undefined ? { bugs: o.bugs } : {}),
    };
    for (const id of ids) {
      this.nodes.set(
        id,
        new ReplicaNode(id, { voters: ids, learners: [] }, nodeOpts, o.seed, this.checker, {
          now: () => this.#now,
          defer: (fn) => void this.#deferred.push(fn),
          send: (env) => this.#send(env),
          saveStarted: (node) => this.#at(this.#now + this.#rng.int(this.#o.faults.fsyncMaxMs + 1), { kind: 'readyDone', node, generation: this.#generation.get(node)! }),
        }),
      );
      this.#generation.set(id, 0);
      // Stagger the tick phases so nodes are not in lock step.
      this.#at(1 + this.#rng.int(tickIntervalMs), { kind: 'tick', node: id });
    }
    if (o.faults.crashEveryMs > 0) this.#at(this.#exp(o.faults.crashEveryMs), { kind: 'crash' });
    if (o.faults.partitionEveryMs > 0) this.#at(this.#exp(o.faults.partitionEveryMs), { kind: 'partition' });
    this.#at(this.#exp(o.proposeEveryMs), { kind: 'propose' });
    this.#at(o.faultPhaseMs, { kind: 'heal' });
  }

  /** Runs to completion. Never throws: failures are reported in the result. */
  async run(): Promise<SimResult> {
    let failure: string | undefined;
    try {
      await this.#loop();
    } catch (e) {
      failure = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      if (!(e instanceof SafetyViolation) && e instanceof Error && e.stack !== undefined) failure += `\n${e.stack}`;
    }
    const base = {
      seed: this.#o.seed,
      ok: failure === undefined,
      stats: {
        ...this.#stats,
        leaders: this.checker.leaders.size,
        committed: this.checker.applied.size,
        proposalIndexReused: [...this.nodes.values()].reduce((sum, n) => sum + n.proposalIndexReused, 0),
        outcomes: { ...this.checker.outcomes },
      },
    };
    return failure === undefined ? base : { ...base, failure };
  }

  async #loop(): Promise<void> {
    const deadline = this.#o.faultPhaseMs + this.#o.livenessBudgetMs;
    for (;;) {
      const next = this.#queue.pop();
      if (next === undefined) throw new Error('event queue ran dry');
      this.#now = next.time;
      if (this.#now > deadline) {
        const pending = [...this.#probes].join(', ');
        throw new Error(`Liveness: probe proposals [${pending}] not applied on every node ${this.#o.livenessBudgetMs} ms after healing (${this.#describe()})`);
      }
      this.#stats.events++;
      this.#handle(next.value);
      await this.#quiesce();
      this.checker.checkNodes([...this.nodes.values()]);
      if (this.#healed && this.#probes.size === 0 && this.#allCaughtUp()) return;
    }
  }

  /** Lets every ready loop run as far as it can (until it waits for a save), then reports a loop that failed. */
  async #quiesce(): Promise<void> {
    while (this.#deferred.length > 0 || this.#saveCompleted) {
      this.#saveCompleted = false;
      const due = this.#deferred;
      this.#deferred = [];
      for (const fn of due) fn();
      // Nothing but the loops' own promises is pending: one macrotask turn drains them all.
      await new Promise<void>((r) => setImmediate(r));
    }
    for (const n of this.nodes.values()) if (n.fatal !== undefined) throw n.fatal;
  }

  #handle(ev: Event): void {
    switch (ev.kind) {
      case 'deliver': {
        const { to, from, type } = ev.env.msg;
        // A node rebuilt from nothing takes far longer to come back than any message lingers:
        // what its previous incarnation sent (over connections that died with it) is gone.
        const lost = this.#down.has(to) || ev.senderGeneration < (this.#wipedAt.get(from) ?? 0);
        if (type === 'snap') this.#at(this.#now + 1, { kind: 'snapStatus', node: from, to, ok: !lost });
        if (!lost) this.nodes.get(to)!.deliver(ev.env);
        return;
      }
      case 'tick': {
        if (!this.#down.has(ev.node)) this.nodes.get(ev.node)!.tick();
        this.#at(this.#now + tickIntervalMs, ev);
        return;
      }
      case 'readyDone': {
        if (this.#generation.get(ev.node) !== ev.generation || this.#down.has(ev.node)) return;
        this.nodes.get(ev.node)!.completeSave();
        this.#saveCompleted = true;
        return;
      }
      case 'crash':
        this.#crashRandomNode();
        return;
      case 'restart':
        this.#down.delete(ev.node);
        this.nodes.get(ev.node)!.kick();
        return;
      case 'partition':
        this.#repartition();
        return;
      case 'propose':
        this.#proposeRandom();
        return;
      case 'heal':
        this.#heal();
        return;
      case 'probe':
        this.#probe();
        return;
      case 'snapStatus':
        // The transport's verdict on a streamed snapshot, as the real runtime reports it.
        if (!this.#down.has(ev.node)) this.nodes.get(ev.node)!.reportSnapshot(ev.to, ev.ok);
        return;
    }
  }

  #send(env: Envelope): void {
    this.#stats.messages++;
    if (env.msg.type === 'snap') this.#stats.snapshotsSent++;
    const { from, to } = env.msg;
    const f = this.#healed ? { dropRate: 0, duplicateRate: 0 } : this.#o.faults;
    if (this.#blocked.has(`${from}>${to}`) || this.#rng.next() < f.dropRate) {
      // A snapshot stream that fails is reported by the transport after a timeout.
      if (env.msg.type === 'snap') this.#at(this.#now + this.#o.faults.delayMaxMs, { kind: 'snapStatus', node: from, to, ok: false });
      return;
    }
    const copies = this.#rng.next() < f.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.#at(this.#now + 1 + this.#rng.int(this.#o.faults.delayMaxMs), { kind: 'deliver', env, senderGeneration: this.#generation.get(from)! });
    }
  }

  #crashRandomNode(): void {
    if (!this.#healed) {
      const up = [...this.nodes.keys()].filter((id) => !this.#down.has(id));
      if (up.length > 0) {
        const leader = up.find((id) => this.nodes.get(id)!.node.coreForTesting().role === 'leader');
        const id = leader !== undefined && this.#rng.next() < this.#o.faults.leaderCrashRate ? leader : up[this.#rng.int(up.length)]!;
        this.#crash(id);
        this.#at(this.#now + 1 + this.#rng.int(this.#o.faults.downMaxMs), { kind: 'restart', node: id });
      }
      this.#at(this.#now + this.#exp(this.#o.faults.crashEveryMs), { kind: 'crash' });
    }
  }

  #crash(id: NodeId): void {
    this.#stats.crashes++;
    this.#down.add(id);
    this.#generation.set(id, this.#generation.get(id)! + 1);
    // The restart happens now; the node stays unreachable until its restart event.
    const n = this.nodes.get(id)!;
    const wipeRate = this.#o.faults.wipeRate ?? 0;
    if (wipeRate > 0 && this.#rng.next() < wipeRate && ![...this.nodes.values()].some((o) => o.recoveringMarker)) {
      this.#stats.wipes++;
      this.#wipedAt.set(id, this.#generation.get(id)!);
      n.wipeAndRestart(this.#o.unprotectedWipes !== true);
    } else {
      n.crashAndRestart();
    }
  }

  #repartition(): void {
    if (this.#healed) return;
    this.#stats.partitions++;
    const ids = [...this.nodes.keys()];
    const blocked = new Set<string>();
    const shape = this.#rng.int(4);
    if (shape === 0) {
      // Heal.
    } else if (shape === 1) {
      // Symmetric split into two sides.
      const side = new Set(ids.filter(() => this.#rng.next() < 0.5));
      for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) blocked.add(`${a}>${b}`);
    } else if (shape === 2) {
      // Isolate one node.
      const x = ids[this.#rng.int(ids.length)]!;
      for (const o of ids) if (o !== x) blocked.add(`${x}>${o}`).add(`${o}>${x}`);
    } else {
      // One-way drops on random links.
      for (const a of ids) for (const b of ids) if (a !== b && this.#rng.next() < 0.25) blocked.add(`${a}>${b}`);
    }
    this.#blocked = blocked;
    this.#at(this.#now + this.#exp(this.#o.faults.partitionEveryMs), { kind: 'partition' });
  }

  #proposeRandom(): void {
    if (this.#healed) return;
    const up = [...this.nodes.values()].filter((n) => !this.#down.has(n.id));
    const n = up[this.#rng.int(up.length)];
    if (n !== undefined) {
      try {
        n.propose(`p${++this.#proposalSeq}`);
      } catch (e) {
        if (!(e instanceof RaftError)) throw e;
      }
    }
    this.#at(this.#now + this.#exp(this.#o.proposeEveryMs), { kind: 'propose' });
  }

  #heal(): void {
    this.#healed = true;
    this.#blocked = new Set();
    for (const id of [...this.#down]) {
      this.#down.delete(id);
      this.nodes.get(id)!.kick();
    }
    for (let i = 0; i < probeProposals; i++) this.#probes.add(`probe${i}`);
    this.#at(this.#now + 1, { kind: 'probe' });
  }

  /** A client retrying the probe proposals at whichever node leads, as a real client would. */
  #probe(): void {
    for (const key of [...this.#probes]) {
      if (this.#appliedEverywhere(key)) this.#probes.delete(key);
    }
    const leader = [...this.nodes.values()].find((n) => n.node.coreForTesting().role === 'leader');
    if (leader !== undefined) {
      for (const key of this.#probes) {
        if (leader.app.commands.includes(key) || this.#inLog(leader, key)) continue;
        try {
          leader.propose(key);
        } catch (e) {
          if (!(e instanceof RaftError)) throw e;
        }
      }
    }
    if (this.#probes.size > 0) this.#at(this.#now + 50, { kind: 'probe' });
  }

  #inLog(n: ReplicaNode, key: string): boolean {
    const log = n.node.coreForTesting().log;
    const lo = Math.max(log.applied + 1, log.firstIndex());
    if (lo > log.lastIndex()) return false;
    return log.slice(lo, log.lastIndex() + 1, Number.MAX_SAFE_INTEGER).some((e) => new TextDecoder().decode(e.data) === key);
  }

  #appliedEverywhere(key: string): boolean {
    for (const n of this.nodes.values()) if (!n.app.commands.includes(key)) return false;
    return true;
  }

  #allCaughtUp(): boolean {
    let max = 0;
    for (const n of this.nodes.values()) max = Math.max(max, n.app.index);
    for (const n of this.nodes.values()) if (n.app.index < max) return false;
    return true;
  }

  #describe(): string {
    return [...this.nodes.values()]
      .map((n) => `${n.id}:${n.node.coreForTesting().role}@${n.node.coreForTesting().term} commit=${n.node.coreForTesting().log.committed} applied=${n.app.index} last=${n.node.coreForTesting().log.lastIndex()}`)
      .join(' ');
  }

  #at(time: number, ev: Event): void {
    this.#queue.push(time, ev);
  }

  /** An exponentially distributed delay with the given mean, at least 1 ms. */
  #exp(meanMs: number): number {
    return Math.max(1, Math.round(-Math.log(1 - this.#rng.next()) * meanMs));
  }
}

/** Runs the simulation for one seed. */
export function runSimulation(o: SimOptions): Promise<SimResult> {
  return new Simulator(o).run();
}
