#!/usr/bin/env node
/**
 * raftq beside its peers (NATS JetStream, RabbitMQ quorum queues, etcd), in one go, on this
 * machine: `npm run bench:compare -- [flags]` (see `usage`). Prints progress on stderr, then a
 * machine line and a markdown table of medians, ratios raftq / peer and targets on stdout, and
 * writes every raw result as JSON. One system is under load at a time: the peers are brought
 * up, measured and stopped first (etcd + NATS, then RabbitMQ), then raftq, with a fresh cluster
 * (fresh data directory) per run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../cli/cli-args.js';
import { RaftqError } from '../errors.js';
import { activePeerDirs, peersDown, peersUp, runPeerScript } from './compare-peers.js';
import { cliMain, failureOf, hermeticEnv, killAllCommands, lastJsonObject, repoRoot, runCommand, sharedBenchDir } from './compare-procs.js';
import { BenchCluster, busyPorts, killAllClusters } from './compare-raftq.js';
import {
  better,
  buildRow,
  machineLine,
  markdownTable,
  summarize,
  type Aggregate,
  type Attempt,
  type Cell,
  type MachineInfo,
  type Row,
  type RowInput,
  type SystemName,
} from './compare-report.js';

const usage = `usage: npm run bench:compare -- [flags]
       (or: node dist/src/bench/compare.js [flags] after npm run build)

Runs raftq and its peers (etcd and NATS JetStream via ../shared/bench/peers-up.sh, RabbitMQ via
../shared/bench/rabbit-up.sh) on this machine, one system under load at a time, and prints a
markdown table of medians with ratios raftq / peer and the targets of the performance issue.
raftq runs as three \`raftq server\` processes on a fresh data directory per scenario run (and
per failover trial) under data/bench/.

scenarios (--only):
  produce    256 B, 64 producers awaiting acks: raftq binary client vs peers.mjs nats/etcd, rabbit.mjs
  http       peers.mjs raftq against node 1's HTTP port (its role is recorded) vs NATS
  batch      raftq bench --batch 100 with 8 and with 16 producers (the better one counts)
  drain      preload and drain 4 consumers: raftq bench --scenario drain vs consume.mjs nats/rabbit
  failover   kill -9 of the leader under 16 writers, fresh cluster per trial, vs failover.mjs
  partition  SIGSTOP of the leader under 16 writers (raftq only)
  memory     raftq bench --scenario backlog, max node RSS; then restart a follower and the leader
             and time spawn -> GET /ready 200

flags:
  --runs N              runs per throughput scenario, medians reported (default 3)
  --failover-trials N   trials of failover and partition, fresh cluster each (default 5)
  --duration S          seconds per throughput run and of writing after a failover signal (default 10)
  --drain-messages N    messages preloaded and drained (default 100000)
  --backlog N           messages of the memory scenario's backlog (default 1000000)
  --only LIST           comma list of scenarios (default all)
  --skip-peers          do not run etcd and NATS
  --skip-rabbit         do not run RabbitMQ
  --base-port P         raftq node i uses client P+i, peer P+100+i, HTTP P+200+i (default: the local
                        cluster's 700i / 710i / 800i, which the shared scripts assume)
  --out FILE            raw results as JSON (default data/bench/bench-results.json)
  -h, --help            this help`;

const scenarioNames = ['produce', 'http', 'batch', 'drain', 'failover', 'partition', 'memory'] as const;
type Scenario = (typeof scenarioNames)[number];

/** The comparison's settings. */
interface Options {
  readonly runs: number;
  readonly trials: number;
  readonly durationS: number;
  readonly drainMessages: number;
  readonly backlog: number;
  readonly only: ReadonlySet<Scenario>;
  readonly peers: boolean;
  readonly rabbit: boolean;
  readonly basePort: number | undefined;
  readonly out: string;
}

