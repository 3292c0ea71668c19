import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClusterClock,
  LeaderStamper,
  advanceClusterClock,
  clusterClockStart,
  decodeClusterClock,
  encodeClusterClock,
  slewAheadPpmMax,
  slewBackPpmMax,
  type ClockStamp,
  type ClusterClockState,
} from '../../src/server/cluster-clock.js';
import { decodeEntry, encodeEntry } from '../../src/server/entry-envelope.js';

/**
 * Cluster time (src/server/cluster-clock.ts): leader stamps made from monotonic clocks, wall
 * clocks that are skewed by ±60 s or jump, leader changes. The properties: cluster time never
 * runs faster than real time between two stamps (beyond the forward slew bound), so no lease,
 * delay or dedup window is cut short; and it keeps running under every leader (never frozen).
 * Seed of the randomized property: RAFTQ_SEED (fast-check prints seed and path on failure).
 */

const seed = Number(process.env['RAFTQ_SEED'] ?? 20260415);
const t0 = Date.UTC(2030, 0, 1);
const ahead = 1 + slewAheadPpmMax / 1e6;
const behind = 1 - slewBackPpmMax / 1e6;

/** A node of the model: its monotonic clock reads real time + monoBase, its wall clock real + wallSkew. */
class Node {
  realMs = 0;
  wallSkewMs = 0;
  stamper: LeaderStamper;
  constructor(
    readonly monoBaseMs: number,
    realMs: number,
  ) {
    this.realMs = realMs;
    this.stamper = this.#fresh();
  }
  #fresh(): LeaderStamper {
    return new LeaderStamper(
      () => this.realMs + this.monoBaseMs,
      () => this.realMs + this.wallSkewMs,
    );
  }
  /** A restart: a new process, whose stamper knows nothing of the last one. */
  restart(): void {
    this.stamper = this.#fresh();
  }
}

function run(steps: ReadonlyArray<{ term: number; stamp: ClockStamp }>): ClusterClockState[] {
  const out: ClusterClockState[] = [];
  let s = clusterClockStart;
  for (const { term, stamp } of steps) out.push((s = advanceClusterClock(s, term, stamp)));
  return out;
}

