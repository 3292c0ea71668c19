import { join, resolve } from 'node:path';
import { unsafeModes, type UnsafeMode } from '../src/server/test-hooks.js';
import { corruptScopes, type CorruptScope } from './corrupt-nemesis.js';
import { allNemesisKinds, nemesisKinds, type NemesisKind } from './nemesis.js';
import { runTest, type RunResult } from './runner.js';
import { workloadNames, type WorkloadName } from './workloads.js';

const usage = `usage: npm run jepsen -- [--workload queue|fifo|linearizable] [--nemesis kill,pause,partition,clock,latency,power,disk,corrupt|all|none]
                       [--time SECONDS] [--seed N] [--runs N] [--nodes 3|5] [--workers N] [--out DIR]
                       [--client library|http|sqs] [--unsafe ${unsafeModes.join('|')}] [--power-torn]
                       [--corrupt-scope ${corruptScopes.join('|')}]

Runs raftq under faults against real node processes and checks the history. One run prints its
verdict and the report path; --runs N runs seeds N, N+1, ... and prints a summary table. The same
seed replays the same fault schedule. Exit code 1 if any run is invalid. \`all\` is every nemesis
but power, disk and corrupt, which must be named. power (power loss on one node, a minority or
all nodes: kill -9, unsynced writes discarded, restart) and disk (one node's disk full, fsyncs
failing with EIO, or its logs unreadable at a restart: the node stops with exit 3 and is
restarted at the heal) put each node's data directory on a powerfs FUSE mount.
--power-torn (no value) makes every power cut tear the last unsynced write of each file: a
prefix of it, cut at a 512-byte boundary and chosen by the run's seed, survives.
corrupt kills a minority of nodes (one of 3, up to two of 5), damages one data file of each (flip
1-8 bits, truncate, or zero a 4 KiB chunk; file, offsets and mode from the seed) and restarts them
at the heal; the damaged node must repair itself from its peers. --corrupt-scope all damages every
node in each fault, which raftq may answer by stopping: for negative controls only.`;

interface Args {
  workload: WorkloadName;
  nemesis: NemesisKind[];
  timeS: number;
  seed: number;
  runs: number;
  nodes: number;
  workers: number;
  out: string;
  unsafe?: UnsafeMode;
  client?: 'library' | 'http' | 'sqs';
  powerTorn: boolean;
  corruptScope?: CorruptScope;
}

function parse(argv: readonly string[]): Args | string {
  const a: Args = { workload: 'queue', nemesis: ['kill', 'pause', 'partition', 'clock'], timeS: 30, seed: 1, runs: 1, nodes: 3, workers: 8, out: 'jepsen-like/runs', powerTorn: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') return usage;
    if (flag === '--power-torn') {
      a.powerTorn = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) return `error INVALID_ARGUMENT: ${flag} needs a value\n\n${usage}`;
    const int = (min: number, max: number): number | string => {
      const n = Number(v);
      return Number.isInteger(n) && n >= min && n <= max ? n : `error INVALID_ARGUMENT: ${flag} must be an integer in ${min}..${max}, got ${v}`;
    };
    let r: number | string = 0;
    switch (flag) {
      case '--workload':
        if (!workloadNames.includes(v as WorkloadName)) return `error INVALID_ARGUMENT: --workload must be one of ${workloadNames.join(', ')}`;
        a.workload = v as WorkloadName;
        break;
      case '--nemesis': {
        const list = v === 'all' ? [...allNemesisKinds] : v === 'none' ? [] : v.split(',');
        for (const k of list) if (!nemesisKinds.includes(k as NemesisKind)) return `error INVALID_ARGUMENT: unknown nemesis "${k}" (known: ${nemesisKinds.join(', ')}, all, none)`;
        a.nemesis = list as NemesisKind[];
        break;
      }
      case '--time':
        r = int(5, 3600);
        if (typeof r === 'number') a.timeS = r;
        break;
      case '--seed':
        r = int(0, 2 ** 31);
        if (typeof r === 'number') a.seed = r;
        break;
      case '--runs':
        r = int(1, 10_000);
        if (typeof r === 'number') a.runs = r;
        break;
      case '--nodes':
        r = int(3, 5);
        if (typeof r === 'number') a.nodes = r;
        break;
      case '--workers':
        r = int(1, 64);
        if (typeof r === 'number') a.workers = r;
        break;
      case '--out':
        a.out = v;
        break;
      case '--client':
        if (v !== 'library' && v !== 'http' && v !== 'sqs') return 'error INVALID_ARGUMENT: --client must be library, http or sqs';
        a.client = v;
        break;
      case '--corrupt-scope':
        if (!(corruptScopes as readonly string[]).includes(v)) return `error INVALID_ARGUMENT: --corrupt-scope must be one of ${corruptScopes.join(', ')}`;
        a.corruptScope = v as CorruptScope;
        break;
      case '--unsafe':
        if (!(unsafeModes as readonly string[]).includes(v)) return `error INVALID_ARGUMENT: --unsafe must be one of ${unsafeModes.join(', ')}`;
        a.unsafe = v as UnsafeMode;
        break;
      default:
        return `error INVALID_ARGUMENT: unknown flag ${flag}\n\n${usage}`;
    }
    if (typeof r === 'string') return r;
  }
  return a;
}

