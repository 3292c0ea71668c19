import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardQueries, deployDir, freePorts, http, readDeploy, run, sleep, startLocalCluster, substituteDashboardVariables, tempDir, waitFor, which, type LocalCluster } from './helpers.js';

/**
 * A real Prometheus (Debian package `prometheus`, with promtool) against a real local
 * three-node raftq cluster, using deploy/prometheus/prometheus.yml and alerts.yml with only the
 * targets and intervals rewritten: promtool accepts the files, every target is up, every rule
 * evaluates without error, and every query of the Grafana dashboard returns series.
 */

const installHint = 'apt-get update && apt-get install -y --no-install-recommends prometheus';
const promtool = which('promtool');
const prometheus = which('prometheus');
const available = promtool !== undefined && prometheus !== undefined;
if (!available) console.log(`skipped: Prometheus is not installed (promtool/prometheus not on PATH); install it with: ${installHint}`);
const pit = available ? it : it.skip;
const suffix = available ? '' : ` (SKIPPED: prometheus/promtool not installed; ${installHint})`;

describe('deploy/prometheus with promtool', () => {
  pit(`promtool check config, check rules and the rule unit tests pass${suffix}`, async () => {
    const config = await run(promtool!, ['check', 'config', join(deployDir, 'prometheus', 'prometheus.yml')]);
    expect(config.code, config.stdout + config.stderr).toBe(0);
    const rules = await run(promtool!, ['check', 'rules', join(deployDir, 'prometheus', 'alerts.yml')]);
    expect(rules.code, rules.stdout + rules.stderr).toBe(0);
    expect(rules.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const unit = await run(promtool!, ['test', 'rules', join(deployDir, 'prometheus', 'alerts.test.yml')], { cwd: join(deployDir, 'prometheus') });
    expect(unit.code, unit.stdout + unit.stderr).toBe(0);
  });
});

describe('a real Prometheus scraping a local three-node cluster', () => {
  let cluster: LocalCluster | undefined;
  let prom: ChildProcess | undefined;
  const promLog: string[] = [];
  let promUrl = '';
  let dir = '';

  beforeAll(async () => {
    if (!available) return;
    cluster = await startLocalCluster(3);
    await cluster.leader();

    // The deploy config with the compose targets pointed at the local nodes and 1 s intervals.
    dir = tempDir('raftq-prometheus-');
    let cfg = readDeploy('prometheus/prometheus.yml');
    const replace = (from: string, to: string): void => {
      if (!cfg.includes(from)) throw new Error(`deploy/prometheus/prometheus.yml no longer contains "${from}"; update this test`);
      cfg = cfg.replace(from, to);
    };
    cluster.nodes.forEach((n, i) => replace(`raftq${i + 1}:8001`, `127.0.0.1:${n.httpPort}`));
    replace('scrape_interval: 15s', 'scrape_interval: 1s');
    replace('scrape_timeout: 10s', 'scrape_timeout: 1s');
    replace('evaluation_interval: 15s', 'evaluation_interval: 1s');
    writeFileSync(join(dir, 'prometheus.yml'), cfg);
    copyFileSync(join(deployDir, 'prometheus', 'alerts.yml'), join(dir, 'alerts.yml'));

    const [port] = await freePorts(1);
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn(prometheus!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => {
      promLog.push(d.toString());
      if (promLog.length > 300) promLog.shift();
    };
    prom.stdout!.on('data', keep);
    prom.stderr!.on('data', keep);
    await waitFor('Prometheus to be ready', 30_000, async () => ((await http('GET', `${promUrl}/-/ready`, undefined, {}, 1000)).status === 200 ? true : undefined));
  }, 90_000);

  afterAll(async () => {
    if (prom !== undefined && prom.exitCode === null && prom.signalCode === null) {
      const exited = new Promise<void>((r) => prom!.once('exit', () => r()));
      prom.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (prom.exitCode === null && prom.signalCode === null) prom.kill('SIGKILL');
    }
    await cluster?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const query = async (expr: string): Promise<any[]> => {
    const r = await http('GET', `${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    if (r.status !== 200 || r.body?.status !== 'success') throw new Error(`query failed (${r.status}): ${JSON.stringify(r.body)}`);
    return r.body.data.result as any[];
  };

  pit(`every target is up, every rule evaluates, every dashboard query returns series${suffix}`, async () => {
    const c = cluster!;
    // Every node is a target and up.
    await waitFor('all three raftq targets up in Prometheus', 60_000, async () => {
      const r = await http('GET', `${promUrl}/api/v1/targets?state=active`);
      const targets: any[] = r.body?.data?.activeTargets ?? [];
      const ours = targets.filter((t) => t.labels?.job === 'raftq');
      return ours.length === 3 && ours.every((t) => t.health === 'up') ? ours : undefined;
    }, 500);

    // Traffic, so that the per-queue, rate and dead-letter series exist: a queue with a
    // dead-letter queue, enqueues through every node (followers forward), receives, acks, a
    // message received twice past maxReceiveCount, and one error response.
    const url = (i: number): string => c.url(i);
    expect((await http('PUT', `${url(0)}/v1/queues/orders-dlq`, {})).status).toBe(200);
    expect((await http('PUT', `${url(0)}/v1/queues/orders`, { maxReceiveCount: 1, deadLetterQueue: 'orders-dlq' })).status).toBe(200);
    const traffic = async (round: number): Promise<void> => {
      for (let i = 0; i < 10; i++) {
        const r = await http('POST', `${url(i % 3)}/v1/queues/orders/messages`, { body: `m-${round}-${i}` });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
      }
      const got = await http('POST', `${url(round % 3)}/v1/queues/orders/receive`, { max: 5, visibilityTimeoutMs: 60_000 });
      expect(got.status).toBe(200);
      const receipts = (got.body.messages as any[]).map((m) => m.receipt);
      if (receipts.length > 0) expect((await http('POST', `${url(round % 3)}/v1/queues/orders/ack`, { receipts })).status).toBe(200);
    };
    await traffic(0);
    // The alert fires on an increase, so Prometheus must have sampled the counter before the
    // dead-lettering below; otherwise its first sample already holds the final value.
    await waitFor('the orders dead-letter series scraped before any dead-lettering', 20_000, async () => {
      const r = await query('max(raftq_queue_dead_lettered_total{queue="orders"})');
      return r.length > 0 && Number(r[0].value[1]) === 0 ? true : undefined;
    });
    // Dead-lettering: receive with a short visibility timeout, let it expire, receive again.
    const first = await http('POST', `${url(0)}/v1/queues/orders/receive`, { max: 3, visibilityTimeoutMs: 200 });
    expect(first.body.messages.length).toBeGreaterThan(0);
    await sleep(400);
    await http('POST', `${url(0)}/v1/queues/orders/receive`, { max: 10, visibilityTimeoutMs: 60_000 });
    expect((await http('GET', `${url(1)}/v1/queues/does-not-exist`)).status).toBe(404);
    for (let round = 1; round <= 4; round++) {
      await traffic(round);
      await sleep(1000);
    }
    const deadLettered = await waitFor('dead-lettered messages in Prometheus', 20_000, async () => {
      const r = await query('max(raftq_queue_dead_lettered_total{queue="orders"})');
      return r.length > 0 && Number(r[0].value[1]) > 0 ? Number(r[0].value[1]) : undefined;
    });
    expect(deadLettered).toBeGreaterThan(0);

    // Every rule group is loaded and every rule evaluates without error.
    const rules = await waitFor('every alert rule evaluated', 30_000, async () => {
      const r = await http('GET', `${promUrl}/api/v1/rules`);
      const all: any[] = (r.body?.data?.groups ?? []).flatMap((g: any) => g.rules);
      return all.length > 0 && all.every((x) => x.lastEvaluation !== undefined && !x.lastEvaluation.startsWith('0001-')) ? all : undefined;
    }, 500);
    const expectedAlerts = [...readFileSync(join(deployDir, 'prometheus', 'alerts.yml'), 'utf8').matchAll(/^\s*- alert: (\S+)/gm)].map((m) => m[1]);
    expect(rules.map((r) => r.name).sort()).toEqual([...expectedAlerts].sort());
    const broken = rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`);
    expect(broken, 'rules that fail to evaluate').toEqual([]);

    // The healthy cluster has a leader; the dead-lettering was noticed.
    await waitFor('RaftqDeadLetterGrowth to fire for queue orders', 20_000, async () => {
      const r = await http('GET', `${promUrl}/api/v1/alerts`);
      const alerts: any[] = r.body?.data?.alerts ?? [];
      return alerts.some((a) => a.labels.alertname === 'RaftqDeadLetterGrowth' && a.labels.queue === 'orders' && a.state === 'firing') ? true : undefined;
    }, 500);
    const firing: any[] = ((await http('GET', `${promUrl}/api/v1/alerts`)).body?.data?.alerts ?? []).filter((a: any) => a.state !== 'inactive');
    for (const name of ['RaftqNoLeader', 'RaftqQuorumLost', 'RaftqNodeDown', 'RaftqMultipleLeaders', 'RaftqApplyLag', 'RaftqFollowerLag', 'RaftqDiskCritical']) {
      expect(firing.filter((a) => a.labels.alertname === name), `${name} must not be pending or firing on a healthy cluster`).toEqual([]);
    }

    // Every dashboard query returns at least one series from the running cluster.
    const dashboard = JSON.parse(readDeploy('grafana/dashboards/raftq.json'));
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThan(20);
    const empty: string[] = [];
    for (const q of queries) {
      const expr = substituteDashboardVariables(q.expr);
      expect(expr, `panel "${q.panel}" ${q.refId}: a template variable is left`).not.toMatch(/\$/);
      const result = await waitFor(`series for "${q.panel}" ${q.refId}`, 15_000, async () => {
        const r = await query(expr);
        return r.length > 0 ? r : undefined;
      }, 500).catch(() => []);
      if (result.length === 0) empty.push(`"${q.panel}" ${q.refId}: ${expr}`);
    }
    expect(empty, 'dashboard queries with no series').toEqual([]);

    // Per-node series come from all three nodes, per-queue ones name the queues.
    expect((await query('raftq_term')).map((s) => s.metric.node).sort()).toEqual(['n1', 'n2', 'n3']);
    expect((await query('max by (queue) (raftq_queue_visible_messages)')).map((s) => s.metric.queue).sort()).toEqual(['orders', 'orders-dlq']);
    const routes = (await query('sum by (route) (raftq_http_requests_total{status="200"})')).map((s) => s.metric.route);
    for (const r of ['enqueue', 'receive', 'ack', 'metrics']) expect(routes).toContain(r);
    expect((await query('count(raftq_is_leader == 1)'))[0].value[1]).toBe('1');
  }, 240_000);
});
