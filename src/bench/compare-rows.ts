/**
 * The comparison's table rows: each scenario's cells from the Recorder, with the targets of
 * issue 17 (storage v2).
 */
import type { Comparison, Recorder } from './compare-context.js';
import { mib, sizeText } from './compare-disk.js';
import { backlogBodyBytes, better, buildRow, diskBoundTarget, pinnedBodyBytes, type Aggregate, type Cell, type Row, type RowInput } from './compare-report.js';

/** What the rows are built from: the options, the attempts, and which scenarios ran. */
export type RowSource = Pick<Comparison, 'o' | 'rec' | 'has'>;

/** The rows of every scenario that ran, in the table's order. */
export function comparisonRows(cmp: RowSource): Row[] {
  const rec = cmp.rec;
  const o = cmp.o;
  const all = (metric: string, agg: Aggregate = 'median'): RowInput['cells'] => ({
    raftq: rec.cell(metric, 'raftq', agg),
    nats: rec.cell(metric, 'nats', agg),
    rabbit: rec.cell(metric, 'rabbit', agg),
    etcd: rec.cell(metric, 'etcd', agg),
  });
  const raftqOnly = (scenario: string, unit: string, cell: Cell | undefined, targets: RowInput['targets']): RowInput => ({ scenario, unit, cells: { raftq: cell }, targets, ratioPeers: [] });
  const rows: RowInput[] = [];
  if (cmp.has('produce')) {
    rows.push({
      scenario: 'produce: 256 B, 64 producers awaiting acks (binary client)',
      unit: 'msgs/s',
      cells: all('produce.rate'),
      targets: [
        { kind: 'ratio', peer: 'nats', min: 1 },
        { kind: 'ratio', peer: 'rabbit', min: 1.5 },
        { kind: 'ratio', peer: 'etcd', min: 5 },
      ],
    });
    rows.push({ scenario: 'produce: p99 latency', unit: 'ms', cells: all('produce.p99'), targets: [{ kind: 'atMost', max: 20 }], ratioPeers: [] });
  }
  if (cmp.has('http')) {
    rows.push({
      scenario: `http: peers.mjs raftq via node 1 (${httpRoles(rec)})`,
      unit: 'msgs/s',
      cells: { raftq: rec.cell('http.rate', 'raftq'), nats: rec.cell('produce.rate', 'nats') },
      targets: [{ kind: 'ratio', peer: 'nats', min: 0.6 }],
      ratioPeers: ['nats'],
    });
  }
  if (cmp.has('batch')) {
    const b8 = rec.cell('batch8.rate', 'raftq');
    const b16 = rec.cell('batch16.rate', 'raftq');
    const best = better(b8 === undefined ? { ok: 0, of: 0 } : { ...b8, note: '8 producers' }, b16 === undefined ? { ok: 0, of: 0 } : { ...b16, note: '16 producers' });
    rows.push(raftqOnly('batch: sendBatch of 100, 256 B (better of 8 / 16 producers)', 'msgs/s', best, [{ kind: 'atLeast', min: 100_000 }]));
  }
  if (cmp.has('drain')) {
    rows.push({
      scenario: `drain: ${o.drainMessages.toLocaleString('en-US')} x 256 B, 4 consumers, ack per message`,
      unit: 'msgs/s',
      cells: { raftq: rec.cell('drain.rate', 'raftq'), nats: rec.cell('drain.rate', 'nats'), rabbit: rec.cell('drain.rate', 'rabbit') },
      targets: [{ kind: 'ratio', peer: 'nats', min: 1 }],
      ratioPeers: ['nats', 'rabbit'],
    });
  }
  if (cmp.has('failover')) {
    rows.push({ scenario: `failover: kill -9 of the leader, 16 writers, longest gap (median of ${o.trials})`, unit: 's', cells: all('failover.gap'), targets: [{ kind: 'atMost', max: 0.5 }] });
    rows.push({ scenario: 'failover: acknowledged writes lost (sum over trials)', unit: '', cells: all('failover.lost', 'sum'), targets: [{ kind: 'atMost', max: 0 }], ratioPeers: [] });
  }
  if (cmp.has('partition')) {
    rows.push(raftqOnly(`partition: SIGSTOP of the leader, 16 writers, longest gap (median of ${o.trials})`, 's', rec.cell('partition.gap', 'raftq'), [{ kind: 'atMost', max: 1.5 }]));
    rows.push(raftqOnly('partition: acknowledged writes lost (sum over trials)', '', rec.cell('partition.lost', 'raftq', 'sum'), [{ kind: 'atMost', max: 0 }]));
  }
  if (cmp.has('memory')) {
    const backlog = `${o.backlog.toLocaleString('en-US')} x 1 KiB backlog`;
    const live = o.backlog * backlogBodyBytes;
    rows.push(raftqOnly(`memory: max node RSS, ${backlog}`, 'MB', rec.cell('memory.rss', 'raftq', 'max'), [{ kind: 'atMost', max: 300 }]));
    rows.push(raftqOnly(`disk: largest node data directory / live bytes, ${backlog}`, 'x live', withNote(rec.cell('disk.ratio', 'raftq', 'max'), diskNote(rec)), [diskBoundTarget(live)]));
    rows.push(raftqOnly('restart: follower with the backlog, spawn to GET /ready 200', 's', rec.cell('restart.follower', 'raftq'), [{ kind: 'atMost', max: 3 }]));
    rows.push(raftqOnly('restart: leader with the backlog, spawn to GET /ready 200', 's', rec.cell('restart.leader', 'raftq'), [{ kind: 'atMost', max: 3 }]));
  }
  if (cmp.has('pinned')) {
    const through = `${sizeText(o.pinnedBytes)} of ${pinnedBodyBytes / 1024} KiB messages`;
    rows.push(raftqOnly(`pinned: 1 message under a 12 h lease while ${through} pass, largest node data directory`, 'MiB', withNote(rec.cell('pinned.dir', 'raftq', 'max'), pinnedNote(rec)), [{ kind: 'below', max: 256 }]));
  }
  return rows.map(buildRow);
}

