/**
 * raftq's half of the comparison: every raftq scenario of --only, each on a fresh three-node
 * cluster (BenchCluster) driven by `raftq bench ... --json`; the memory scenario also measures
 * the nodes' data directories and restarts, the pinned one samples the directories while it runs.
 */
import { join } from 'node:path';
import { RaftqError } from '../errors.js';
import { drainRate, failoverMetrics, log, num, rate, type Comparison } from './compare-context.js';
import { DiskSampler, dirUsage, mib, sizeText } from './compare-disk.js';
import { runPeerScript } from './compare-peers.js';
import { cliMain, failureOf, hermeticEnv, lastJsonObject, runCommand, sharedBenchDir } from './compare-procs.js';
import { BenchCluster } from './compare-raftq.js';
import { backlogBodyBytes, pinnedBodyBytes } from './compare-report.js';

/** Runs `fn` against a fresh raftq cluster named `name`, stopped and wiped afterwards. */
async function withCluster<T>(cmp: Comparison, name: string, fn: (c: BenchCluster) => Promise<T>): Promise<T> {
  const c = await BenchCluster.start({ name, dataDir: join(cmp.runDir, name), logDir: cmp.logDir, basePort: cmp.o.basePort });
  try {
    return await fn(c);
  } finally {
    await c.stop();
    c.removeData();
  }
}

/** `raftq bench ARGS --nodes ... --json` against `c`: its JSON result (also when it exited 1 with one). */
async function bench(c: BenchCluster, args: readonly string[], label: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const r = await runCommand(process.execPath, [cliMain(), 'bench', ...args, '--nodes', c.nodesFlag, '--json'], { env: hermeticEnv(), label, timeoutMs });
  const out = lastJsonObject(r.stdout);
  if (out === undefined) throw new RaftqError('INTERNAL', `raftq bench ${args.join(' ')}: ${failureOf(r)}`);
  return out;
}

