/**
 * Benchmark script (not a test): failover time and sustained enqueue throughput of a local
 * three-node cluster of real `raftq server` processes (default settings, loopback, free ports).
 *
 *   npx tsc -p . && node dist/test/integration/failover-bench.js [--trials 20] [--writers 64]
 *       [--seconds 10] [--body-bytes 100] [--via leader|all] [--skip-failover] [--skip-throughput]
 *
 * (a) Failover: kill -9 of the leader at t0; t1 = the first moment both survivors report the
 *     same new leader (a different node, which itself reports being leader), polled every 5 ms
 *     through GET /v1/cluster. 20 trials on one cluster: the killed node is restarted and the
 *     cluster settles (all peers connected, a stable leader) before the next trial.
 * (b) Throughput: a fresh cluster, one queue, `writers` concurrent HTTP clients each enqueueing
 *     one message per request as fast as replies come back, for `seconds` seconds. Every 200
 *     is a message committed on a majority (fsynced) and applied: group commit is what makes
 *     this go beyond one fsync per message.
 */
import { Agent, request } from 'node:http';
import { Cluster, sleep, waitFor } from './cluster-harness.js';

interface Options {
  trials: number;
  writers: number;
  seconds: number;
  bodyBytes: number;
  via: 'leader' | 'all';
  failover: boolean;
  throughput: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { trials: 20, writers: 64, seconds: 10, bodyBytes: 100, via: 'leader', failover: true, throughput: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const num = (): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer`);
      i++;
      return n;
    };
    if (a === '--trials') o.trials = num();
    else if (a === '--writers') o.writers = num();
    else if (a === '--seconds') o.seconds = num();
    else if (a === '--body-bytes') o.bodyBytes = num();
    else if (a === '--via' && (v === 'leader' || v === 'all')) {
      o.via = v;
      i++;
    } else if (a === '--skip-failover') o.failover = false;
    else if (a === '--skip-throughput') o.throughput = false;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;

/** GET /v1/cluster with a short timeout; undefined when the node does not answer. */
async function clusterView(cluster: Cluster, id: string): Promise<{ leader: string | null; term: number; role: string } | undefined> {
  try {
    return await cluster.status(id, 300);
  } catch {
    return undefined;
  }
}

/** Waits until every node is connected to every other and they agree on a leader. */
async function settle(cluster: Cluster): Promise<{ id: string; term: number }> {
  await waitFor('all peer links up', async () => {
    for (const id of cluster.ids) {
      const st = await cluster.ok<{ nodes: Array<{ id: string; connected?: boolean }> }>(id, 'GET', '/v1/cluster', undefined, 1000);
      if (!st.nodes.every((n) => n.id === id || n.connected === true)) return false;
    }
    return true;
  }, 30_000);
  const leader = await cluster.waitForLeader({ timeoutMs: 30_000 });
  // Let heartbeats flow for a moment so every follower has heard from this leader recently.
  await sleep(300);
  return leader;
}

async function benchFailover(trials: number): Promise<void> {
  const cluster = await Cluster.start({ name: 'bench-failover' });
  const firstReport: number[] = [];
  const allReport: number[] = [];
  try {
    await cluster.ok((await cluster.waitForLeader()).id, 'PUT', '/v1/queues/bench', {});
    for (let t = 1; t <= trials; t++) {
      const old = await settle(cluster);
      const survivors = cluster.ids.filter((id) => id !== old.id);
      const t0 = performance.now();
      await cluster.kill(old.id, 'SIGKILL');
      let first: number | undefined;
      let all: number | undefined;
      let winner = '';
      let term = 0;
      while (all === undefined) {
        if (performance.now() - t0 > 30_000) throw new Error(`trial ${t}: no new leader within 30 s`);
        const views = await Promise.all(survivors.map((id) => clusterView(cluster, id)));
        const now = performance.now();
        const fresh = views.filter((v) => v !== undefined && v.leader !== null && v.leader !== old.id && v.term > old.term);
        if (fresh.length > 0 && first === undefined) first = now - t0;
        const v0 = views[0];
        if (v0 !== undefined && v0.leader !== null && v0.leader !== old.id && v0.term > old.term && views.every((v) => v?.leader === v0.leader && v.term === v0.term)) {
          const leaderView = views[survivors.indexOf(v0.leader)];
          if (leaderView?.role === 'leader') {
            all = now - t0;
            winner = v0.leader;
            term = v0.term;
          }
        }
        if (all === undefined) await sleep(5);
      }
      firstReport.push(first ?? all);
      allReport.push(all);
      process.stdout.write(`  trial ${String(t).padStart(2)}: killed ${old.id} (term ${old.term}) -> ${winner} (term ${term}): first report ${fmt(first ?? all)}, all survivors ${fmt(all)}\n`);
      await cluster.restart(old.id);
    }
  } finally {
    await cluster.stopAll();
  }
  const a = [...allReport].sort((x, y) => x - y);
  const f = [...firstReport].sort((x, y) => x - y);
  process.stdout.write(
    `failover (kill -9 of the leader -> new leader reported by both survivors), ${trials} trials:\n` +
      `  median ${fmt(percentile(a, 50))}  min ${fmt(a[0]!)}  max ${fmt(a[a.length - 1]!)}  p90 ${fmt(percentile(a, 90))}\n` +
      `  (first survivor to report it: median ${fmt(percentile(f, 50))}  min ${fmt(f[0]!)}  max ${fmt(f[f.length - 1]!)})\n`,
  );
}

/** One POST with node:http on a keep-alive agent; resolves with the status (0 on a network error). */
function post(agent: Agent, port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.setTimeout(15_000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

async function benchThroughput(o: Options): Promise<void> {
  const cluster = await Cluster.start({ name: 'bench-throughput', logLevel: 'warn' });
  try {
    const leader = await settle(cluster);
    await cluster.ok(leader.id, 'PUT', '/v1/queues/bench', {});
    const targets = o.via === 'leader' ? [leader.id] : cluster.ids;
    const agent = new Agent({ keepAlive: true, maxSockets: o.writers });
    const pad = 'x'.repeat(Math.max(0, o.bodyBytes - 16));
    const before = await cluster.status(leader.id);
    let ok = 0;
    let failed = 0;
    const latencies: number[] = [];
    let measuring = false;
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      const port = cluster.node(targets[w % targets.length]!).httpPort;
      for (let seq = 0; !stop; seq++) {
        const body = JSON.stringify({ body: `${w}-${seq}-${pad}` });
        const t0 = performance.now();
        const status = await post(agent, port, '/v1/queues/bench/messages', body);
        if (!measuring) continue;
        if (status === 200) {
          ok++;
          latencies.push(performance.now() - t0);
        } else failed++;
      }
    };
    const writers = Array.from({ length: o.writers }, (_, w) => writer(w));
    await sleep(1000); // warm-up: connections open, JIT warm
    measuring = true;
    const t0 = performance.now();
    const commit0 = (await cluster.status(leader.id)).commitIndex;
    await sleep(o.seconds * 1000);
    measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    const commit1 = (await cluster.status(leader.id)).commitIndex;
    stop = true;
    await Promise.all(writers);
    agent.destroy();
    const after = await cluster.status(leader.id);
    const lat = latencies.sort((x, y) => x - y);
    const metrics = await (await fetch(`http://127.0.0.1:${cluster.node(leader.id).httpPort}/metrics`)).text();
    const fsyncs = metricSum(metrics, 'raftq_fsync_seconds_count');
    const persisted = metricSum(metrics, 'raftq_persist_batch_entries_sum');
    const batches = metricSum(metrics, 'raftq_proposal_batch_size_count');
    const proposed = metricSum(metrics, 'raftq_proposal_batch_size_sum');
    process.stdout.write(
      `throughput (${o.writers} concurrent HTTP writers via ${o.via === 'leader' ? `the leader ${leader.id}` : 'all three nodes'}, ` +
        `${o.bodyBytes}-byte bodies, ${o.seconds} s):\n` +
        `  ${(ok / elapsed).toFixed(0)} committed enqueues/s (${ok} acknowledged, ${failed} failed)\n` +
        `  latency p50 ${lat.length > 0 ? percentile(lat, 50).toFixed(1) : '-'} ms  p99 ${lat.length > 0 ? percentile(lat, 99).toFixed(1) : '-'} ms\n` +
        `  raft log: ${commit1 - commit0} entries committed during the window (${((commit1 - commit0) / elapsed).toFixed(0)}/s); ` +
        `${after.commitIndex - before.commitIndex} in total\n` +
        (fsyncs !== undefined && persisted !== undefined ? `  leader fsyncs (whole run): ${fsyncs}, ${(persisted / fsyncs).toFixed(1)} entries per fsync on average\n` : '') +
        (batches !== undefined && proposed !== undefined && batches > 0 ? `  proposal batches: ${batches}, ${(proposed / batches).toFixed(1)} commands per append on average\n` : ''),
    );
  } finally {
    await cluster.stopAll();
  }
}

/** The sum of a Prometheus metric's samples named exactly `name` (any labels), if present. */
function metricSum(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum = (sum ?? 0) + v;
  }
  return sum;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.failover) await benchFailover(o.trials);
  if (o.throughput) await benchThroughput(o);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
