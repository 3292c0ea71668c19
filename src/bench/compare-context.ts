/**
 * What every part of the comparison shares: the Recorder of attempts, the run's context
 * (options, directories, the shared peer folder), the progress log, and how a figure is read
 * out of a command's JSON result (throughputs, produce and failover metrics, the drain rate).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RaftqError } from '../errors.js';
import type { Options, Scenario } from './compare-options.js';
import { repoRoot } from './compare-procs.js';
import { summarize, type Aggregate, type Attempt, type Cell, type SystemName } from './compare-report.js';

/** Every attempt, by metric and system: what the JSON file holds. */
export type Attempts = Record<string, Partial<Record<SystemName, Attempt[]>>>;

/** Figures read out of a command's JSON result, by metric name. */
export type Metrics = Readonly<Record<string, (raw: Record<string, unknown>) => number>>;

/** Collects attempts as the comparison goes. */
export class Recorder {
  /** Every attempt so far. */
  readonly attempts: Attempts = {};

  /** Records one attempt of `metric` by `system`. */
  add(metric: string, system: SystemName, a: Attempt): void {
    const bySystem = (this.attempts[metric] ??= {});
    (bySystem[system] ??= []).push(a);
  }

  /** Records `value(raw)` for each metric, or the error for all of them. */
  async measure(metrics: Metrics, system: SystemName, run: () => Promise<Record<string, unknown>>): Promise<void> {
    let raw: Record<string, unknown>;
    try {
      raw = await run();
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      process.stderr.write(`  error: ${error}\n`);
      for (const m of Object.keys(metrics)) this.add(m, system, { ok: false, error });
      return;
    }
    for (const [m, f] of Object.entries(metrics)) {
      try {
        const value = f(raw);
        if (!Number.isFinite(value)) throw new RaftqError('INTERNAL', `no ${m} figure in ${JSON.stringify(raw).slice(0, 200)}`);
        this.add(m, system, { ok: true, value, raw });
      } catch (e) {
        this.add(m, system, { ok: false, error: e instanceof Error ? e.message : String(e), raw });
      }
    }
  }

  /** Records `error` for every metric of `system` (a system that did not start). */
  fail(metrics: readonly string[], system: SystemName, error: string, times: number): void {
    for (const m of metrics) for (let i = 0; i < times; i++) this.add(m, system, { ok: false, error });
  }

  /** The attempts of `metric` by `system` combined, or undefined when it never ran. */
  cell(metric: string, system: SystemName, agg: Aggregate = 'median'): Cell | undefined {
    const list = this.attempts[metric]?.[system];
    return list === undefined ? undefined : summarize(list, agg);
  }
}

/** The comparison run: options, paths and results. */
export class Comparison {
  /** The settings. */
  readonly o: Options;
  /** Every attempt so far. */
  readonly rec = new Recorder();
  /** data/bench/run-STAMP: every cluster's data and the logs. */
  readonly runDir: string;
  /** runDir/logs: the nodes' and commands' logs. */
  readonly logDir: string;
  /** ../shared/bench, when a scenario needs it. */
  readonly shared: string | undefined;

  constructor(o: Options, shared: string | undefined) {
    this.o = o;
    this.shared = shared;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.runDir = join(repoRoot(), 'data', 'bench', `run-${stamp}`);
    this.logDir = join(this.runDir, 'logs');
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Whether scenario `s` is to run. */
  has(s: Scenario): boolean {
    return this.o.only.has(s);
  }

  /** --duration as a command-line argument. */
  get duration(): string {
    return String(this.o.durationS);
  }
}

/** A progress line on stderr, stamped with the time of day. */
export function log(line: string): void {
  process.stderr.write(`[compare ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** A number field of a JSON result (nested with dots), or NaN. */
export function num(raw: Record<string, unknown>, path: string): number {
  let v: unknown = raw;
  for (const k of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' ? v : NaN;
}

/** A positive throughput (a run that acknowledged nothing is an error). */
export function rate(raw: Record<string, unknown>, path: string): number {
  const r = num(raw, path);
  if (!(r > 0)) throw new RaftqError('INTERNAL', `no throughput: ${JSON.stringify(raw).slice(0, 200)}`);
  return r;
}

/** Produce figures of peers.mjs / rabbit.mjs: throughput and p99 latency. */
export const produceMetrics: Metrics = {
  'produce.rate': (r) => rate(r, 'ops_per_s'),
  'produce.p99': (r) => num(r, 'p99_ms'),
};

/** Failover figures: longest gap (s) and lost acknowledged writes, from failover.mjs or raftq bench. */
export const failoverMetrics: Metrics = {
  'failover.gap': (r) => {
    if (Number.isFinite(num(r, 'maxGapMs'))) return num(r, 'maxGapMs') / 1000;
    // failover.mjs measures gaps between acknowledgements only: a stall lasting to the end of
    // the run does not show in max_gap_ms, but in a zero rate over its last 3 s.
    if (num(r, 'rate_last3s') === 0) throw new RaftqError('UNAVAILABLE', `writes had not resumed at the end of the run (${num(r, 'errors')} errors); the gap is longer than the run`);
    return num(r, 'max_gap_ms') / 1000;
  },
  'failover.lost': (r) => {
    for (const path of ['readback.lost', 'readback.lost_lower_bound']) if (Number.isFinite(num(r, path))) return num(r, path);
    const rb = r['readback'];
    const why = typeof rb === 'object' && rb !== null && 'error' in rb ? String((rb as { error: unknown }).error) : `none in ${JSON.stringify(r).slice(0, 160)}`;
    throw new RaftqError('UNAVAILABLE', `read-back failed: ${why}`);
  },
};

/** raftq's drain rate; a drain that left messages behind is an error. */
export function drainRate(r: Record<string, unknown>): number {
  if (r['empty'] !== true) throw new RaftqError('INTERNAL', `the drain left messages behind: ${JSON.stringify(r['left'])}`);
  return rate(r, 'drainPerS');
}