describe('advanceClusterClock', () => {
  it('the first stamp of a cluster sets its epoch from the wall clock', () => {
    expect(advanceClusterClock(clusterClockStart, 1, { elapsedMs: 5, wallMs: t0 }).clockMs).toBe(t0);
  });

  it('a +60 s wall clock jump of the leader moves cluster time by the elapsed time only', () => {
    const [, b, c] = run([
      { term: 1, stamp: { elapsedMs: 0, wallMs: t0 } },
      { term: 1, stamp: { elapsedMs: 1_000, wallMs: t0 + 1_000 + 60_000 } },
      { term: 1, stamp: { elapsedMs: 31_000, wallMs: t0 + 31_000 + 60_000 } },
    ]);
    expect(b!.clockMs - t0).toBeCloseTo(1_000 * ahead, 3);
    expect(c!.clockMs - b!.clockMs).toBeCloseTo(30_000 * ahead, 3);
  });

  it('a -60 s wall clock jump slows cluster time by the backward slew bound, never stops it', () => {
    const [a, b] = run([
      { term: 1, stamp: { elapsedMs: 0, wallMs: t0 } },
      { term: 1, stamp: { elapsedMs: 10_000, wallMs: t0 + 10_000 - 60_000 } },
    ]);
    expect(b!.clockMs - a!.clockMs).toBeCloseTo(10_000 * behind, 3);
  });

  it('a new leader 60 s ahead or behind continues from cluster time, advancing by its elapsed time', () => {
    for (const skewMs of [60_000, -60_000]) {
      const [, b, c] = run([
        { term: 1, stamp: { elapsedMs: 0, wallMs: t0 } },
        { term: 1, stamp: { elapsedMs: 5_000, wallMs: t0 + 5_000 } },
        // The new leader's origin is when it received the last entry: 2 s later it stamps.
        { term: 3, stamp: { elapsedMs: 2_000, wallMs: t0 + 7_000 + skewMs } },
      ]);
      expect(b!.clockMs).toBe(t0 + 5_000);
      const step = c!.clockMs - b!.clockMs;
      expect(step).toBeGreaterThanOrEqual(2_000 * behind);
      expect(step).toBeLessThanOrEqual(2_000 * ahead);
    }
  });

  it('a whole-cluster outage is recovered by forward slew, at its bound', () => {
    const [a, b] = run([
      { term: 1, stamp: { elapsedMs: 0, wallMs: t0 } },
      // Everybody was down for an hour: the new leader's origin is its start.
      { term: 2, stamp: { elapsedMs: 1_000, wallMs: t0 + 3_601_000 } },
    ]);
    expect(b!.clockMs - a!.clockMs).toBeCloseTo(1_000 * ahead, 3);
  });

  it('a stamp that goes back within a term advances nothing; a term that goes back is a broken invariant', () => {
    const [, b, c] = run([
      { term: 1, stamp: { elapsedMs: 0, wallMs: t0 } },
      { term: 1, stamp: { elapsedMs: 500, wallMs: t0 + 500 } },
      { term: 1, stamp: { elapsedMs: 100, wallMs: t0 + 600 } },
    ]);
    expect(c!.clockMs).toBe(b!.clockMs);
    expect(() => advanceClusterClock(c!, 0, { elapsedMs: 1, wallMs: t0 })).toThrow(/term 0 after one of term 1/);
  });

  it('encodes and decodes its state; an absent record is the start', () => {
    const s = { clockMs: t0 + 0.25, term: 7, elapsedMs: 1234.5 };
    expect(decodeClusterClock(encodeClusterClock(s))).toEqual(s);
    expect(decodeClusterClock(undefined)).toEqual(clusterClockStart);
  });
});

describe('ClusterClock and the entry envelope', () => {
  it('applies version-2 stamps and version-1 (wall clock only) entries of older logs', () => {
    const clock = new ClusterClock();
    const legacy = new Uint8Array(12);
    legacy[0] = 1;
    new DataView(legacy.buffer).setFloat64(1, t0 + 100);
    const v1 = decodeEntry(legacy);
    expect(v1.payload.byteLength).toBe(3);
    expect(clock.apply(1, v1.stamp)).toBe(t0 + 100);
    const v2 = decodeEntry(encodeEntry({ elapsedMs: 250.5, wallMs: t0 }, Uint8Array.of(9)));
    expect([...v2.payload]).toEqual([9]);
    expect(clock.apply(2, v2.stamp)).toBe(Math.floor(t0 + 100 + 250.5 * behind));
    expect(clock.takeWrite()?.type).toBe('put');
    expect(clock.takeWrite()).toBeUndefined();
  });
});

describe('LeaderStamper', () => {
  it('a new term starts from the last entries received, not from the election', () => {
    const n = new Node(500, 0);
    n.realMs = 1_000;
    n.stamper.noteReceived();
    n.realMs = 3_000; // the election took 2 s
    expect(n.stamper.stamp(2).elapsedMs).toBe(2_000);
    n.realMs = 3_500;
    expect(n.stamper.stamp(2).elapsedMs).toBe(2_500);
  });

  it('a leader re-elected with nothing received since its last term counts from its own last stamp', () => {
    const n = new Node(0, 0);
    n.realMs = 1_000;
    n.stamper.stamp(1);
    n.realMs = 4_000;
    expect(n.stamper.stamp(1).elapsedMs).toBe(4_000);
    n.realMs = 6_000;
    // Counting from the start (0) instead of its last stamp (4 000) would count 4 s twice.
    expect(n.stamper.stamp(3).elapsedMs).toBe(2_000);
  });

  it('a restarted node counts from its start', () => {
    const n = new Node(0, 0);
    n.realMs = 10_000;
    n.restart();
    n.realMs = 10_300;
    expect(n.stamper.stamp(4).elapsedMs).toBe(300);
  });
});

