import { assert } from '../../raft/assert.js';
import type { StateReader, StateWrite } from '../storage/index.js';

/**
 * Cluster time: the only time the replicated state machine sees (leases, delays, dedup
 * windows, retention). It must not depend on differences between the nodes' wall clocks: a
 * leader whose wall clock is ahead by D would otherwise move every lease D closer at once, and
 * the next, correct leader would freeze time until its wall clock caught up.
 *
 * The protocol (README "Time and leases"):
 * - A leader stamps each entry it proposes with `elapsedMs`, read on its own MONOTONIC clock
 *   from an origin fixed when its term's first stamp is made, and with its wall clock `wallMs`.
 *   The origin is the latest moment at which this node received entries from another leader
 *   (or a snapshot), made a stamp of its own, or started: every stamp already in its log was
 *   made no later than that.
 * - Applying an entry (deterministically, on every node) advances cluster time by the elapsed
 *   time since the previous stamp of the same term, or by the whole `elapsedMs` for the first
 *   stamp of a new term. So cluster time never advances faster than real time between two
 *   stamps (up to monotonic clock rate errors), whoever leads and whatever the wall clocks say,
 *   and it keeps running under every leader.
 * - The wall clock only slews it: by at most {@link slewAheadPpmMax} of the elapsed time
 *   forward and {@link slewBackPpmMax} backward, toward the stamp's wall clock. It lets cluster
 *   time recover time lost while no leader was stamping (a whole-cluster outage) and follow
 *   real time over the long run, without ever jumping.
 * - The very first stamp of a cluster sets cluster time to its wall clock (an epoch is needed).
 *
 * The state is replicated: it lives in the applied state under {@link clusterClockKey}, so
 * restarts and snapshots carry it.
 */

/**
 * Forward slew bound, in parts per million of the elapsed time (100 ppm = 0.1 ms per second):
 * the most by which cluster time may run faster than the leader's monotonic clock. As small as
 * the rate error of ordinary clock oscillators, so a lease is shortened by at most 0.01 %.
 */
export const slewAheadPpmMax = 100;
/**
 * Backward slew bound, in parts per million (1 ms per second): cluster time runs at least
 * 99.9 % as fast as the leader's monotonic clock, so it never stands still. Slowing time only
 * lengthens leases, so this bound may be looser than the forward one.
 */
export const slewBackPpmMax = 1_000;

/**
 * Applied-state key of the cluster clock. 0x63 ('c') is outside the queue state's 0x71 prefix,
 * so the queue state machine never sees it, and it travels with every snapshot.
 */
export const clusterClockKey: Uint8Array = Uint8Array.of(0x63, 0x01);

/** What a leader writes into an entry (entry-envelope.ts). */
export interface ClockStamp {
  /** Milliseconds on the leader's monotonic clock since its term's origin. */
  readonly elapsedMs: number;
  /** The leader's wall clock (ms since the epoch): a slew target only. */
  readonly wallMs: number;
}

/** The replicated clock state after the last stamped entry applied. */
export interface ClusterClockState {
  /** Cluster time in ms since the epoch (fractional). */
  readonly clockMs: number;
  /** Term of the last stamped entry, 0 before the first. Invariant: never decreases (log order). */
  readonly term: number;
  /** The largest `elapsedMs` applied in `term`. */
  readonly elapsedMs: number;
}

/** The state of a cluster that has applied no stamp yet. */
export const clusterClockStart: ClusterClockState = { clockMs: 0, term: 0, elapsedMs: 0 };

/**
 * Cluster time after applying an entry of `term` carrying `stamp`. Pure and deterministic.
 * Within a term, stamps never go back (one leader, one monotonic clock, proposals in log
 * order); a stamp that did would advance nothing rather than stop every node.
 */
export function advanceClusterClock(s: ClusterClockState, term: number, stamp: ClockStamp): ClusterClockState {
  assert(Number.isFinite(stamp.elapsedMs) && Number.isFinite(stamp.wallMs), 'clock stamp must be finite');
  assert(term >= 1 && term >= s.term, () => `clock stamp of term ${term} after one of term ${s.term}`);
  if (s.term === 0) return { clockMs: stamp.wallMs, term, elapsedMs: stamp.elapsedMs };
  const sameTerm = term === s.term;
  const runMs = Math.max(0, sameTerm ? stamp.elapsedMs - s.elapsedMs : stamp.elapsedMs);
  const slewMs = Math.min(Math.max(stamp.wallMs - (s.clockMs + runMs), (-runMs * slewBackPpmMax) / 1e6), (runMs * slewAheadPpmMax) / 1e6);
  const next = { clockMs: s.clockMs + runMs + slewMs, term, elapsedMs: sameTerm ? Math.max(s.elapsedMs, stamp.elapsedMs) : stamp.elapsedMs };
  assert(next.clockMs >= s.clockMs, 'cluster time went back');
  return next;
}