function summaryLine(r: RunResult): string {
  const lin = r.linearizable === undefined ? '-' : String(r.linearizable.valid);
  const faults = Object.values(r.faults).reduce((s, n) => s + n, 0);
  const p = r.powerCuts?.cuts;
  const power = p === undefined ? '-' : `${p.one}/${p.minority}/${p.all}`;
  return [String(r.seed).padStart(6), (r.valid ? 'valid' : 'INVALID').padEnd(8), String(r.ops).padStart(7), String(faults).padStart(6), power.padStart(7), String(r.queue.acknowledged).padStart(6), String(r.queue.lost).padStart(5), String(r.queue.unexpected).padStart(6), String(r.queue.duplicated).padStart(6), lin.padEnd(8)].join(' ');
}

/** "power cuts: one 2, minority 1, all 1 (discarded ...)" over `rs`, or '' without powerfs. */
function powerLine(rs: readonly RunResult[]): string {
  const ps = rs.map((r) => r.powerCuts).filter((p) => p !== undefined);
  if (ps.length === 0) return '';
  const sum = (f: (p: (typeof ps)[number]) => number): number => ps.reduce((s, p) => s + f(p), 0);
  return `power cuts: one ${sum((p) => p.cuts.one)}, minority ${sum((p) => p.cuts.minority)}, all ${sum((p) => p.cuts.all)} (discarded ${sum((p) => p.bytesDiscarded)} bytes in ${sum((p) => p.filesReverted)} files, ${sum((p) => p.entriesReverted)} directory entries)`;
}

/** "corruptions (scope minority): flip 2, truncate 1, zero 1 (files damaged: 4, table 3, write-ahead-log 1; ...)" over `rs`, or '' without corrupt. */
function corruptionLine(rs: readonly RunResult[]): string {
  const cs = rs.map((r) => r.corruptions).filter((c) => c !== undefined);
  if (cs.length === 0) return '';
  const sum = (f: (c: (typeof cs)[number]) => number): number => cs.reduce((s, c) => s + f(c), 0);
  const damages = cs.flatMap((c) => c.damages);
  const byRole = new Map<string, number>();
  for (const d of damages) byRole.set(d.role, (byRole.get(d.role) ?? 0) + 1);
  const roles = [...byRole].map(([role, n]) => `${role} ${n}`).join(', ');
  return `corruptions (scope ${[...new Set(cs.map((c) => c.scope))].join('/')}): flip ${sum((c) => c.faults.flip)}, truncate ${sum((c) => c.faults.truncate)}, zero ${sum((c) => c.faults.zero)} (files damaged: ${damages.length}${roles !== '' ? `, ${roles}` : ''}; each damage in the run's history and report)`;
}

