import { randomBytes } from 'node:crypto';
import { UsageError, intFlag, nodesOf, stringFlag, type CommandSpec, type ParsedArgs } from './cli-args.js';
import { out, type CliCommand } from './client-session.js';
import { runBacklog, describeBacklog, type BacklogSettings } from './bench-backlog.js';
import { runDrain, describeDrain, type DrainSettings } from './bench-drain.js';
import { runFailover, describeFailover, type FailoverSettings } from './bench-failover.js';
import { runPinned, describePinned, pinnedLeaseMsDefault, type PinnedSettings } from './bench-pinned.js';
import { runProduce, describeProduce, type ProduceSettings } from './bench-produce.js';

export type { BenchResult } from './bench-produce.js';
export type { DrainResult } from './bench-drain.js';
export type { FailoverResult } from './bench-failover.js';
export type { BacklogResult } from './bench-backlog.js';
export type { PinnedResult } from './bench-pinned.js';

/** The scenarios of `raftq bench --scenario NAME`. */
export const benchScenarios = ['produce', 'drain', 'failover', 'backlog', 'pinned'] as const;
/** One scenario name. */
export type BenchScenario = (typeof benchScenarios)[number];

const benchSpec: CommandSpec = {
  usage: `usage: raftq bench [--scenario produce|drain|failover|backlog|pinned] [flags]

Load tests against a running cluster. Every acknowledgement is durable (committed on a majority
of nodes, fsynced, applied). A progress line goes to stderr while a scenario runs; the result is
a human summary on stdout, or one JSON object with --json.

scenarios:
  produce (default)  producers send messages of SIZE bytes for DURATION seconds, each waiting for
                     its acknowledgement before sending the next; consumers (optional) receive and
                     ack them. Messages per second and latency percentiles.
  drain              preload MESSAGES messages (sendBatch of 100, IN-FLIGHT batches at once), then
                     CONSUMERS consumers, each on its own connection (consumer k starts at node
                     k % nodes of --nodes; the client library then follows the leader), receive
                     and ack every message (client.consume, one ack per message) until the queue
                     is empty. Preload and drain msgs/s; checks that nothing is left (exit 1 if so).
  failover           PRODUCERS writers (client library: retried, deduplicated sends) each await
                     their acknowledgement; after WARM seconds the leader (found through each
                     node's GET /v1/cluster) gets --signal; writing goes on for DURATION seconds.
                     Longest gap between acknowledged writes, the gap spanning the signal, first
                     ack after it, and a read-back: visible messages == acknowledged writes (exit 1
                     if any acknowledged write is lost). STOP freezes the leader (a silent
                     partition); it gets SIGCONT after the run. Signals a pid: the cluster must
                     run on this machine, as the same user.
  backlog            preload MESSAGES messages (incompressible bodies, sendBatch of 100, IN-FLIGHT
                     batches at once), then report each node's RSS (GET /v1/cluster) and the time
                     taken. The queue and its backlog are left in place.
  pinned             send one message and receive it under a LEASE-second lease without ever
                     acking it, then pass BYTES more through the same queue (sendBatch of 100,
                     IN-FLIGHT batches at once, as many receivers acking what they get) and check
                     that the pinned message is still held. Measure the nodes' data directories
                     meanwhile (npm run bench:compare -- --only pinned does). Exit 1 if it is not.

flags (the scenarios each flag applies to in brackets):
  --scenario NAME     produce, drain, failover, backlog or pinned (default produce)
  --producers N       concurrent producers [produce: default 64; failover: default 16]
  --consumers N       concurrent consumers [produce: default 0, each with up to 16 messages in
                      hand; drain: default 4]
  --size BYTES        message body size [all: default 256, backlog 1024, pinned 16384]
  --duration S        seconds to run [produce: default 10; failover: after the signal, default 10]
  --batch N           messages per send, 1..100 [produce: default 1]
  --messages N        messages to preload [drain: default 100000; backlog: default 1000000]
  --prefetch N        messages each drain consumer has in hand, acked one by one [drain: default 100]
  --in-flight N       preload batches in flight [drain: default 4; backlog: default 8; pinned:
                      default 4, and as many receivers]
  --bytes N           body bytes to pass after the pinned message [pinned: default 2147483648]
  --lease S           lease of the pinned message, at most 43200 [pinned: default 43200]
  --warm S            seconds of writing before the signal [failover: default 4]
  --signal SIG        KILL or STOP [failover: default KILL]
  --request-timeout MS  per-attempt timeout of the writers' client [failover: default 2000]
  --keepalive MS      the writers' client presumes a node silent for twice this dead [failover:
                      default 250]
  --queue NAME        queue to use, created if missing and kept (default: a new queue
                      bench-XXXXXX, deleted afterwards; backlog keeps it and prints its name)
  --http              use the leader's HTTP API instead of the binary protocol [produce]
  --connections N     binary connections shared by the producers [produce, failover: default 1]
  --json              print the result as one JSON object`,
  flags: {
    scenario: { type: 'string' },
    producers: { type: 'string' },
    consumers: { type: 'string' },
    size: { type: 'string' },
    duration: { type: 'string' },
    batch: { type: 'string' },
    messages: { type: 'string' },
    prefetch: { type: 'string' },
    'in-flight': { type: 'string' },
    bytes: { type: 'string' },
    lease: { type: 'string' },
    warm: { type: 'string' },
    signal: { type: 'string' },
    'request-timeout': { type: 'string' },
    keepalive: { type: 'string' },
    queue: { type: 'string' },
    http: { type: 'boolean' },
    connections: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 0, max: 0 },
};

