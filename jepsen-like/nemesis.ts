import type { TestCluster } from './cluster.js';
import { corruptModes, corruptNodes, corruptTargets, describeDamage, faultRng, type CorruptMode, type CorruptScope, type Damage } from './corrupt-nemesis.js';
import { diskFaultVariants, startDiskFault, type DiskFaultVariant } from './disk-nemesis.js';
import type { History } from './history.js';

/** The fault families the nemesis can inject. */
export type NemesisKind = 'kill' | 'pause' | 'partition' | 'clock' | 'latency' | 'power' | 'disk' | 'corrupt';

/** Every fault family. */
export const nemesisKinds: readonly NemesisKind[] = ['kill', 'pause', 'partition', 'clock', 'latency', 'power', 'disk', 'corrupt'];

/**
 * The families of `--nemesis all`: every one but `power` and `disk`, which need FUSE (powerfs),
 * and `corrupt`, whose long runs (README "Fault matrix") pass on their own but have not yet been
 * run mixed with the other faults. Those are named explicitly.
 */
export const allNemesisKinds: readonly NemesisKind[] = ['kill', 'pause', 'partition', 'clock', 'latency'];

/** The variants of a power cut: one node, a minority (the leader first), every node at once. */
export type PowerCutVariant = 'one' | 'minority' | 'all';

/** Power cuts injected by variant, and what they discarded in total. */
export interface PowerCutSummary {
  readonly cuts: Record<PowerCutVariant, number>;
  readonly filesReverted: number;
  readonly bytesDiscarded: number;
  readonly entriesReverted: number;
}

/** Corruption faults injected by mode, and every damage done. */
export interface CorruptionSummary {
  readonly faults: Record<CorruptMode, number>;
  readonly damages: readonly Damage[];
}

/** Options of a Nemesis. */
export interface NemesisOptions {
  /** Which nodes a `corrupt` fault damages; default `minority`. */
  readonly corruptScope?: CorruptScope;
}

/** One scheduled fault: started at `atMs` (from the run start), healed `durationMs` later. */
export interface Fault {
  readonly atMs: number;
  readonly durationMs: number;
  readonly kind: NemesisKind;
  /** Which variant, e.g. "leader", "majority", "halves", "ring", "bridge", "one-way". */
  readonly variant: string;
  /** A seed-derived number used to pick targets when the fault starts. */
  readonly pick: number;
}

const variants: Record<NemesisKind, readonly string[]> = {
  kill: ['one', 'leader', 'majority', 'all'],
  pause: ['one', 'leader'],
  partition: ['halves', 'isolate-one', 'isolate-leader', 'ring', 'bridge', 'one-way'],
  clock: ['offset', 'jump'],
  latency: ['all', 'one'],
  power: ['one', 'minority', 'all'] satisfies PowerCutVariant[],
  disk: diskFaultVariants,
  corrupt: corruptModes,
};

/**
 * A seeded fault schedule: alternating quiet and faulty windows over `durationMs`, each fault
 * from the enabled kinds. The same seed gives the same schedule (targets that depend on who
 * leads at that moment, like "isolate the leader", are resolved at run time).
 */
export function planFaults(kinds: readonly NemesisKind[], durationMs: number, rng: () => number): Fault[] {
  const faults: Fault[] = [];
  if (kinds.length === 0) return faults;
  let t = 2000 + rng() * 2000;
  while (t < durationMs - 3000) {
    const kind = kinds[Math.floor(rng() * kinds.length)]!;
    const vs = variants[kind];
    const variant = vs[Math.floor(rng() * vs.length)]!;
    const durationMs_ = 2000 + rng() * 5000;
    faults.push({ atMs: t, durationMs: Math.min(durationMs_, durationMs - t - 1000), kind, variant, pick: rng() });
    t += durationMs_ + 1500 + rng() * 3000;
  }
  return faults;
}

/**
 * Applies and heals faults on a TestCluster, recording each in the history. Starts and heals
 * run one at a time in call order (a power cut takes a while: a heal called meanwhile restarts
 * the nodes only once their cut is done).
 */
export class Nemesis {
  readonly #cluster: TestCluster;
  readonly #history: History;
  #healers: Array<() => void | Promise<void>> = [];
  /** The last queued start or heal. */
  #chain: Promise<unknown> = Promise.resolve();
  /** Counts of faults actually injected, by kind. */
  readonly injected = new Map<NemesisKind, number>();
  /** [startMono, endMono] windows, for the report. */
  readonly windows: Array<{ start: number; end: number; label: string }> = [];
  readonly #power = { cuts: { one: 0, minority: 0, all: 0 }, filesReverted: 0, bytesDiscarded: 0, entriesReverted: 0 };
  readonly #corruption: { faults: Record<CorruptMode, number>; damages: Damage[] } = { faults: { flip: 0, truncate: 0, zero: 0 }, damages: [] };
  readonly #corruptScope: CorruptScope;

