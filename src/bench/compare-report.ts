/**
 * The pure half of the comparison script: attempts summarised into cells (medians), targets
 * evaluated, and the markdown table. No I/O; unit-tested in test/cli/bench-compare.test.ts.
 */

/** The systems compared. */
export const systems = ['raftq', 'nats', 'rabbit', 'etcd'] as const;
/** One system. */
export type SystemName = (typeof systems)[number];

/** How each system is named in the table. */
export const systemLabels: Readonly<Record<SystemName, string>> = { raftq: 'raftq', nats: 'NATS', rabbit: 'RabbitMQ', etcd: 'etcd' };

/** One measurement attempt: a value (and the raw output it came from), or an error. */
export type Attempt = { readonly ok: true; readonly value: number; readonly raw?: unknown } | { readonly ok: false; readonly error: string; readonly raw?: unknown };

/** How the attempts of a metric combine into one figure. */
export type Aggregate = 'median' | 'sum' | 'max';

/** Attempts summarised: the figure (when any attempt succeeded), how many succeeded, the first error. */
export interface Cell {
  readonly value?: number;
  readonly ok: number;
  readonly of: number;
  readonly error?: string;
  /** A remark shown after the figure, e.g. "16 producers". */
  readonly note?: string;
}

/** The median of `xs` (the mean of the middle two for an even count); undefined when empty. */
export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Combines attempts: `agg` of the successful values; the first error when none succeeded. */
export function summarize(attempts: readonly Attempt[], agg: Aggregate = 'median'): Cell {
  const values = attempts.flatMap((a) => (a.ok ? [a.value] : []));
  const firstError = attempts.find((a): a is Extract<Attempt, { ok: false }> => !a.ok)?.error;
  const base = { ok: values.length, of: attempts.length, ...(firstError !== undefined ? { error: firstError } : {}) };
  if (values.length === 0) return base;
  const value = agg === 'median' ? median(values)! : agg === 'sum' ? values.reduce((a, b) => a + b, 0) : Math.max(...values);
  return { ...base, value };
}

/** The cell with the larger figure (a cell without one loses); ties keep `a`. */
export function better(a: Cell, b: Cell, higherIsBetter = true): Cell {
  if (b.value === undefined) return a;
  if (a.value === undefined) return b;
  return (higherIsBetter ? b.value > a.value : b.value < a.value) ? b : a;
}

/** A goal for raftq's figure of a row. */
export type Target =
  /** raftq / peer >= min. */
  | { readonly kind: 'ratio'; readonly peer: Exclude<SystemName, 'raftq'>; readonly min: number }
  /** raftq's figure <= max; `label` describes it instead of "<= max unit" when given. */
  | { readonly kind: 'atMost'; readonly max: number; readonly label?: string }
  /** raftq's figure < max (strictly below). */
  | { readonly kind: 'below'; readonly max: number }
  /** raftq's figure >= min. */
  | { readonly kind: 'atLeast'; readonly min: number };

/** A target's verdict: met, missed, or unknown (a figure is missing). */
export interface Verdict {
  readonly target: string;
  readonly met: boolean | undefined;
}

