/**
 * A small seeded pseudo-random generator (mulberry32). The core draws election-timeout jitter
 * from it, so the same seed gives the same schedule: the simulator depends on this.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). Invariant: n >= 1. */
  int(n: number): number;
}

/** Creates an Rng from a 32-bit seed. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
  };
}