/** Every raftq scenario of --only, in order, each run on a fresh cluster. */
export async function raftqRuns(cmp: Comparison): Promise<void> {
  const o = cmp.o;
  const d = cmp.duration;
  const throughputTimeout = (o.durationS + 120) * 1000;
  for (let run = 1; run <= o.runs && cmp.has('produce'); run++) {
    log(`raftq produce run ${run}/${o.runs}`);
    await cmp.rec.measure({ 'produce.rate': (r) => rate(r, 'sentPerS'), 'produce.p99': (r) => num(r, 'sendLatencyMs.p99') }, 'raftq', () =>
      withCluster(cmp, `raftq-produce-${run}`, (c) => bench(c, ['--scenario', 'produce', '--producers', '64', '--size', '256', '--duration', d], `raftq produce ${run}`, throughputTimeout)),
    );
  }
  for (let run = 1; run <= o.runs && cmp.has('http'); run++) {
    log(`raftq http run ${run}/${o.runs} (peers.mjs raftq against node 1)`);
    await cmp.rec.measure({ 'http.rate': (r) => rate(r, 'ops_per_s') }, 'raftq', () =>
      withCluster(cmp, `raftq-http-${run}`, async (c) => {
        const shared = cmp.shared ?? sharedBenchDir();
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
  for (let run = 1; run <= o.runs && cmp.has('batch'); run++) {
    for (const producers of [8, 16]) {
      log(`raftq batch run ${run}/${o.runs}, ${producers} producers`);
      await cmp.rec.measure({ [`batch${producers}.rate`]: (r) => rate(r, 'sentPerS') }, 'raftq', () =>
        withCluster(cmp, `raftq-batch${producers}-${run}`, (c) =>
          bench(c, ['--scenario', 'produce', '--batch', '100', '--producers', String(producers), '--size', '256', '--duration', d], `raftq batch ${producers}p ${run}`, throughputTimeout),
        ),
      );
    }
  }
  for (let run = 1; run <= o.runs && cmp.has('drain'); run++) {
    log(`raftq drain run ${run}/${o.runs}`);
    await cmp.rec.measure({ 'drain.rate': (r) => drainRate(r) }, 'raftq', () =>
      withCluster(cmp, `raftq-drain-${run}`, (c) =>
        bench(c, ['--scenario', 'drain', '--messages', String(o.drainMessages), '--consumers', '4', '--size', '256'], `raftq drain ${run}`, 1_800_000),
      ),
    );
  }
  for (const [scenario, signal] of [['failover', 'KILL'], ['partition', 'STOP']] as const) {
    for (let trial = 1; trial <= o.trials && cmp.has(scenario); trial++) {
      log(`raftq ${scenario} trial ${trial}/${o.trials} (SIG${signal} of the leader)`);
      const metrics = scenario === 'failover' ? failoverMetrics : { 'partition.gap': failoverMetrics['failover.gap']!, 'partition.lost': failoverMetrics['failover.lost']! };
      await cmp.rec.measure(metrics, 'raftq', () =>
        withCluster(cmp, `raftq-${scenario}-${trial}`, (c) =>
          bench(
            c,
            ['--scenario', 'failover', '--signal', signal, '--producers', '16', '--warm', '4', '--duration', d, '--request-timeout', '300'],
            `raftq ${scenario} ${trial}`,
            (o.durationS + 180) * 1000,
          ),
        ),
      );
    }
  }
  if (cmp.has('memory')) await memory(cmp);
  if (cmp.has('pinned')) await pinned(cmp);
}

/** The backlog, its RSS and disk use, then a follower's and the leader's restart to /ready. */
async function memory(cmp: Comparison): Promise<void> {
  log(`raftq memory: backlog of ${cmp.o.backlog} x 1 KiB`);
  try {
    await withCluster(cmp, 'raftq-memory', async (c) => {
      let sent = 0;
      await cmp.rec.measure({ 'memory.rss': (r) => num(r, 'maxRssBytes') / 1048576 }, 'raftq', async () => {
        const r = await bench(c, ['--scenario', 'backlog', '--messages', String(cmp.o.backlog), '--size', String(backlogBodyBytes), '--queue', 'bench-backlog'], 'raftq backlog', 4 * 3_600_000);
        sent = num(r, 'sent');
        return r;
      });
      // The live bytes: the messages the backlog holds (every one acknowledged) times their size.
      await cmp.rec.measure({ 'disk.ratio': (r) => num(r, 'maxDirBytes') / num(r, 'liveBytes') }, 'raftq', async () => {
        if (sent !== cmp.o.backlog) throw new RaftqError('INTERNAL', `the backlog holds ${sent} of ${cmp.o.backlog} messages: no disk figure`);
        const dirs = await Promise.all(c.ids.map(async (id) => ({ id, ...(await dirUsage(c.nodeDataDir(id))) })));
        const maxDirBytes = Math.max(...dirs.map((d) => d.bytes));
        const liveBytes = sent * backlogBodyBytes;
        log(`raftq memory: data directories ${dirs.map((d) => `${d.id} ${mib(d.bytes)}`).join(', ')} for ${mib(liveBytes)} live`);
        return { liveBytes, maxDirBytes, dirs };
      });
      for (const which of ['follower', 'leader'] as const) {
        await cmp.rec.measure({ [`restart.${which}`]: (r) => num(r, 'readyMs') / 1000 }, 'raftq', async () => {
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
    for (const m of ['memory.rss', 'disk.ratio', 'restart.follower', 'restart.leader']) if (cmp.rec.attempts[m]?.raftq === undefined) cmp.rec.add(m, 'raftq', { ok: false, error });
  }
}

/**
 * One message held under a 12 h lease while --pinned-bytes pass through its queue (`raftq bench
 * --scenario pinned`); every node's data directory is sampled every 2 s meanwhile. The figure is
 * the largest peak over the nodes, in MiB; a run in which the message was not held is an error.
 */
async function pinned(cmp: Comparison): Promise<void> {
  const bytes = cmp.o.pinnedBytes;
  log(`raftq pinned: 1 message under a 12 h lease, then ${sizeText(bytes)} through its queue (${pinnedBodyBytes} B bodies)`);
  await cmp.rec.measure(
    {
      'pinned.dir': (r) => {
        if (r['held'] !== true) throw new RaftqError('INTERNAL', `the pinned message was not held to the end: ${JSON.stringify({ acked: r['acked'], messages: r['messages'], left: r['left'], pinnedRedelivered: r['pinnedRedelivered'] })}`);
        return num(r, 'maxPeakDirBytes') / 1048576;
      },
    },
    'raftq',
    () =>
      withCluster(cmp, 'raftq-pinned', async (c) => {
        const sampler = new DiskSampler(c.ids.map((id) => ({ id, dir: c.nodeDataDir(id) })));
        const report = setInterval(() => log(`raftq pinned: data directories ${sampler.dirs.map((d) => `${d.id} ${mib(d.lastBytes)} (peak ${mib(d.peakBytes)})`).join(', ')}`), 30_000);
        let out: Record<string, unknown>;
        try {
          // At least 256 KiB/s, plus ten minutes.
          const timeoutMs = Math.ceil(bytes / 262_144) * 1000 + 600_000;
          out = await bench(c, ['--scenario', 'pinned', '--bytes', String(bytes), '--size', String(pinnedBodyBytes), '--lease', '43200', '--queue', 'bench-pinned'], 'raftq pinned', timeoutMs);
        } catch (e) {
          await sampler.stop().catch(() => {});
          throw e;
        } finally {
          clearInterval(report);
        }
        const dirs = await sampler.stop();
        log(`raftq pinned: data directories at the end ${dirs.map((d) => `${d.id} ${mib(d.lastBytes)}`).join(', ')}; peaks ${dirs.map((d) => `${d.id} ${mib(d.peakBytes)}`).join(', ')}`);
        return { ...out, dirs, maxPeakDirBytes: Math.max(...dirs.map((d) => d.peakBytes)), maxEndDirBytes: Math.max(...dirs.map((d) => d.lastBytes)) };
      }),
  );
}