/** A number for the table: thousands separators for large figures, up to 2 decimals for small. */
export function formatNumber(x: number): string {
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Describes a target in words, e.g. ">= 1.5x RabbitMQ" or "<= 20 ms". */
export function describeTarget(t: Target, unit: string): string {
  switch (t.kind) {
    case 'ratio':
      return `>= ${t.min.toFixed(1)}x ${systemLabels[t.peer]}`;
    case 'atMost':
      return t.label ?? `<= ${formatNumber(t.max)}${unit === '' ? '' : ` ${unit}`}`;
    case 'below':
      return `< ${formatNumber(t.max)}${unit === '' ? '' : ` ${unit}`}`;
    case 'atLeast':
      return `>= ${formatNumber(t.min)}${unit === '' ? '' : ` ${unit}`}`;
  }
}

/** raftq / peer, or undefined when either figure is missing or the peer's is 0. */
export function ratio(raftq: number | undefined, peer: number | undefined): number | undefined {
  if (raftq === undefined || peer === undefined || peer === 0) return undefined;
  return raftq / peer;
}

/** Evaluates target `t` against raftq's figure and the peers' figures. */
export function evaluateTarget(t: Target, unit: string, raftq: number | undefined, peers: Partial<Record<SystemName, number | undefined>>): Verdict {
  const target = describeTarget(t, unit);
  if (raftq === undefined) return { target, met: undefined };
  switch (t.kind) {
    case 'ratio': {
      const r = ratio(raftq, peers[t.peer]);
      return { target, met: r === undefined ? undefined : r >= t.min };
    }
    case 'atMost':
      return { target, met: raftq <= t.max };
    case 'below':
      return { target, met: raftq < t.max };
    case 'atLeast':
      return { target, met: raftq >= t.min };
  }
}

/** One row of the comparison: a scenario's figure for each system, and raftq's targets. */
export interface RowInput {
  /** e.g. "produce msgs/s (256 B, 64 producers)". */
  readonly scenario: string;
  /** Unit of the figures, e.g. "msgs/s", "ms", "MB", "s". */
  readonly unit: string;
  readonly cells: Partial<Record<SystemName, Cell | undefined>>;
  readonly targets: readonly Target[];
  /** Ratios raftq / peer are shown for these peers (default: every peer with a figure). */
  readonly ratioPeers?: ReadonlyArray<Exclude<SystemName, 'raftq'>>;
}

/** A rendered row: every column as text, plus the verdicts. */
export interface Row {
  readonly scenario: string;
  readonly raftq: string;
  readonly nats: string;
  readonly rabbit: string;
  readonly etcd: string;
  readonly ratios: string;
  readonly target: string;
  readonly met: string;
  readonly verdicts: readonly Verdict[];
}

/** A cell as text: the figure (with "k/n ok" when some attempts failed), "error: ..." or "-". */
export function formatCell(c: Cell | undefined): string {
  if (c === undefined || c.of === 0) return '-';
  if (c.value === undefined) return `error: ${oneLine(c.error ?? 'no result')}`;
  const parts = [formatNumber(c.value)];
  if (c.note !== undefined) parts.push(`(${c.note})`);
  if (c.ok < c.of) parts.push(`(${c.ok}/${c.of} ok)`);
  return parts.join(' ');
}

/** Builds a row: cells as text, ratios raftq / peer, targets and whether all were met. */
export function buildRow(r: RowInput): Row {
  const value = (s: SystemName): number | undefined => r.cells[s]?.value;
  const peers: Exclude<SystemName, 'raftq'>[] = r.ratioPeers !== undefined ? [...r.ratioPeers] : ['nats', 'rabbit', 'etcd'];
  const ratios = peers.flatMap((p) => {
    const x = ratio(value('raftq'), value(p));
    return x === undefined ? [] : [`${x.toFixed(2)}x ${systemLabels[p]}`];
  });
  const figures = Object.fromEntries(systems.map((s) => [s, value(s)])) as Record<SystemName, number | undefined>;
  const verdicts = r.targets.map((t) => evaluateTarget(t, r.unit, value('raftq'), figures));
  return {
    scenario: `${r.scenario}${r.unit === '' ? '' : ` [${r.unit}]`}`,
    raftq: formatCell(r.cells.raftq),
    nats: formatCell(r.cells.nats),
    rabbit: formatCell(r.cells.rabbit),
    etcd: formatCell(r.cells.etcd),
    ratios: ratios.length > 0 ? ratios.join(', ') : '-',
    target: verdicts.length > 0 ? verdicts.map((v) => v.target).join(', ') : '-',
    met: metText(verdicts),
    verdicts,
  };
}

/** "yes" when every target is met; "no (missed ...)"; "n/a (...)" when a figure is missing. */
export function metText(verdicts: readonly Verdict[]): string {
  if (verdicts.length === 0) return '-';
  const missed = verdicts.filter((v) => v.met === false).map((v) => v.target);
  const unknown = verdicts.filter((v) => v.met === undefined).map((v) => v.target);
  if (missed.length > 0) return `no (missed ${missed.join(', ')}${unknown.length > 0 ? `; unknown ${unknown.join(', ')}` : ''})`;
  if (unknown.length > 0) return `n/a (unknown ${unknown.join(', ')})`;
  return 'yes';
}

/** The markdown table of `rows`. Pipes inside cells are escaped. */
export function markdownTable(rows: readonly Row[]): string {
  const header = ['scenario', 'raftq', 'NATS', 'RabbitMQ', 'etcd', 'ratio (raftq / peer)', 'target', 'met'];
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${[r.scenario, r.raftq, r.nats, r.rabbit, r.etcd, r.ratios, r.target, r.met].map(esc).join(' | ')} |`);
  return lines.join('\n');
}

/** Body size of the memory scenario's backlog (1 KiB). */
export const backlogBodyBytes = 1024;

/** Body size of the messages passing through the pinned scenario's queue (16 KiB). */
export const pinnedBodyBytes = 16 * 1024;

/**
 * The segment log's default segment size, 64 MiB (segmentBytesMaxDefault of
 * src/storage/segment-log/segment-log-options.ts, which the bench layer may not import; a
 * test checks that they agree).
 */
export const segmentBytesDefault = 64 * 1024 * 1024;

/**
 * The disk bound of issue 17 as a target on the figure "largest data directory / live bytes":
 * directory <= 1.3 x live + 2 segments, i.e. the ratio <= 1.3 + 2 x segment / live.
 */
export function diskBoundTarget(liveBytes: number, segmentBytes: number = segmentBytesDefault): Target {
  const max = 1.3 + (2 * segmentBytes) / liveBytes;
  return { kind: 'atMost', max, label: `<= 1.3x live + 2 segments (${formatNumber(max)}x here)` };
}

/** What the machine line names. */
export interface MachineInfo {
  readonly cores: number;
  readonly model: string;
  readonly totalMemoryBytes: number;
  readonly node: string;
  readonly date: string;
}

/** "machine: 2 cores (Model), 24.0 GiB, Node v20.20.2, 2026-12-01T07:00:00.000Z". */
export function machineLine(m: MachineInfo): string {
  return `machine: ${m.cores} cores (${m.model}), ${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${m.node}, ${m.date}`;
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