function intOption(values: Record<string, string | boolean | undefined>, name: string, fallback: number, min: number, max: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new UsageError(`--${name} must be an integer, got "${String(v)}"`, usage);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be within ${min}..${max}, got ${n}`, usage);
  return n;
}

/** Parses the command line; throws UsageError. Returns undefined for --help. */
function parseOptions(argv: readonly string[]): Options | undefined {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        runs: { type: 'string' },
        'failover-trials': { type: 'string' },
        duration: { type: 'string' },
        'drain-messages': { type: 'string' },
        backlog: { type: 'string' },
        only: { type: 'string' },
        'skip-peers': { type: 'boolean' },
        'skip-rabbit': { type: 'boolean' },
        'base-port': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e), usage);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v['help'] === true) return undefined;
  const onlyRaw = typeof v['only'] === 'string' ? v['only'] : scenarioNames.join(',');
  const only = new Set<Scenario>();
  for (const part of onlyRaw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const s = scenarioNames.find((n) => n === part);
    if (s === undefined) throw new UsageError(`--only: unknown scenario "${part}" (scenarios: ${scenarioNames.join(', ')})`, usage);
    only.add(s);
  }
  if (only.size === 0) throw new UsageError('--only needs at least one scenario', usage);
  const basePort = v['base-port'] === undefined ? undefined : intOption(v, 'base-port', 0, 1024, 65_535 - 203);
  const root = repoRoot();
  return {
    runs: intOption(v, 'runs', 3, 1, 100),
    trials: intOption(v, 'failover-trials', 5, 1, 100),
    durationS: intOption(v, 'duration', 10, 1, 3600),
    drainMessages: intOption(v, 'drain-messages', 100_000, 1, 5_000_000),
    backlog: intOption(v, 'backlog', 1_000_000, 1, 100_000_000),
    only,
    peers: v['skip-peers'] !== true,
    rabbit: v['skip-rabbit'] !== true,
    basePort,
    out: resolve(typeof v['out'] === 'string' ? v['out'] : join(root, 'data', 'bench', 'bench-results.json')),
  };
}

/** Every attempt, by metric and system: what the JSON file holds. */
type Attempts = Record<string, Partial<Record<SystemName, Attempt[]>>>;

/** Collects attempts as the comparison goes. */
class Recorder {
  readonly attempts: Attempts = {};

  add(metric: string, system: SystemName, a: Attempt): void {
    const bySystem = (this.attempts[metric] ??= {});
    (bySystem[system] ??= []).push(a);
  }

  /** Records `value(raw)` for each metric, or the error for all of them. */
  async measure(metrics: Readonly<Record<string, (raw: Record<string, unknown>) => number>>, system: SystemName, run: () => Promise<Record<string, unknown>>): Promise<void> {
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

  cell(metric: string, system: SystemName, agg: Aggregate = 'median'): Cell | undefined {
    const list = this.attempts[metric]?.[system];
    return list === undefined ? undefined : summarize(list, agg);
  }
}

/** A number field of a JSON result (nested with dots), or NaN. */
function num(raw: Record<string, unknown>, path: string): number {
  let v: unknown = raw;
  for (const k of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' ? v : NaN;
}

/** A positive throughput (a run that acknowledged nothing is an error). */
function rate(raw: Record<string, unknown>, path: string): number {
  const r = num(raw, path);
  if (!(r > 0)) throw new RaftqError('INTERNAL', `no throughput: ${JSON.stringify(raw).slice(0, 200)}`);
  return r;
}

function log(line: string): void {
  process.stderr.write(`[compare ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** The comparison run: options, paths and results. */
class Comparison {
  readonly o: Options;
  readonly rec = new Recorder();
  readonly runDir: string;
  readonly logDir: string;
  readonly shared: string | undefined;

  constructor(o: Options, shared: string | undefined) {
    this.o = o;
    this.shared = shared;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.runDir = join(repoRoot(), 'data', 'bench', `run-${stamp}`);
    this.logDir = join(this.runDir, 'logs');
    mkdirSync(this.logDir, { recursive: true });
  }

  has(s: Scenario): boolean {
    return this.o.only.has(s);
  }

  get duration(): string {
    return String(this.o.durationS);
  }

  // ---- peers ----

  /** etcd and NATS: throughput and drain on one cluster, then one fresh cluster per failover trial. */
  async etcdAndNats(shared: string): Promise<void> {
    const dir = join(this.runDir, 'peers');
    const produce = this.has('produce') || this.has('http');
    const drain = this.has('drain');
    if (produce || drain) {
      log('etcd + NATS: starting (peers-up.sh)');
      try {
        await peersUp(shared, 'peers', dir);
        for (let run = 1; run <= this.o.runs; run++) {
          if (produce) {
            log(`NATS produce run ${run}/${this.o.runs}`);
            await this.rec.measure(produceMetrics, 'nats', () =>
              runPeerScript(shared, 'peers.mjs', ['nats', '64', this.duration, '256'], { label: `nats produce ${run}`, timeoutMs: (this.o.durationS + 120) * 1000 }),
            );
          }
          if (this.has('produce')) {
            log(`etcd produce run ${run}/${this.o.runs}`);
            await this.rec.measure(produceMetrics, 'etcd', () =>
              runPeerScript(shared, 'peers.mjs', ['etcd', '64', this.duration, '256'], { label: `etcd produce ${run}`, timeoutMs: (this.o.durationS + 120) * 1000 }),
            );
          }
          if (drain) {
            log(`NATS drain run ${run}/${this.o.runs}`);
            await this.rec.measure({ 'drain.rate': (r) => rate(r, 'msgs_per_s') }, 'nats', () =>
              runPeerScript(shared, 'consume.mjs', ['nats', String(this.o.drainMessages), '4', '256'], { label: `nats drain ${run}`, timeoutMs: 1_800_000 }),
            );
          }
        }
      } catch (e) {
        this.peerFailed(['nats', ...(this.has('produce') ? (['etcd'] as const) : [])], [...(produce ? ['produce.rate', 'produce.p99'] : []), ...(drain ? ['drain.rate'] : [])], e);
      } finally {
        log('etcd + NATS: stopping');
        await peersDown(shared, dir);
      }
    }
    if (this.has('failover')) {
      for (let trial = 1; trial <= this.o.trials; trial++) {
        log(`etcd + NATS failover trial ${trial}/${this.o.trials}: fresh clusters`);
        try {
          await peersUp(shared, 'peers', dir);
          for (const sys of ['etcd', 'nats'] as const) {
            log(`${sys} failover trial ${trial}/${this.o.trials}`);
            if (sys === 'etcd' && !hasEtcdctl()) {
              this.rec.fail(Object.keys(failoverMetrics), 'etcd', 'etcdctl is not installed (failover.mjs etcd finds the leader with it: apt-get install etcd-client)', 1);
              continue;
            }
            await this.rec.measure(failoverMetrics, sys, () =>
              runPeerScript(shared, 'failover.mjs', [sys, dir, '16', '4', this.duration, '300'], { label: `${sys} failover ${trial}`, timeoutMs: (this.o.durationS + 180) * 1000 }),
            );
          }
        } catch (e) {
          this.peerFailed(['etcd', 'nats'], Object.keys(failoverMetrics), e);
        } finally {
          await peersDown(shared, dir);
        }
      }
    }
  }

  /** RabbitMQ: throughput and drain on one cluster, then one fresh cluster per failover trial. */
  async rabbit(shared: string): Promise<void> {
    const dir = join(this.runDir, 'rabbit');
    const produce = this.has('produce');
    const drain = this.has('drain');
    if (produce || drain) {
      log('RabbitMQ: starting (rabbit-up.sh, about 30 s)');
      try {
        await peersUp(shared, 'rabbit', dir);
        for (let run = 1; run <= this.o.runs; run++) {
          if (produce) {
            log(`RabbitMQ produce run ${run}/${this.o.runs}`);
            await this.rec.measure(produceMetrics, 'rabbit', () =>
              runPeerScript(shared, 'rabbit.mjs', ['64', this.duration, '256'], { label: `rabbit produce ${run}`, timeoutMs: (this.o.durationS + 120) * 1000 }),
            );
          }
          if (drain) {
            log(`RabbitMQ drain run ${run}/${this.o.runs}`);
            await this.rec.measure({ 'drain.rate': (r) => rate(r, 'msgs_per_s') }, 'rabbit', () =>
              runPeerScript(shared, 'consume.mjs', ['rabbit', String(this.o.drainMessages), '4', '256'], { label: `rabbit drain ${run}`, timeoutMs: 1_800_000 }),
            );
          }
        }
      } catch (e) {
        this.peerFailed(['rabbit'], [...(produce ? ['produce.rate', 'produce.p99'] : []), ...(drain ? ['drain.rate'] : [])], e);
      } finally {
        log('RabbitMQ: stopping');
        await peersDown(shared, dir);
      }
    }
    if (this.has('failover')) {
      for (let trial = 1; trial <= this.o.trials; trial++) {
        log(`RabbitMQ failover trial ${trial}/${this.o.trials}: fresh cluster`);
        try {
          await peersUp(shared, 'rabbit', dir);
          await this.rec.measure(failoverMetrics, 'rabbit', () =>
            runPeerScript(shared, 'failover.mjs', ['rabbit', dir, '16', '4', this.duration, '300'], { label: `rabbit failover ${trial}`, timeoutMs: (this.o.durationS + 180) * 1000 }),
          );
        } catch (e) {
          this.peerFailed(['rabbit'], Object.keys(failoverMetrics), e);
        } finally {
          await peersDown(shared, dir);
        }
      }
    }
  }

  /** A peer cluster that did not start (or broke): one error attempt per system and metric. */
  peerFailed(sys: readonly SystemName[], metrics: readonly string[], e: unknown): void {
    const error = e instanceof Error ? e.message : String(e);
    log(`error: ${error}`);
    for (const s of sys) this.rec.fail(metrics, s, error, 1);
  }

  // ---- raftq ----

  /** Runs `fn` against a fresh raftq cluster named `name`, stopped and wiped afterwards. */
  async withCluster<T>(name: string, fn: (c: BenchCluster) => Promise<T>): Promise<T> {
    const c = await BenchCluster.start({ name, dataDir: join(this.runDir, name), logDir: this.logDir, basePort: this.o.basePort });
    try {
      return await fn(c);
    } finally {
      await c.stop();
      c.removeData();
    }
  }

  /** `raftq bench ARGS --nodes ... --json` against `c`: its JSON result (also when it exited 1 with one). */
  async bench(c: BenchCluster, args: readonly string[], label: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const r = await runCommand(process.execPath, [cliMain(), 'bench', ...args, '--nodes', c.nodesFlag, '--json'], { env: hermeticEnv(), label, timeoutMs });
    const out = lastJsonObject(r.stdout);
    if (out === undefined) throw new RaftqError('INTERNAL', `raftq bench ${args.join(' ')}: ${failureOf(r)}`);
    return out;
  }

  async raftq(): Promise<void> {
    const o = this.o;
    const d = this.duration;
    const throughputTimeout = (o.durationS + 120) * 1000;
    for (let run = 1; run <= o.runs && this.has('produce'); run++) {
      log(`raftq produce run ${run}/${o.runs}`);
      await this.rec.measure({ 'produce.rate': (r) => rate(r, 'sentPerS'), 'produce.p99': (r) => num(r, 'sendLatencyMs.p99') }, 'raftq', () =>
        this.withCluster(`raftq-produce-${run}`, (c) => this.bench(c, ['--scenario', 'produce', '--producers', '64', '--size', '256', '--duration', d], `raftq produce ${run}`, throughputTimeout)),
      );
    }
    for (let run = 1; run <= o.runs && this.has('http'); run++) {
      log(`raftq http run ${run}/${o.runs} (peers.mjs raftq against node 1)`);
      await this.rec.measure({ 'http.rate': (r) => rate(r, 'ops_per_s') }, 'raftq', () =>
        this.withCluster(`raftq-http-${run}`, async (c) => {
          const shared = this.shared ?? sharedBenchDir();
          const node1 = c.ids[0]!;
          const role = (await c.roles())[node1];
          const out = await runPeerScript(shared, 'peers.mjs', ['raftq', '64', d, '256'], {
            label: `raftq http ${run}`,
            timeoutMs: throughputTimeout,
            env: hermeticEnv({ RAFTQ_URL: `http://127.0.0.1:${c.httpPort(node1)}` }),
          });
          return { ...out, node: node1, role };
        }),
      );
    }
    for (let run = 1; run <= o.runs && this.has('batch'); run++) {
      for (const producers of [8, 16]) {
        log(`raftq batch run ${run}/${o.runs}, ${producers} producers`);
        await this.rec.measure({ [`batch${producers}.rate`]: (r) => rate(r, 'sentPerS') }, 'raftq', () =>
          this.withCluster(`raftq-batch${producers}-${run}`, (c) =>
            this.bench(c, ['--scenario', 'produce', '--batch', '100', '--producers', String(producers), '--size', '256', '--duration', d], `raftq batch ${producers}p ${run}`, throughputTimeout),
          ),
        );
      }
    }
    for (let run = 1; run <= o.runs && this.has('drain'); run++) {
      log(`raftq drain run ${run}/${o.runs}`);
      await this.rec.measure({ 'drain.rate': (r) => drainRate(r) }, 'raftq', () =>
        this.withCluster(`raftq-drain-${run}`, (c) =>
          this.bench(c, ['--scenario', 'drain', '--messages', String(o.drainMessages), '--consumers', '4', '--size', '256'], `raftq drain ${run}`, 1_800_000),
        ),
      );
    }
    for (const [scenario, signal] of [['failover', 'KILL'], ['partition', 'STOP']] as const) {
      for (let trial = 1; trial <= o.trials && this.has(scenario); trial++) {
        log(`raftq ${scenario} trial ${trial}/${o.trials} (SIG${signal} of the leader)`);
        const metrics = scenario === 'failover' ? failoverMetrics : { 'partition.gap': failoverMetrics['failover.gap']!, 'partition.lost': failoverMetrics['failover.lost']! };
        await this.rec.measure(metrics, 'raftq', () =>
          this.withCluster(`raftq-${scenario}-${trial}`, (c) =>
            this.bench(
              c,
              ['--scenario', 'failover', '--signal', signal, '--producers', '16', '--warm', '4', '--duration', d, '--request-timeout', '300'],
              `raftq ${scenario} ${trial}`,
              (o.durationS + 180) * 1000,
            ),
          ),
        );
      }
    }
    if (this.has('memory')) await this.memory();
  }

  /** The backlog, its RSS, then a follower's and the leader's restart to /ready. */
  async memory(): Promise<void> {
    log(`raftq memory: backlog of ${this.o.backlog} x 1 KiB`);
    try {
      await this.withCluster('raftq-memory', async (c) => {
        await this.rec.measure({ 'memory.rss': (r) => num(r, 'maxRssBytes') / 1048576 }, 'raftq', () =>
          this.bench(c, ['--scenario', 'backlog', '--messages', String(this.o.backlog), '--size', '1024', '--queue', 'bench-backlog'], 'raftq backlog', 4 * 3_600_000),
        );
        for (const which of ['follower', 'leader'] as const) {
          await this.rec.measure({ [`restart.${which}`]: (r) => num(r, 'readyMs') / 1000 }, 'raftq', async () => {
            const leader = (await c.waitForLeader(60_000)).id;
            const roles = await c.roles();
            const id = which === 'leader' ? leader : c.ids.find((n) => n !== leader && roles[n] === 'follower');
            if (id === undefined) throw new RaftqError('UNAVAILABLE', `no ${which} to restart (roles ${JSON.stringify(roles)})`);
            log(`raftq memory: restarting the ${which} ${id} (SIGTERM, wait, start) and waiting for GET /ready`);
            const t = await c.restartTimed(id);
            log(`raftq memory: ${which} ${id} ready ${t.readyMs} ms after its spawn`);
            return { node: id, role: which, ...t };
          });
        }
      });
    } catch (e) {
      // The cluster did not start: every memory figure is that error.
      const error = e instanceof Error ? e.message : String(e);
      log(`error: ${error}`);
      for (const m of ['memory.rss', 'restart.follower', 'restart.leader']) if (this.rec.attempts[m]?.raftq === undefined) this.rec.add(m, 'raftq', { ok: false, error });
    }
  }

  // ---- report ----

  rows(): Row[] {
    const rec = this.rec;
    const all = (metric: string, agg: Aggregate = 'median'): RowInput['cells'] => ({
      raftq: rec.cell(metric, 'raftq', agg),
      nats: rec.cell(metric, 'nats', agg),
      rabbit: rec.cell(metric, 'rabbit', agg),
      etcd: rec.cell(metric, 'etcd', agg),
    });
    const rows: RowInput[] = [];
    if (this.has('produce')) {
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
    if (this.has('http')) {
      rows.push({
        scenario: `http: peers.mjs raftq via node 1 (${this.httpRoles()})`,
        unit: 'msgs/s',
        cells: { raftq: rec.cell('http.rate', 'raftq'), nats: rec.cell('produce.rate', 'nats') },
        targets: [{ kind: 'ratio', peer: 'nats', min: 0.6 }],
        ratioPeers: ['nats'],
      });
    }
    if (this.has('batch')) {
      const b8 = rec.cell('batch8.rate', 'raftq');
      const b16 = rec.cell('batch16.rate', 'raftq');
      const best = better(b8 === undefined ? { ok: 0, of: 0 } : { ...b8, note: '8 producers' }, b16 === undefined ? { ok: 0, of: 0 } : { ...b16, note: '16 producers' });
      rows.push({ scenario: 'batch: sendBatch of 100, 256 B (better of 8 / 16 producers)', unit: 'msgs/s', cells: { raftq: best }, targets: [{ kind: 'atLeast', min: 100_000 }], ratioPeers: [] });
    }
    if (this.has('drain')) {
      rows.push({
        scenario: `drain: ${this.o.drainMessages.toLocaleString('en-US')} x 256 B, 4 consumers, ack per message`,
        unit: 'msgs/s',
        cells: { raftq: rec.cell('drain.rate', 'raftq'), nats: rec.cell('drain.rate', 'nats'), rabbit: rec.cell('drain.rate', 'rabbit') },
        targets: [{ kind: 'ratio', peer: 'rabbit', min: 1 }],
        ratioPeers: ['nats', 'rabbit'],
      });
    }
    if (this.has('failover')) {
      rows.push({ scenario: `failover: kill -9 of the leader, 16 writers, longest gap (median of ${this.o.trials})`, unit: 's', cells: all('failover.gap'), targets: [{ kind: 'atMost', max: 0.5 }] });
      rows.push({ scenario: 'failover: acknowledged writes lost (sum over trials)', unit: '', cells: all('failover.lost', 'sum'), targets: [{ kind: 'atMost', max: 0 }], ratioPeers: [] });
    }
    if (this.has('partition')) {
      rows.push({ scenario: `partition: SIGSTOP of the leader, 16 writers, longest gap (median of ${this.o.trials})`, unit: 's', cells: { raftq: rec.cell('partition.gap', 'raftq') }, targets: [{ kind: 'atMost', max: 1.5 }], ratioPeers: [] });
      rows.push({ scenario: 'partition: acknowledged writes lost (sum over trials)', unit: '', cells: { raftq: rec.cell('partition.lost', 'raftq', 'sum') }, targets: [{ kind: 'atMost', max: 0 }], ratioPeers: [] });
    }
    if (this.has('memory')) {
      rows.push({ scenario: `memory: max node RSS, ${this.o.backlog.toLocaleString('en-US')} x 1 KiB backlog`, unit: 'MB', cells: { raftq: rec.cell('memory.rss', 'raftq', 'max') }, targets: [{ kind: 'atMost', max: 400 }], ratioPeers: [] });
      rows.push({ scenario: 'memory: follower restart with the backlog, spawn to /ready', unit: 's', cells: { raftq: rec.cell('restart.follower', 'raftq') }, targets: [{ kind: 'atMost', max: 10 }], ratioPeers: [] });
      rows.push({ scenario: 'memory: leader restart with the backlog, spawn to /ready', unit: 's', cells: { raftq: rec.cell('restart.leader', 'raftq') }, targets: [{ kind: 'atMost', max: 10 }], ratioPeers: [] });
    }
    return rows.map(buildRow);
  }

  /** Node 1's roles over the http runs, e.g. "follower in 2 runs, leader in 1". */
  httpRoles(): string {
    const counts = new Map<string, number>();
    for (const a of this.rec.attempts['http.rate']?.raftq ?? []) {
      const role = typeof a.raw === 'object' && a.raw !== null ? (a.raw as Record<string, unknown>)['role'] : undefined;
      if (typeof role === 'string') counts.set(role, (counts.get(role) ?? 0) + 1);
    }
    if (counts.size === 0) return 'role unknown';
    return [...counts].map(([role, n], i) => `${role} in ${n}${i === 0 ? ` run${n === 1 ? '' : 's'}` : ''}`).join(', ');
  }
}

/** Produce figures of peers.mjs / rabbit.mjs: throughput and p99 latency. */
const produceMetrics: Record<string, (r: Record<string, unknown>) => number> = {
  'produce.rate': (r) => rate(r, 'ops_per_s'),
  'produce.p99': (r) => num(r, 'p99_ms'),
};

/** Failover figures: longest gap (s) and lost acknowledged writes, from failover.mjs or raftq bench. */
const failoverMetrics: Record<string, (r: Record<string, unknown>) => number> = {
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

/** Whether etcdctl runs (failover.mjs etcd needs it). */
function hasEtcdctl(): boolean {
  return spawnSync('etcdctl', ['version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/** raftq's drain rate; a drain that left messages behind is an error. */
function drainRate(r: Record<string, unknown>): number {
  if (r['empty'] !== true) throw new RaftqError('INTERNAL', `the drain left messages behind: ${JSON.stringify(r['left'])}`);
  return rate(r, 'drainPerS');
}

function machine(): MachineInfo {
  const c = cpus();
  return { cores: c.length, model: c[0]?.model.trim() ?? 'unknown', totalMemoryBytes: totalmem(), node: process.version, date: new Date().toISOString() };
}

/** Stops whatever is still running after Ctrl-C: raftq nodes, commands, peer clusters. */
function installInterruptHandler(shared: string | undefined): void {
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n[compare] ${sig}: stopping everything\n`);
    killAllCommands();
    killAllClusters();
    if (shared !== undefined) for (const dir of activePeerDirs) spawnSync('bash', [join(shared, 'stop.sh'), dir], { stdio: 'inherit', timeout: 120_000 });
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function main(argv: readonly string[]): Promise<number> {
  let o: Options | undefined;
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error INVALID_ARGUMENT: ${e.message}\n${usage.split('\n')[0]}\nhint: see npm run bench:compare -- --help\n`);
    return 2;
  }
  if (o === undefined) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const needPeers = o.peers && (o.only.has('produce') || o.only.has('http') || o.only.has('drain') || o.only.has('failover'));
  const needRabbit = o.rabbit && (o.only.has('produce') || o.only.has('drain') || o.only.has('failover'));
  let shared: string | undefined;
  if (needPeers || needRabbit || o.only.has('http')) {
    try {
      shared = sharedBenchDir();
    } catch (e) {
      process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  }
  // Fail fast rather than after the peers' runs: raftq's ports must be free.
  const busy = await busyPorts(o.basePort);
  if (busy.length > 0) {
    process.stderr.write(`error: raftq's benchmark ports ${busy.join(', ')} are in use (a running cluster?); stop it or pick free ports with --base-port P (node i: P+i, P+100+i, P+200+i)\n`);
    return 1;
  }
  installInterruptHandler(shared);
  const info = machine();
  const started = new Date().toISOString();
  const cmp = new Comparison(o, shared);
  log(`${machineLine(info)}; results under ${cmp.runDir}`);
  const phase = async (name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      log(`error in ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  if (needPeers && shared !== undefined) await phase('etcd + NATS', () => cmp.etcdAndNats(shared));
  if (needRabbit && shared !== undefined) await phase('RabbitMQ', () => cmp.rabbit(shared));
  await phase('raftq', () => cmp.raftq());
  const rows = cmp.rows();
  const table = markdownTable(rows);
  mkdirSync(dirname(o.out), { recursive: true });
  const raw = {
    machine: info,
    startedAt: started,
    finishedAt: new Date().toISOString(),
    options: { ...o, only: [...o.only] },
    logs: cmp.logDir,
    attempts: cmp.rec.attempts,
    rows,
  };
  writeFileSync(o.out, JSON.stringify(raw, null, 2) + '\n');
  process.stdout.write(`${machineLine(info)}\n\n${table}\n\nraw results: ${o.out}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    killAllCommands();
    killAllClusters();
    process.exitCode = 1;
  },
);
