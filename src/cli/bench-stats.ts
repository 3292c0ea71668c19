/** Latency percentiles in milliseconds. */
export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Latency samples in milliseconds, kept in a growable Float64Array: 8 bytes per sample, so a
 * run of a million operations costs 8 MB. Percentiles are exact (nearest rank on the sorted
 * samples).
 */
export class LatencySamples {
  #data = new Float64Array(1024);
  #count = 0;

  /** Samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** Records one sample. */
  add(ms: number): void {
    if (this.#count === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#count++] = ms;
  }

  /** p50, p90, p99 and max, rounded to 0.01 ms; zeros when empty. */
  percentiles(): Percentiles {
    if (this.#count === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
    const sorted = this.#data.slice(0, this.#count).sort();
    const at = (q: number): number => round2(sorted[Math.min(this.#count - 1, Math.max(0, Math.ceil(q * this.#count) - 1))]!);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round2(sorted[this.#count - 1]!) };
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** A progress bar line: `[#####.....]  5.0/10 s  sent 1234 (2468/s)  ...`. */
export function progressLine(elapsedMs: number, durationMs: number, parts: readonly string[]): string {
  const width = 20;
  const done = Math.min(width, Math.round((elapsedMs / durationMs) * width));
  return `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(elapsedMs / 1000).toFixed(1)}/${(durationMs / 1000).toFixed(0)} s  ${parts.join('  ')}`;
}
