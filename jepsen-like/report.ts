import { writeFileSync } from 'node:fs';
import { describeOp, pairOps, type HistoryOp } from './history.js';
import { describeDamage } from './corrupt-nemesis.js';
import type { PowerCutSummary } from './nemesis.js';
import type { RunResult } from './runner.js';

const colors = { ok: '#2e7d32', fail: '#c62828', info: '#f9a825', none: '#9e9e9e' } as const;

/** Excuses listed in the report; results.json holds them all. */
const excusesShownMax = 200;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function powerRow(p: PowerCutSummary): [string, string] {
  return ['power cuts', `one ${p.cuts.one}, minority ${p.cuts.minority}, all ${p.cuts.all}; discarded ${p.bytesDiscarded} unsynced bytes in ${p.filesReverted} files and ${p.entriesReverted} directory entries`];
}

function corruptionRow(c: NonNullable<RunResult['corruptions']>): [string, string] {
  const damages = c.damages.length > 0 ? ` (${c.damages.map(describeDamage).join('; ')})` : '';
  return ['corruptions', `scope ${c.scope}; flip ${c.faults.flip}, truncate ${c.faults.truncate}, zero ${c.faults.zero}; files damaged: ${c.damages.length}${damages}`];
}

/**
 * Writes report.html: the checker verdicts, a timeline of every operation per worker (a bar
 * from invocation to completion, coloured ok / fail / info) with the nemesis windows shaded,
 * and a latency-over-time scatter plot. Self-contained: inline SVG, no scripts.
 */