  constructor(cluster: TestCluster, history: History, o: NemesisOptions = {}) {
    this.#cluster = cluster;
    this.#history = history;
    this.#corruptScope = o.corruptScope ?? 'minority';
  }

  /** Corruption faults so far. */
  get corruptions(): CorruptionSummary {
    return { faults: { ...this.#corruption.faults }, damages: [...this.#corruption.damages] };
  }

  /** Power cuts so far. */
  get powerCuts(): PowerCutSummary {
    return { ...this.#power, cuts: { ...this.#power.cuts } };
  }

  /** Starts `f` after every earlier start and heal; returns a description. */
  start(f: Fault): Promise<string> {
    const next = this.#chain.then(() => this.#start(f));
    this.#chain = next.catch(() => {});
    return next;
  }

  /** Heals every active fault (after every earlier start): restarts, resumes, reconnects links, resets clocks. */
  heal(): Promise<void> {
    const next = this.#chain.then(() => this.#heal());
    this.#chain = next.catch(() => {});
    return next;
  }

  async #start(f: Fault): Promise<string> {
    const ids = this.#cluster.nodes.map((n) => n.id);
    const pickOne = (): string => ids[Math.floor(f.pick * ids.length)]!;
    const leader = (await this.#cluster.leader()) ?? pickOne();
    const c = this.#cluster;
    let description = `${f.kind} ${f.variant}`;
    switch (f.kind) {
      case 'kill': {
        const majority = Math.floor(ids.length / 2) + 1;
        const targets = f.variant === 'one' ? [pickOne()] : f.variant === 'leader' ? [leader] : f.variant === 'majority' ? rotate(ids, f.pick).slice(0, majority) : ids;
        for (const id of targets) c.kill(id);
        this.#healers.push(() => {
          for (const id of targets) c.startNode(id);
        });
        description += ` [${targets.join(',')}]`;
        break;
      }
      case 'pause': {
        const target = f.variant === 'leader' ? leader : pickOne();
        c.pause(target);
        this.#healers.push(() => c.resume(target));
        description += ` [${target}]`;
        break;
      }
      case 'partition': {
        const cuts = partitionCuts(f.variant, ids, f.variant === 'isolate-leader' ? leader : pickOne(), f.pick);
        for (const [a, b] of cuts) c.setLink(a, b, { kind: 'drop' });
        this.#healers.push(() => c.healLinks());
        description += ` [${cuts.map(([a, b]) => `${a}-x>${b}`).join(' ')}]`;
        break;
      }
      case 'latency': {
        const targets = f.variant === 'one' ? [pickOne()] : ids;
        for (const a of ids) for (const b of ids) if (a !== b && (targets.includes(a) || targets.includes(b))) c.setLink(a, b, { kind: 'slow', delayMs: 20 + f.pick * 80, jitterMs: 30 });
        this.#healers.push(() => c.healLinks());
        description += ` [${targets.join(',')}]`;
        break;
      }
      case 'clock': {
        // 'offset': one node's wall clock is 60 s off; 'jump': the leader's wall clock jumps by
        // 60 s. Both in either direction, well beyond the visibility timeouts the workloads use;
        // the heal jumps the clock back. Monotonic clocks are untouched (as on a real host).
        const target = f.variant === 'jump' ? leader : pickOne();
        const offset = (f.pick < 0.5 ? -1 : 1) * 60_000;
        c.setClockOffset(target, offset);
        this.#healers.push(() => c.setClockOffset(target, 0));
        description += ` [${target} ${offset > 0 ? '+' : ''}${offset} ms]`;
        break;
      }
      case 'power': {
        // Power loss: kill -9, every unsynced write of the node's disk discarded, restarted at
        // the heal. 'minority' starts with the leader (with 3 nodes, the leader alone).
        const minority = Math.floor((ids.length - 1) / 2);
        const variant = f.variant as PowerCutVariant;
        const targets = variant === 'one' ? [pickOne()] : variant === 'minority' ? [leader, ...rotate(ids, f.pick).filter((i) => i !== leader)].slice(0, minority) : ids;
        description += ` [${targets.join(',')}]`;
        // Recorded before the cut: the nodes go down now, the cut's figures follow as info.
        this.#record(f.kind, description);
        // Queued before the cut, so the nodes come back even if the cut fails (and the run throws).
        this.#healers.push(() => {
          for (const id of targets) c.startNode(id);
        });
        const d = await c.powerCut(targets);
        this.#power.cuts[variant]++;
        this.#power.filesReverted += d.filesReverted;
        this.#power.bytesDiscarded += d.bytesDiscarded;
        this.#power.entriesReverted += d.entriesReverted;
        description += ` discarded ${d.bytesDiscarded} bytes in ${d.filesReverted} files, ${d.entriesReverted} directory entries`;
        this.#history.nemesis('info', description);
        return description;
      }
      case 'disk':
        return this.#startDisk(f, pickOne());
      case 'corrupt':
        return this.#startCorrupt(f, ids);
    }
    this.#record(f.kind, description);
    return description;
  }

  /** A disk fault (disk-nemesis.ts) on `target`; restarted at the heal. */
  async #startDisk(f: Fault, target: string): Promise<string> {
    const description = `disk ${f.variant} [${target}]`;
    this.#record(f.kind, description);
    this.#healers.push(await startDiskFault(this.#cluster, target, f.variant as DiskFaultVariant, description));
    return description;
  }

  /**
   * File corruption (corrupt-nemesis.ts): the targets (a minority, or every node with scope
   * `all`) are killed, one data file of each damaged in the fault's mode, and restarted at the
   * heal. Recorded before the kill; what was done to which file follows as info.
   */
  async #startCorrupt(f: Fault, ids: readonly string[]): Promise<string> {
    const rng = faultRng(f.pick);
    const mode = f.variant as CorruptMode;
    const targets = corruptTargets(ids, this.#corruptScope, f.pick, rng);
    let description = `corrupt ${mode} [${targets.join(',')}]`;
    this.#record(f.kind, description);
    const c = this.#cluster;
    // Queued before the damage, so the nodes come back even if it fails (and the run throws).
    this.#healers.push(() => {
      for (const id of targets) c.startNode(id);
    });
    const damages = await corruptNodes(c, targets, mode, rng);
    this.#corruption.faults[mode]++;
    this.#corruption.damages.push(...damages);
    description += `: ${damages.length > 0 ? damages.map(describeDamage).join('; ') : 'no data file held a byte'}`;
    this.#history.nemesis('info', description);
    return description;
  }

  /** Counts a fault, records its start in the history and opens its report window. */
  #record(kind: NemesisKind, description: string): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
    this.#history.nemesis('invoke', description);
    this.windows.push({ start: this.#history.ops[this.#history.ops.length - 1]!.mono, end: Number.NaN, label: description });
  }

  async #heal(): Promise<void> {
    const healers = this.#healers;
    this.#healers = [];
    for (const h of healers) await h();
    if (healers.length > 0) {
      this.#history.nemesis('info', 'heal');
      const end = this.#history.ops[this.#history.ops.length - 1]!.mono;
      for (const w of this.windows) if (Number.isNaN(w.end)) w.end = end;
    }
  }
}

