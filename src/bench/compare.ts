#!/usr/bin/env node
/**
 * raftq beside its peers (NATS JetStream, RabbitMQ quorum queues, etcd), in one go, on this
 * machine: `npm run bench:compare -- [flags]` (see `usage` in compare-options.ts). Prints
 * progress on stderr, then a machine line and a markdown table of medians, ratios raftq / peer
 * and targets on stdout, and writes every raw result as JSON. One system is under load at a
 * time: the peers are brought up, measured and stopped first (etcd + NATS, then RabbitMQ), then
 * raftq, with a fresh cluster (fresh data directory) per run. The scenarios live in
 * compare-peer-runs.ts and compare-raftq-runs.ts, the table's rows in compare-rows.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from '../cli/cli-args.js';
import { Comparison, log } from './compare-context.js';
import { parseOptions, usage, type Options } from './compare-options.js';
import { etcdAndNats, rabbit } from './compare-peer-runs.js';
import { activePeerDirs } from './compare-peers.js';
import { killAllCommands, sharedBenchDir } from './compare-procs.js';
import { busyPorts, killAllClusters } from './compare-raftq.js';
import { raftqRuns } from './compare-raftq-runs.js';
import { machineLine, markdownTable, type MachineInfo } from './compare-report.js';
import { comparisonRows } from './compare-rows.js';

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
  if (needPeers && shared !== undefined) await phase('etcd + NATS', () => etcdAndNats(cmp, shared));
  if (needRabbit && shared !== undefined) await phase('RabbitMQ', () => rabbit(cmp, shared));
  await phase('raftq', () => raftqRuns(cmp));
  const rows = comparisonRows(cmp);
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