async function main(argv: readonly string[]): Promise<number> {
  const a = parse(argv);
  if (typeof a === 'string') {
    const isHelp = a === usage;
    (isHelp ? process.stdout : process.stderr).write(a + '\n');
    return isHelp ? 0 : 2;
  }
  if (a.powerTorn && !a.nemesis.includes('power')) {
    process.stderr.write('error INVALID_ARGUMENT: --power-torn needs --nemesis power\n');
    return 2;
  }
  if (a.corruptScope !== undefined && !a.nemesis.includes('corrupt')) {
    process.stderr.write('error INVALID_ARGUMENT: --corrupt-scope needs --nemesis corrupt\n');
    return 2;
  }
  const results: RunResult[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (let k = 0; k < a.runs; k++) {
    const seed = a.seed + k;
    const dir = resolve(join(a.out, `${stamp}-${a.workload}-s${seed}`));
    process.stdout.write(`run ${k + 1}/${a.runs}: workload ${a.workload}, nemesis ${a.nemesis.join(',') || 'none'}${a.powerTorn ? ' (torn writes)' : ''}${a.corruptScope === 'all' ? ' (corrupting every node)' : ''}, seed ${seed}${a.unsafe !== undefined ? `, UNSAFE ${a.unsafe}` : ''}\n`);
    const r = await runTest({ workload: a.workload, nemesis: a.nemesis, timeS: a.timeS, seed, nodes: a.nodes, workers: a.workers, dir, ...(a.client !== undefined ? { client: a.client } : {}), ...(a.unsafe !== undefined ? { unsafe: a.unsafe } : {}), ...(a.powerTorn ? { powerTorn: true } : {}), ...(a.corruptScope !== undefined ? { corruptScope: a.corruptScope } : {}), progress: (s) => process.stdout.write(s + '\n') });
    results.push(r);
    const q = r.queue;
    process.stdout.write(
      `${r.valid ? 'VALID' : 'INVALID'}: ${r.ops} ops, ${q.acknowledged} acknowledged enqueues, lost ${q.lost}${q.lostPossiblyHeld > 0 ? ` (${q.lostPossiblyHeld} held by named unknown receives)` : ''}, unexpected ${q.unexpected}, recovered ${q.recovered}, duplicated ${q.duplicated} (${q.doubleDeliveries} double deliveries), ack violations ${q.ackViolations}, dedup misses ${r.dedup.misses.length} (${r.dedup.retriedKeys} keys sent more than once)` +
        (r.fifo !== undefined ? `, FIFO violations ${r.fifo.orderViolations}` : '') +
        (r.linearizable !== undefined ? `, linearizable ${r.linearizable.valid}` : '') +
        (r.nodeCrashes.length > 0 ? `, node crashes ${r.nodeCrashes.map((c) => c.id).join(',')}` : '') +
        (r.diskStops.length > 0 ? `\ndisk-fault stops (expected): ${r.diskStops.map((d) => `${d.id} under ${d.fault}`).join(', ')}` : '') +
        (r.drainComplete ? '' : ', drain INCOMPLETE') +
        (r.powerCuts !== undefined ? `\n${powerLine([r])}` : '') +
        (r.corruptions !== undefined ? `\n${corruptionLine([r])}` : '') +
        `\nreport: ${join(dir, 'report.html')}\n`,
    );
  }
  if (a.runs > 1) {
    process.stdout.write(`\n  seed verdict       ops faults power*  acked  lost unexp.  dups. lin.\n`);
    for (const r of results) process.stdout.write(summaryLine(r) + '\n');
    const invalid = results.filter((r) => !r.valid).length;
    const sum = (f: (r: RunResult) => number): number => results.reduce((s, r) => s + f(r), 0);
    process.stdout.write(`total: ${results.length} runs, ${invalid} invalid, ${sum((r) => r.ops)} ops, ${sum((r) => Object.values(r.faults).reduce((s, n) => s + n, 0))} faults, lost ${sum((r) => r.queue.lost)}, unexpected ${sum((r) => r.queue.unexpected)}, duplicated ${sum((r) => r.queue.duplicated)}\n`);
    const pl = powerLine(results);
    if (pl !== '') process.stdout.write(`${pl}\n(* power cuts one/minority/all)\n`);
    const cl = corruptionLine(results);
    if (cl !== '') process.stdout.write(`${cl}\n`);
  }
  return results.every((r) => r.valid) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