export function writeReport(path: string, ops: readonly HistoryOp[], windows: ReadonlyArray<{ start: number; end: number; label: string }>, result: RunResult): void {
  const pairs = pairOps(ops);
  const endMono = ops.length > 0 ? ops[ops.length - 1]!.mono : 1;
  const processes = [...new Set(pairs.map((p) => p.invoke.process))].sort((a, b) => a - b);
  const width = 1200;
  const rowH = 14;
  const left = 70;
  const x = (t: number): number => left + ((width - left - 10) * t) / Math.max(1, endMono);
  const timelineH = processes.length * rowH + 30;
  const shade = windows
    .map((w) => {
      const end = Number.isNaN(w.end) ? endMono : w.end;
      return `<rect x="${x(w.start).toFixed(1)}" y="0" width="${Math.max(1, x(end) - x(w.start)).toFixed(1)}" height="${timelineH}" fill="#ffcdd2" opacity="0.5"><title>${esc(w.label)}</title></rect>`;
    })
    .join('');
  const bars = pairs
    .map(({ invoke, done }) => {
      const row = processes.indexOf(invoke.process);
      const end = done?.mono ?? endMono;
      const type = done?.type === 'ok' || done?.type === 'fail' || done?.type === 'info' ? done.type : 'none';
      const label = `${invoke.f} ${invoke.queue} ${typeof invoke.value === 'string' ? invoke.value : ''} → ${type}${done?.error !== undefined ? ` (${done.error})` : ''}, ${(end - invoke.mono).toFixed(0)} ms`;
      return `<rect x="${x(invoke.mono).toFixed(1)}" y="${row * rowH + 2}" width="${Math.max(1, x(end) - x(invoke.mono)).toFixed(1)}" height="${rowH - 4}" fill="${colors[type]}"><title>${esc(label)}</title></rect>`;
    })
    .join('');
  const labels = processes.map((p, i) => `<text x="2" y="${i * rowH + rowH - 3}" font-size="10">${p === 1000 ? 'drain' : `worker ${p}`}</text>`).join('');
  const latH = 220;
  // A loop, not Math.max(...spread): a history of a few hundred thousand ops overflows the stack.
  const maxLat = pairs.reduce((m, p) => Math.max(m, (p.done?.mono ?? p.invoke.mono) - p.invoke.mono), 1);
  const y = (ms: number): number => latH - 20 - ((latH - 30) * Math.log10(1 + ms)) / Math.log10(1 + maxLat);
  const dots = pairs
    .filter((p) => p.done !== undefined)
    .map((p) => `<circle cx="${x(p.invoke.mono).toFixed(1)}" cy="${y(p.done!.mono - p.invoke.mono).toFixed(1)}" r="1.5" fill="${colors[p.done!.type === 'invoke' ? 'none' : p.done!.type]}"/>`)
    .join('');
  const ticks = [1, 10, 100, 1000, 10000].filter((t) => t <= maxLat * 1.5).map((t) => `<text x="2" y="${y(t).toFixed(1)}" font-size="10">${t} ms</text>`).join('');
  const verdict = result.valid ? '<span style="color:#2e7d32">VALID</span>' : '<span style="color:#c62828">INVALID</span>';
  const q = result.queue;
  const byCause = (c: 'nack' | 'nack-unknown' | 'lease-expired'): number => q.redeliveries.filter((r) => r.cause === c).length;
  const excuses = [
    ...q.lostExcused.map((e) => `lost ${e.value}: held by ${describeOp(e.by)} (unknown outcome, lease outlives the run)`),
    ...q.redeliveries.map((r) => `redelivery of ${r.value} by ${describeOp(r.delivery)}: ${r.cause === 'nack' ? `after ${describeOp(r.by)}` : r.cause === 'nack-unknown' ? `after ${describeOp(r.by)} (outcome unknown: it may have applied)` : `the lease of ${describeOp(r.by)} had ended`}`),
  ];
  const rows: Array<[string, string]> = [
    ['workload', result.workload],
    ['nemesis', result.nemesis.join(', ') || 'none'],
    ['seed', String(result.seed)],
    ['operations', `${result.ops} (${result.okOps} ok, ${result.failOps} fail, ${result.infoOps} info)`],
    ['faults injected', Object.entries(result.faults).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'],
    ...(result.powerCuts !== undefined ? [powerRow(result.powerCuts)] : []),
    ...(result.corruptions !== undefined ? [corruptionRow(result.corruptions)] : []),
    ['acknowledged enqueues', String(q.acknowledged)],
    ['lost', `${q.lost}${q.lostPossiblyHeld > 0 ? ` (${q.lostPossiblyHeld} held by a named receive with unknown outcome; see Excuses)` : ''}`],
    ['unexpected', String(q.unexpected)],
    ['recovered (unknown outcome, present)', String(q.recovered)],
    ['failed but present', String(q.failedButPresent)],
    ['duplicated values', `${q.duplicated} (${q.expectedRedeliveries} expected redeliveries: ${byCause('nack')} after a nack, ${byCause('nack-unknown')} after a nack of unknown outcome, ${byCause('lease-expired')} after the lease ended, ${q.expectedRedeliveries - q.redeliveries.length} under clock faults; ${q.doubleDeliveries} double deliveries)`],
    ['dedup', `${result.dedup.keys} keys, ${result.dedup.retriedKeys} sent more than once, ${result.dedup.misses.length} misses`],
    ['ack violations', String(q.ackViolations)],
    ['drain complete', String(result.drainComplete)],
    ['disk-fault stops', result.diskStops.map((d) => `${d.id} under ${d.fault}`).join(', ') || 'none'],
    ['node crashes', result.nodeCrashes.map((c) => `${c.id} (${c.signal ?? `exit ${c.code}`})`).join(', ') || 'none'],
  ];
  if (result.fifo !== undefined) rows.push(['FIFO order violations', `${result.fifo.orderViolations} over ${result.fifo.groups} groups`]);
  if (result.linearizable !== undefined) {
    rows.push(['linearizable', `${result.linearizable.valid}${result.linearizable.valid === 'unknown' ? ' (undecided: fails the run)' : ''}`]);
    for (const [name, p] of Object.entries(result.linearizable.partitions)) rows.push([`  ${name}`, `${p.valid} (${p.ops} ops, ${p.explored} states${p.reason !== undefined ? `; ${p.reason}` : ''})`]);
  }
  const examples = [...q.examples, ...(result.fifo?.examples ?? []), ...result.dedup.examples];
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>raftq jepsen-like: ${esc(result.workload)} seed ${result.seed}</title>
<style>body{font-family:sans-serif;margin:20px}table{border-collapse:collapse}td{padding:2px 10px;border-bottom:1px solid #eee}svg{border:1px solid #ccc;background:#fff}</style></head><body>
<h1>raftq jepsen-like run: ${verdict}</h1>
<table>${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>
${examples.length > 0 ? `<h3>Examples</h3><ul>${examples.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}
${excuses.length > 0 ? `<h3>Excuses</h3><p>Each anomaly the checkers accepted and the operation (history index #) that explains it${excuses.length > excusesShownMax ? `; the first ${excusesShownMax} of ${excuses.length}, all in results.json` : ''}.</p><ul>${excuses.slice(0, excusesShownMax).map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}
<h2>Operations per worker</h2><p>Bars run from invocation to completion: <span style="color:${colors.ok}">ok</span>, <span style="color:${colors.fail}">fail</span>, <span style="color:${colors.info}">info (unknown)</span>; shaded: nemesis active. Hover for details.</p>
<svg width="${width}" height="${timelineH}">${shade}${bars}${labels}</svg>
<h2>Latency over time</h2>
<svg width="${width}" height="${latH}">${shade.replace(/height="\d+"/g, `height="${latH}"`)}${dots}${ticks}</svg>
</body></html>`;
  writeFileSync(path, html);
}
