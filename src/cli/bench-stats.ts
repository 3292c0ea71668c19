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

/** A count-based progress bar line: `[#####.....] 12000/100000 msgs  3.1 s  3871 msgs/s  ...`. */
export function countProgressLine(done: number, total: number, elapsedMs: number, parts: readonly string[] = []): string {
  const width = 20;
  const filled = total <= 0 ? width : Math.min(width, Math.round((done / total) * width));
  const rate = elapsedMs > 0 ? Math.round(done / (elapsedMs / 1000)) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} msgs  ${(elapsedMs / 1000).toFixed(1)} s  ${rate} msgs/s${parts.length > 0 ? `  ${parts.join('  ')}` : ''}`;
}

/**
 * Writes `render()` to stderr once a second until the returned function is called: on a TTY
 * as one line rewritten in place (ended with a newline when stopped), otherwise one line each.
 */
export function progressTicker(render: () => string, intervalMs = 1000): () => void {
  const tty = process.stderr.isTTY === true;
  const timer = setInterval(() => {
    const line = render();
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  }, intervalMs);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    if (tty) process.stderr.write('\n');
  };
}

/** Gaps between acknowledged writes around a fault injected at `signalMs` (see gapReport). */
export interface GapReport {
  /** Longest gap between consecutive acknowledgements after the first `steadyAfterMs` (the trailing gap to the end included). */
  readonly maxGapMs: number;
  /** Where that gap starts, relative to the signal (negative: before it). */
  readonly maxGapStartRelSignalMs: number;
  /** The gap spanning the signal: last acknowledgement at or before it to the first one after it (to the end when writes never resumed). */
  readonly signalGapMs: number;
  /** Milliseconds from the signal to the first acknowledgement after it; null when none came. */
  readonly firstAckAfterSignalMs: number | null;
  /** Acknowledgements per second between `startMs + steadyAfterMs` and the signal. */
  readonly ratePerSBeforeSignal: number;
  /** Acknowledgements per second in the last `tailMs` before `endMs`. */
  readonly ratePerSAtEnd: number;
}

/**
 * Analyses acknowledgement times (milliseconds on one monotonic clock, ascending) of a run that
 * started at `startMs`, was signalled at `signalMs` and stopped at `endMs`. Pure.
 */
export function gapReport(acks: readonly number[], startMs: number, signalMs: number, endMs: number, steadyAfterMs = 1000, tailMs = 3000): GapReport {
  const steadyFrom = startMs + steadyAfterMs;
  let maxGap = 0;
  let maxGapAt = 0;
  let prev: number | undefined;
  let lastBefore: number | undefined;
  let firstAfter: number | undefined;
  let before = 0;
  let tail = 0;
  for (const t of acks) {
    if (t <= signalMs) lastBefore = t;
    else firstAfter ??= t;
    if (t > steadyFrom && t <= signalMs) before++;
    if (t > endMs - tailMs && t <= endMs) tail++;
    if (t <= steadyFrom) continue;
    if (prev !== undefined && t - prev > maxGap) {
      maxGap = t - prev;
      maxGapAt = prev;
    }
    prev = t;
  }
  const last = prev ?? steadyFrom;
  if (endMs - last > maxGap) {
    maxGap = endMs - last;
    maxGapAt = last;
  }
  const gapStart = lastBefore ?? startMs;
  const signalGap = (firstAfter ?? endMs) - gapStart;
  const beforeSpan = (signalMs - steadyFrom) / 1000;
  return {
    maxGapMs: round2(maxGap),
    maxGapStartRelSignalMs: round2(maxGapAt - signalMs),
    signalGapMs: round2(signalGap),
    firstAckAfterSignalMs: firstAfter === undefined ? null : round2(firstAfter - signalMs),
    ratePerSBeforeSignal: beforeSpan > 0 ? Math.round(before / beforeSpan) : 0,
    ratePerSAtEnd: Math.round(tail / (Math.min(tailMs, endMs - startMs) / 1000 || 1)),
  };
}

/** Counts errors and keeps the first few distinct ones, as `CODE: message`. */
export class ErrorTally {
  #count = 0;
  readonly #samples = new Set<string>();

  /** Errors noted so far. */
  get count(): number {
    return this.#count;
  }

  /** The first (up to five) distinct errors. */
  get samples(): string[] {
    return [...this.#samples];
  }

  /** Notes one error. */
  note(e: unknown): void {
    this.#count++;
    if (this.#samples.size < 5) this.#samples.add(describeBenchError(e));
  }
}

/** `CODE: message` for a RaftqError-like error, else its message. */
export function describeBenchError(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

/** Resolves after `ms` milliseconds. */
export function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