/**
 * A randomized history: leaders come and go (a follower that received a prefix of the log
 * wins, sometimes after a restart), wall clocks are skewed by ±60 s and jump, monotonic clocks
 * have arbitrary bases. Each stamp is applied in log order; real time is known to the model.
 */
describe('cluster time in randomized leader histories', () => {
  const event = fc.record({
    stamps: fc.integer({ min: 1, max: 6 }),
    gapMs: fc.integer({ min: 0, max: 20_000 }),
    skewMs: fc.constantFrom(0, 60_000, -60_000, 5_000, -5_000),
    jumpMs: fc.constantFrom(0, 0, 60_000, -60_000),
    deliveredFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    delayMs: fc.integer({ min: 0, max: 300 }),
    electionMs: fc.integer({ min: 0, max: 10_000 }),
    next: fc.nat(),
    restart: fc.boolean(),
  });

  it('never runs faster than real time (beyond the forward slew) and never stands still under a leader', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 3, maxLength: 3 }), fc.array(event, { minLength: 1, maxLength: 30 }), (bases, events) => {
        let realMs = 0;
        const nodes = bases.map((b) => new Node(b, 0));
        const setReal = (t: number): void => {
          realMs = t;
          for (const n of nodes) n.realMs = t;
        };
        let leader = 0;
        let term = 1;
        // The log: every stamp with the real time it was made. known[n]: how much of it node n received.
        let log: Array<{ term: number; stamp: ClockStamp; realMs: number }> = [];
        const known = nodes.map(() => 0);
        for (const e of events) {
          const l = nodes[leader]!;
          if (known[leader]! < log.length) {
            // A leader has every entry of the log before its own: it received them by now.
            l.stamper.noteReceived();
            known[leader] = log.length;
          }
          l.wallSkewMs = e.skewMs;
          const next = (leader + 1 + (e.next % (nodes.length - 1))) % nodes.length;
          // The next leader receives a prefix of this term's stamps, the last one some time after it was made.
          const received = Math.min(e.stamps, Math.floor(e.deliveredFraction * (e.stamps + 1)));
          const gapMs = e.gapMs / e.stamps;
          for (let i = 0; i < e.stamps; i++) {
            setReal(realMs + gapMs);
            if (i === Math.floor(e.stamps / 2)) l.wallSkewMs += e.jumpMs;
            log.push({ term, stamp: l.stamper.stamp(term), realMs });
            if (i === received - 1) {
              const delayMs = Math.min(e.delayMs, gapMs);
              setReal(realMs + delayMs);
              nodes[next]!.stamper.noteReceived();
            }
          }
          // Stamps the next leader did not receive are not in its log, so never applied.
          log = log.slice(0, log.length - (e.stamps - received));
          if (received > 0) known[next] = log.length;
          known[leader] = log.length;
          setReal(realMs + e.electionMs);
          if (e.restart) nodes[next]!.restart();
          leader = next;
          term += 1 + (e.next % 2);
        }
        const states = run(log);
        for (let j = 1; j < log.length; j++) {
          expect(states[j]!.clockMs).toBeGreaterThanOrEqual(states[j - 1]!.clockMs);
          for (let i = 0; i < j; i++) {
            const realSpan = log[j]!.realMs - log[i]!.realMs;
            // A lease granted at stamp i and found over at stamp j lasted at least this long.
            expect(states[j]!.clockMs - states[i]!.clockMs, `stamps ${i}..${j}`).toBeLessThanOrEqual(realSpan * ahead + 1e-3);
          }
          if (log[j]!.term === log[j - 1]!.term) {
            const realSpan = log[j]!.realMs - log[j - 1]!.realMs;
            expect(states[j]!.clockMs - states[j - 1]!.clockMs, `stamp ${j}: time stood still`).toBeGreaterThanOrEqual(realSpan * behind - 1e-3);
          }
        }
      }),
      { seed, numRuns: 300 },
    );
  });
});
