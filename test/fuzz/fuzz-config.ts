/**
 * Shared settings of the fuzz targets (test/fuzz/*.test.ts): one fixed seed and case count for
 * every target, both overridable from the environment so a failure can be replayed exactly.
 *
 *   RAFTQ_FUZZ_SEED=<n>   the fast-check seed (fast-check prints it, with the path, on failure)
 *   RAFTQ_FUZZ_RUNS=<n>   cases per property (default 100,000)
 */
import { expect } from 'vitest';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${raw} is not an integer`);
  return n;
}

/** The fast-check seed of every fuzz property. */
export const fuzzSeed = envInt('RAFTQ_FUZZ_SEED', 20261207);

/** Cases per fuzz property. */
export const fuzzRuns = envInt('RAFTQ_FUZZ_RUNS', 100_000);

/** Vitest timeout of one fuzz target, scaled with the case count (generous: CI machines share cores). */
export const fuzzTimeoutMs = Math.max(120_000, Math.ceil(fuzzRuns / 100_000) * 300_000);

/** The options every fuzz property runs with: the seed is printed by fast-check on failure. */
export function fuzzOptions(numRuns: number = fuzzRuns): { seed: number; numRuns: number; verbose: false } {
  return { seed: fuzzSeed, numRuns, verbose: false };
}

/**
 * Counts how the cases of one target ended, so a target cannot pass vacuously: both the cases
 * that decoded and the ones refused must be seen.
 */
export class Outcomes {
  readonly #counts = new Map<string, number>();

  /** Records one case that ended as `label` (e.g. "accepted", or the refusal's code). */
  add(label: string): void {
    this.#counts.set(label, (this.#counts.get(label) ?? 0) + 1);
  }

  /** Cases recorded as `label`. */
  count(label: string): number {
    return this.#counts.get(label) ?? 0;
  }

  /** Cases whose label starts with `prefix`. */
  countPrefix(prefix: string): number {
    let n = 0;
    for (const [k, v] of this.#counts) if (k.startsWith(prefix)) n += v;
    return n;
  }

  /** Every label with its count, for a failure message. */
  summary(): string {
    return [...this.#counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(', ');
  }

  /** Asserts that cases ended both ways: some with a label starting `accepted`, some `refused`. */
  expectBothWays(): void {
    const s = this.summary();
    expect(this.countPrefix('accepted'), s).toBeGreaterThan(0);
    expect(this.countPrefix('refused'), s).toBeGreaterThan(0);
  }
}