/** `cell` with a note, when both exist. */
function withNote(cell: Cell | undefined, note: string | undefined): Cell | undefined {
  return cell === undefined || note === undefined || cell.value === undefined ? cell : { ...cell, note };
}

/** The raw result of raftq's last successful attempt of `metric`. */
function lastRaw(rec: Recorder, metric: string): Record<string, unknown> | undefined {
  const ok = (rec.attempts[metric]?.raftq ?? []).filter((a) => a.ok);
  const raw = ok[ok.length - 1]?.raw;
  return typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : undefined;
}

/** "1,234.5 MiB dir, 976.6 MiB live" from the disk measurement. */
export function diskNote(rec: Recorder): string | undefined {
  const raw = lastRaw(rec, 'disk.ratio');
  const dir = raw?.['maxDirBytes'];
  const live = raw?.['liveBytes'];
  return typeof dir === 'number' && typeof live === 'number' ? `${mib(dir)} dir, ${mib(live)} live` : undefined;
}

/** "end 123.4 MiB" from the pinned run: the largest directory once everything had passed. */
export function pinnedNote(rec: Recorder): string | undefined {
  const end = lastRaw(rec, 'pinned.dir')?.['maxEndDirBytes'];
  return typeof end === 'number' ? `peak; end ${mib(end)}` : undefined;
}

/** Node 1's roles over the http runs, e.g. "follower in 2 runs, leader in 1". */
function httpRoles(rec: Recorder): string {
  const counts = new Map<string, number>();
  for (const a of rec.attempts['http.rate']?.raftq ?? []) {
    const role = typeof a.raw === 'object' && a.raw !== null ? (a.raw as Record<string, unknown>)['role'] : undefined;
    if (typeof role === 'string') counts.set(role, (counts.get(role) ?? 0) + 1);
  }
  if (counts.size === 0) return 'role unknown';
  return [...counts].map(([role, n], i) => `${role} in ${n}${i === 0 ? ` run${n === 1 ? '' : 's'}` : ''}`).join(', ');
}