/** The flags each scenario takes (besides --scenario, --json, --queue and the global flags). */
const scenarioFlags: Readonly<Record<BenchScenario, readonly string[]>> = {
  produce: ['producers', 'consumers', 'size', 'duration', 'batch', 'http', 'connections'],
  drain: ['messages', 'consumers', 'size', 'prefetch', 'in-flight'],
  failover: ['producers', 'size', 'duration', 'warm', 'signal', 'request-timeout', 'keepalive', 'connections'],
  backlog: ['messages', 'size', 'in-flight'],
  pinned: ['bytes', 'size', 'lease', 'in-flight'],
};

const commonFlags = new Set(['scenario', 'json', 'queue', 'nodes', 'timeout', 'help']);

/** The scenario named by --scenario; a flag that does not apply to it is a UsageError. */
function scenarioOf(args: ParsedArgs): BenchScenario {
  const name = stringFlag(args, 'scenario') ?? 'produce';
  const scenario = benchScenarios.find((s) => s === name);
  if (scenario === undefined) throw new UsageError(`--scenario must be one of ${benchScenarios.join(', ')}, got "${name}"`, benchSpec.usage);
  const allowed = new Set(scenarioFlags[scenario]);
  for (const [flag, value] of Object.entries(args.values)) {
    if (value === undefined || commonFlags.has(flag) || allowed.has(flag)) continue;
    throw new UsageError(`--${flag} does not apply to --scenario ${scenario}`, benchSpec.usage);
  }
  return scenario;
}

/** The queue: --queue (kept), or a fresh bench-XXXXXX. */
function queueOf(args: ParsedArgs): { queue: string; temporaryQueue: boolean } {
  const given = stringFlag(args, 'queue');
  if (given === '') throw new UsageError('--queue must not be empty', benchSpec.usage);
  return { queue: given ?? `bench-${randomBytes(4).toString('hex')}`, temporaryQueue: given === undefined };
}

function int(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  return intFlag(args, benchSpec, name, fallback, min, max);
}

function produceSettings(args: ParsedArgs): ProduceSettings {
  return {
    ...queueOf(args),
    producers: int(args, 'producers', 64, 0, 10_000),
    consumers: int(args, 'consumers', 0, 0, 1000),
    size: int(args, 'size', 256, 1, 1024 * 1024),
    durationMs: int(args, 'duration', 10, 1, 86_400) * 1000,
    batch: int(args, 'batch', 1, 1, 100),
    http: args.values['http'] === true,
    connections: int(args, 'connections', 1, 1, 64),
  };
}