function rotate<T>(xs: readonly T[], pick: number): T[] {
  const k = Math.floor(pick * xs.length);
  return [...xs.slice(k), ...xs.slice(0, k)];
}

/** The directed links to cut for a partition shape. */
function partitionCuts(variant: string, ids: readonly string[], focus: string, pick: number): Array<[string, string]> {
  const cuts: Array<[string, string]> = [];
  const both = (a: string, b: string): void => {
    cuts.push([a, b], [b, a]);
  };
  const others = ids.filter((i) => i !== focus);
  switch (variant) {
    case 'isolate-one':
    case 'isolate-leader':
      for (const o of others) both(focus, o);
      break;
    case 'halves': {
      const r = rotate(ids, pick);
      const side = new Set(r.slice(0, Math.floor(ids.length / 2)));
      for (const a of ids) for (const b of ids) if (a < b && side.has(a) !== side.has(b)) both(a, b);
      break;
    }
    case 'ring': {
      // Majorities ring: each node sees only its two ring neighbours.
      const r = rotate(ids, pick);
      for (let i = 0; i < r.length; i++) {
        for (let j = i + 1; j < r.length; j++) {
          const d = Math.min(j - i, r.length - (j - i));
          if (d > 1) both(r[i]!, r[j]!);
        }
      }
      break;
    }
    case 'bridge': {
      // Two halves joined by one bridge node (r[0]) that sees both: only the rest is cut.
      const r = rotate(ids, pick);
      const rest = r.slice(1);
      const a = new Set(rest.slice(0, Math.ceil(rest.length / 2)));
      for (const x of rest) for (const y of rest) if (x < y && a.has(x) !== a.has(y)) both(x, y);
      break;
    }
    case 'one-way':
      // The focus node can hear everyone but nobody hears it.
      for (const o of others) cuts.push([focus, o]);
      break;
  }
  return cuts;
}
