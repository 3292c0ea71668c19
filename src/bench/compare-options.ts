/**
 * The comparison script's command line: its usage text, scenarios and flags, parsed into
 * Options (UsageError on anything wrong).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../cli/cli-args.js';
import { repoRoot } from './compare-procs.js';

/** The comparison's usage text (--help). */
export const usage = `usage: npm run bench:compare -- [flags]
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
  memory     raftq bench --scenario backlog, max node RSS and the largest data directory over the
             live bytes; then restart a follower and the leader and time spawn -> GET /ready 200
  pinned     raftq bench --scenario pinned: one message held under a 12 h lease while
             --pinned-bytes more pass through its queue; the largest node data directory
             (sampled every 2 s) (raftq only)

flags:
  --runs N              runs per throughput scenario, medians reported (default 3)
  --failover-trials N   trials of failover and partition, fresh cluster each (default 5)
  --duration S          seconds per throughput run and of writing after a failover signal (default 10)
  --drain-messages N    messages preloaded and drained (default 100000)
  --backlog N           messages of the memory scenario's backlog (default 1000000)
  --pinned-bytes N      body bytes passed through the pinned scenario's queue (default 2147483648)
  --only LIST           comma list of scenarios (default all)
  --skip-peers          do not run etcd and NATS
  --skip-rabbit         do not run RabbitMQ
  --base-port P         raftq node i uses client P+i, peer P+100+i, HTTP P+200+i (default: the local
                        cluster's 700i / 710i / 800i, which the shared scripts assume)
  --out FILE            raw results as JSON (default data/bench/bench-results.json)
  -h, --help            this help`;

/** The scenarios of --only, in the order they run. */
export const scenarioNames = ['produce', 'http', 'batch', 'drain', 'failover', 'partition', 'memory', 'pinned'] as const;
/** One scenario. */
export type Scenario = (typeof scenarioNames)[number];

/** The comparison's settings. */
export interface Options {
  readonly runs: number;
  readonly trials: number;
  readonly durationS: number;
  readonly drainMessages: number;
  readonly backlog: number;
  /** Body bytes passed through the pinned scenario's queue. */
  readonly pinnedBytes: number;
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
export function parseOptions(argv: readonly string[]): Options | undefined {
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
        'pinned-bytes': { type: 'string' },
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
    pinnedBytes: intOption(v, 'pinned-bytes', 2 * 1024 ** 3, 1, 2 ** 44),
    only,
    peers: v['skip-peers'] !== true,
    rabbit: v['skip-rabbit'] !== true,
    basePort,
    out: resolve(typeof v['out'] === 'string' ? v['out'] : join(root, 'data', 'bench', 'bench-results.json')),
  };
}