function drainSettings(args: ParsedArgs): DrainSettings {
  return {
    ...queueOf(args),
    messages: int(args, 'messages', 100_000, 1, 5_000_000),
    consumers: int(args, 'consumers', 4, 1, 256),
    size: int(args, 'size', 256, 1, 1024 * 1024),
    prefetch: int(args, 'prefetch', 100, 1, 10_000),
    inFlight: int(args, 'in-flight', 4, 1, 64),
  };
}

function failoverSettings(args: ParsedArgs): FailoverSettings {
  const signal = stringFlag(args, 'signal') ?? 'KILL';
  if (signal !== 'KILL' && signal !== 'STOP') throw new UsageError(`--signal must be KILL or STOP, got "${signal}"`, benchSpec.usage);
  return {
    ...queueOf(args),
    producers: int(args, 'producers', 16, 1, 10_000),
    size: int(args, 'size', 256, 1, 1024 * 1024),
    durationMs: int(args, 'duration', 10, 1, 3600) * 1000,
    warmMs: int(args, 'warm', 4, 1, 3600) * 1000,
    signal,
    requestTimeoutMs: int(args, 'request-timeout', 2000, 50, 600_000),
    keepAliveMs: int(args, 'keepalive', 250, 50, 600_000),
    connections: int(args, 'connections', 1, 1, 64),
  };
}

function backlogSettings(args: ParsedArgs): BacklogSettings {
  const given = stringFlag(args, 'queue');
  if (given === '') throw new UsageError('--queue must not be empty', benchSpec.usage);
  return {
    queue: given ?? `bench-backlog-${randomBytes(4).toString('hex')}`,
    messages: int(args, 'messages', 1_000_000, 1, 100_000_000),
    size: int(args, 'size', 1024, 1, 1024 * 1024),
    inFlight: int(args, 'in-flight', 8, 1, 64),
  };
}

function pinnedSettings(args: ParsedArgs): PinnedSettings {
  return {
    ...queueOf(args),
    bytes: int(args, 'bytes', 2 * 1024 ** 3, 1, 2 ** 50),
    size: int(args, 'size', 16 * 1024, 1, 1024 * 1024),
    leaseMs: int(args, 'lease', pinnedLeaseMsDefault / 1000, 1, pinnedLeaseMsDefault / 1000) * 1000,
    inFlight: int(args, 'in-flight', 4, 1, 64),
  };
}

const bench: CliCommand = {
  summary: 'load tests: produce, drain, failover, backlog, pinned (msgs/s, latency, gaps, RSS)',
  spec: benchSpec,
  run: async (args) => {
    const scenario = scenarioOf(args);
    const nodes = nodesOf(args, benchSpec);
    const timeoutMs = int(args, 'timeout', 5000, 0, 3_600_000);
    const json = args.values['json'] === true;
    const print = <T>(result: T, describe: (r: T) => string): void => out(json ? JSON.stringify(result) : describe(result));
    switch (scenario) {
      case 'produce': {
        const r = await runProduce(nodes, timeoutMs, produceSettings(args));
        print(r, describeProduce);
        return r.sent === 0 ? 1 : 0;
      }
      case 'drain': {
        const r = await runDrain(nodes, timeoutMs, drainSettings(args));
        print(r, describeDrain);
        return r.empty && r.acked >= r.toDrain ? 0 : 1;
      }
      case 'failover': {
        const r = await runFailover(nodes, timeoutMs, failoverSettings(args));
        print(r, describeFailover);
        return r.acked > 0 && r.readback.lost === 0 ? 0 : 1;
      }
      case 'backlog': {
        const r = await runBacklog(nodes, timeoutMs, backlogSettings(args));
        print(r, describeBacklog);
        return r.sent === r.messages ? 0 : 1;
      }
      case 'pinned': {
        const r = await runPinned(nodes, timeoutMs, pinnedSettings(args));
        print(r, describePinned);
        return r.held ? 0 : 1;
      }
    }
  },
};

/** The bench command. */
export const benchCommand: Readonly<Record<string, CliCommand>> = { bench };