/**
 * Cluster time after an entry written before stamps carried a monotonic part (envelope
 * version 1: the leader's wall clock only): the old rule, the largest stamp so far.
 */
export function advanceLegacyClock(s: ClusterClockState, term: number, wallMs: number): ClusterClockState {
  assert(Number.isFinite(wallMs), 'clock stamp must be finite');
  return { clockMs: Math.max(s.clockMs, wallMs), term: Math.max(s.term, term), elapsedMs: 0 };
}

/** Encodes the state for {@link clusterClockKey}: u8 version (1) | f64 clockMs | f64 term | f64 elapsedMs. */
export function encodeClusterClock(s: ClusterClockState): Uint8Array {
  const out = Buffer.alloc(25);
  out[0] = 1;
  out.writeDoubleBE(s.clockMs, 1);
  out.writeDoubleBE(s.term, 9);
  out.writeDoubleBE(s.elapsedMs, 17);
  return out;
}

/** Decodes {@link encodeClusterClock}'s bytes; absent (a cluster that never stamped) is the start. */
export function decodeClusterClock(bytes: Uint8Array | undefined): ClusterClockState {
  if (bytes === undefined) return clusterClockStart;
  assert(bytes.byteLength === 25 && bytes[0] === 1, () => `cluster clock record of ${bytes.byteLength} bytes, version ${bytes[0]}`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { clockMs: b.readDoubleBE(1), term: b.readDoubleBE(9), elapsedMs: b.readDoubleBE(17) };
}

/**
 * The applying side, held by the node runtime: the replicated state, loaded from the applied
 * state at startup and after a snapshot install, advanced entry by entry, persisted in the
 * same batch as the entries that moved it.
 */
export class ClusterClock {
  #state: ClusterClockState = clusterClockStart;
  #dirty = false;

  /** The replicated state (for tests and status). */
  get state(): ClusterClockState {
    return this.#state;
  }

  /** Loads the state from the applied state (startup, snapshot install). */
  async load(reader: Pick<StateReader, 'get'>): Promise<void> {
    this.#state = decodeClusterClock(await reader.get(clusterClockKey));
    this.#dirty = false;
  }

  /** Applies the stamp of an entry of `term`; returns cluster time in whole milliseconds. */
  apply(term: number, stamp: ClockStamp | { readonly legacyWallMs: number }): number {
    this.#state = 'legacyWallMs' in stamp ? advanceLegacyClock(this.#state, term, stamp.legacyWallMs) : advanceClusterClock(this.#state, term, stamp);
    this.#dirty = true;
    return Math.floor(this.#state.clockMs);
  }

  /** The write that persists the state, when it moved since the last call. */
  takeWrite(): StateWrite | undefined {
    if (!this.#dirty) return undefined;
    this.#dirty = false;
    return { type: 'put', key: clusterClockKey, value: encodeClusterClock(this.#state) };
  }
}

/**
 * The stamping side, held by the node runtime: turns its monotonic clock into the `elapsedMs`
 * of each stamp, fixing each term's origin as the protocol above requires.
 */
export class LeaderStamper {
  readonly #monoNow: () => number;
  readonly #wallNow: () => number;
  /**
   * The latest monotonic time at which a stamp may have entered this node's log: receipt of
   * entries or a snapshot from another node, a stamp of its own, or the start (every entry on
   * disk was stamped before).
   */
  #lastStampInLogMono: number;
  /** Term of the last stamp made, 0 before the first. */
  #term = 0;
  /** Origin of `#term`'s elapsed times. */
  #originMono = 0;
  #lastElapsedMs = 0;

  /** `monoNow`: a monotonic clock in ms (performance.now); `wallNow`: the wall clock (Date.now). */
  constructor(monoNow: () => number, wallNow: () => number) {
    this.#monoNow = monoNow;
    this.#wallNow = wallNow;
    this.#lastStampInLogMono = monoNow();
  }

  /** Call on receiving entries or a snapshot from another node, before handing them to Raft. */
  noteReceived(): void {
    this.#lastStampInLogMono = Math.max(this.#lastStampInLogMono, this.#monoNow());
  }

  /** The stamp for entries this node proposes now as the leader of `term`. */
  stamp(term: number): ClockStamp {
    const mono = this.#monoNow();
    if (term !== this.#term) {
      assert(term > this.#term, () => `stamping term ${term} after term ${this.#term}`);
      this.#term = term;
      this.#originMono = this.#lastStampInLogMono;
      this.#lastElapsedMs = 0;
    }
    this.#lastStampInLogMono = Math.max(this.#lastStampInLogMono, mono);
    // A monotonic clock does not go back; the max keeps a faulty one from reordering stamps.
    this.#lastElapsedMs = Math.max(this.#lastElapsedMs, mono - this.#originMono);
    return { elapsedMs: this.#lastElapsedMs, wallMs: this.#wallNow() };
  }
}
