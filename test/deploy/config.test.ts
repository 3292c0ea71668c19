import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/node/start-server.js';
import { dashboardQueries, deployDir, exposedSeriesNames, freePorts, http, pythonYaml, raftqMetricNames, readDeploy, repoRoot, tempDir } from './helpers.js';

/**
 * Cheap checks that always run: the deploy files are well-formed and stay in sync with the code
 * (every raftq_* metric the dashboard and the alert rules use is one a node really exports).
 */

const dashboard = JSON.parse(readDeploy('grafana/dashboards/raftq.json'));
const alerts = readDeploy('prometheus/alerts.yml');
const yaml = pythonYaml();

describe('Grafana dashboard', () => {
  it('is valid JSON with unique panel ids, a query in every panel and the provisioned datasource', () => {
    expect(dashboard.uid).toBe('raftq');
    expect(dashboard.title).toBe('raftq');
    const panels: any[] = dashboard.panels;
    expect(panels.length).toBeGreaterThan(10);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, `panel ${p.title} fits the 24-column grid`).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.targets?.length ?? 0, `panel "${p.title}" has a query`).toBeGreaterThan(0);
      for (const t of p.targets) {
        expect(typeof t.expr === 'string' && t.expr.trim() !== '', `panel "${p.title}" ${t.refId} has an expr`).toBe(true);
        expect(t.datasource?.uid).toBe('${datasource}');
      }
      expect(p.datasource?.uid).toBe('${datasource}');
    }
    const dsVar = dashboard.templating.list.find((v: any) => v.name === 'datasource');
    expect(dsVar?.type).toBe('datasource');
    expect(dsVar?.query).toBe('prometheus');
    // Variables used in queries are defined.
    const defined = new Set<string>(dashboard.templating.list.map((v: any) => v.name));
    for (const q of dashboardQueries(dashboard)) {
      for (const m of q.expr.matchAll(/\$\{?([A-Za-z_]\w*)/g)) {
        const name = m[1]!;
        if (name.startsWith('__')) continue;
        expect(defined.has(name), `variable $${name} of panel "${q.panel}" is defined`).toBe(true);
      }
    }
  });

  it('covers what an operator needs (issue 8 panel list)', () => {
    const text = dashboardQueries(dashboard)
      .map((q) => q.expr)
      .join('\n');
    for (const metric of [
      'raftq_is_leader',
      'raftq_term',
      'raftq_commit_index',
      'raftq_applied_index',
      'raftq_apply_lag_entries',
      'raftq_follower_match_index',
      'raftq_proposals_total',
      'raftq_http_requests_total',
      'raftq_queue_visible_messages',
      'raftq_queue_inflight_messages',
      'raftq_queue_dead_lettered_total',
      'raftq_fsync_seconds_bucket',
      'raftq_persist_batch_entries_bucket',
      'raftq_proposal_batch_size_bucket',
      'raftq_peer_connected',
      'raftq_snapshots_sent_total',
      'raftq_data_dir_available_bytes',
    ]) {
      expect(text, `the dashboard charts ${metric}`).toContain(metric);
    }
    expect(text).toMatch(/route=~"[^"]*enqueue[^"]*"/);
    expect(text).toMatch(/route=~"[^"]*receive[^"]*"/);
  });
});

describe('alert rules', () => {
  it('define the alerts of issue 8', () => {
    const names = [...alerts.matchAll(/^\s*- alert: (\S+)/gm)].map((m) => m[1]);
    for (const a of ['RaftqNoLeader', 'RaftqFrequentElections', 'RaftqFollowerLag', 'RaftqDeadLetterGrowth', 'RaftqDiskNearlyFull']) expect(names).toContain(a);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('metric names in the deploy files are exported by a raftq node', () => {
  let server: RunningServer | undefined;
  let dir = '';
  let exposition = '';

  beforeAll(async () => {
    dir = tempDir('raftq-deploy-metrics-');
    const [peerPort] = await freePorts(1);
    const config = loadServerConfig(['--node-id', 'n1', '--peers', `n1=127.0.0.1:${peerPort}`, '--http-port', '0', '--client-port', '0', '--data-dir', join(dir, 'n1'), '--log-level', 'silent'], {});
    server = await startServer(config);
    const url = `http://127.0.0.1:${server.httpPort}`;
    // A single voter elects itself; a queue makes the per-queue gauges appear.
    for (let i = 0; ; i++) {
      const r = await http('PUT', `${url}/v1/queues/metrics-check`, {});
      if (r.status === 200) break;
      if (i > 100) throw new Error(`queue create failed: ${JSON.stringify(r.body)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    exposition = (await http('GET', `${url}/metrics`)).body as string;
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (what: string, text: string): void => {
    const exported = exposedSeriesNames(exposition);
    const used = [...raftqMetricNames(text)];
    expect(used.length).toBeGreaterThan(0);
    const missing = used.filter((n) => !exported.has(n));
    expect(missing, `${what} uses metrics no raftq node exports`).toEqual([]);
  };

  it('every raftq_* name in the Grafana dashboard', () => {
    check('the dashboard', dashboardQueries(dashboard).map((q) => q.expr).join('\n'));
  });

  it('every raftq_* name in alerts.yml', () => {
    check('alerts.yml', alerts);
  });

  it('the node exports the disk-space gauges the disk alert reads, with sane values', () => {
    const avail = /^raftq_data_dir_available_bytes\{[^}]*\} (\S+)$/m.exec(exposition);
    const cap = /^raftq_data_dir_capacity_bytes\{[^}]*\} (\S+)$/m.exec(exposition);
    expect(avail && cap).toBeTruthy();
    expect(Number(cap![1])).toBeGreaterThan(0);
    expect(Number(avail![1])).toBeGreaterThanOrEqual(0);
    expect(Number(avail![1])).toBeLessThanOrEqual(Number(cap![1]));
  });
});

describe('image and compose files', () => {
  it('Dockerfile: multi-stage, Debian Node 20 runtime, non-root, /data volume, healthcheck, ports', () => {
    const df = readDeploy('Dockerfile');
    expect(df).toMatch(/^FROM node:20-bookworm-slim AS build$/m);
    expect(df).toMatch(/^FROM node:20-bookworm-slim AS runtime$/m);
    expect(df).toMatch(/npm ci --omit=dev/);
    expect(df).toMatch(/^COPY src\/proto\/\*\.proto \.\/src\/proto\/$/m);
    expect(df).toMatch(/^USER raftq:raftq$/m);
    expect(df).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(df).toMatch(/^EXPOSE 7001 8001 7101$/m);
    expect(df).toMatch(/HEALTHCHECK[\s\S]*\/health/);
    expect(existsSync(join(deployDir, 'docker-entrypoint.sh'))).toBe(true);
    expect(statSync(join(deployDir, 'docker-entrypoint.sh')).mode & 0o111).not.toBe(0);
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', 'dist', 'data', '.git']) expect(ignore).toContain(p);
    expect(ignore).toContain('!deploy/docker-entrypoint.sh');
  });

  it('Prometheus scrapes every compose node and Grafana reads the compose Prometheus', () => {
    const prom = readDeploy('prometheus/prometheus.yml');
    for (const s of ['raftq1:8001', 'raftq2:8001', 'raftq3:8001']) expect(prom).toContain(s);
    expect(prom).toMatch(/job_name: raftq$/m);
    expect(prom).toMatch(/^\s+- alerts\.yml$/m);
    const ds = readDeploy('grafana/provisioning/datasources/prometheus.yml');
    expect(ds).toMatch(/uid: prometheus$/m);
    expect(ds).toMatch(/url: http:\/\/prometheus:9090$/m);
  });

  // PyYAML comes with docker-compose; .ci/run installs python3-yaml. Without it, say so.
  const yamlIt = yaml.available ? it : it.skip;
  const yamlTitle = yaml.available ? 'every deploy YAML parses and has the intended structure (PyYAML)' : 'deploy YAML structure: SKIPPED, python3 with PyYAML is missing (apt-get install -y python3-yaml)';
  if (!yaml.available) console.log(`skipped: ${yamlTitle}`);
  yamlIt(yamlTitle, () => {
    // compose
    const [compose] = yaml.parseAll(join(deployDir, 'docker-compose.yml'));
    const services = compose.services as Record<string, any>;
    for (const [i, name] of ['raftq1', 'raftq2', 'raftq3'].entries()) {
      const s = services[name];
      expect(s.init, name).toBe(true);
      expect(s.restart, name).toBe('unless-stopped');
      expect(s.build.dockerfile).toBe('deploy/Dockerfile');
      expect(s.environment.RAFTQ_NODE_ID).toBe(`n${i + 1}`);
      expect(s.environment.RAFTQ_PEERS).toBe('n1=raftq1:7101:7001:8001,n2=raftq2:7101:7001:8001,n3=raftq3:7101:7001:8001');
      expect(s.ports).toEqual([`\${RAFTQ_CLIENT_PORT_${i + 1}:-700${i + 1}}:7001`, `\${RAFTQ_HTTP_PORT_${i + 1}:-800${i + 1}}:8001`]);
      expect(s.volumes).toEqual([`${name}-data:/data`]);
      expect(s.profiles).toBeUndefined();
      expect(compose.volumes).toHaveProperty(`${name}-data`);
    }
    for (const name of ['prometheus', 'grafana']) expect(services[name].profiles).toEqual(['observability']);
    expect(services['prometheus'].volumes).toContain('./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');

    // Prometheus and Grafana provisioning
    const [prom] = yaml.parseAll(join(deployDir, 'prometheus/prometheus.yml'));
    expect(prom.scrape_configs[0].static_configs[0].targets).toEqual(['raftq1:8001', 'raftq2:8001', 'raftq3:8001']);
    const [rules] = yaml.parseAll(join(deployDir, 'prometheus/alerts.yml'));
    for (const g of rules.groups) for (const r of g.rules) expect(['warning', 'critical'], r.alert).toContain(r.labels.severity);
    const [ds] = yaml.parseAll(join(deployDir, 'grafana/provisioning/datasources/prometheus.yml'));
    expect(ds.datasources[0].uid).toBe(dashboard.templating.list.find((v: any) => v.name === 'datasource').current.value);
    const [provider] = yaml.parseAll(join(deployDir, 'grafana/provisioning/dashboards/raftq.yml'));
    expect(services['grafana'].volumes).toContain(`./grafana/dashboards:${provider.providers[0].options.path}:ro`);

    // Kubernetes
    const docs = ['services.yaml', 'statefulset.yaml', 'pdb.yaml', 'kustomization.yaml'].flatMap((f) => yaml.parseAll(join(deployDir, 'k8s', f)));
    const byKind = (kind: string): any[] => docs.filter((d) => d?.kind === kind);
    const [sts] = byKind('StatefulSet');
    const services8 = byKind('Service');
    const headless = services8.find((s) => s.metadata.name === sts.spec.serviceName);
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    const client = services8.find((s) => s !== headless);
    expect(client.spec.ports.map((p: any) => p.port).sort()).toEqual([7001, 8001]);
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    const podLabels = sts.spec.template.metadata.labels;
    for (const sel of [sts.spec.selector.matchLabels, headless.spec.selector, client.spec.selector, byKind('PodDisruptionBudget')[0].spec.selector.matchLabels]) {
      for (const [k, v] of Object.entries(sel)) expect(podLabels[k]).toBe(v);
    }
    expect(byKind('PodDisruptionBudget')[0].spec.maxUnavailable).toBe(1);
    const c = sts.spec.template.spec.containers[0];
    expect(c.readinessProbe.httpGet.path).toBe('/ready');
    expect(c.livenessProbe.httpGet.path).toBe('/health');
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.resources.requests.memory).toBeDefined();
    expect(c.resources.limits.memory).toBeDefined();
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
    expect(env.RAFTQ_POD_NAME.valueFrom.fieldRef.fieldPath).toBe('metadata.name');
    expect(env.RAFTQ_NODE_ID_FROM_ORDINAL.value).toBe('1');
    const expectedPeers = Array.from({ length: 3 }, (_, i) => `n${i + 1}=${sts.metadata.name}-${i}.${headless.metadata.name}:7101:7001:8001`).join(',');
    expect(env.RAFTQ_PEERS.value).toBe(expectedPeers);
    const portNames = new Set(c.ports.map((p: any) => p.name));
    for (const s of services8) for (const p of s.spec.ports) expect(portNames.has(p.targetPort), `${s.metadata.name} targetPort ${p.targetPort}`).toBe(true);
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    expect(c.volumeMounts.find((m: any) => m.name === 'data').mountPath).toBe(env.RAFTQ_DATA_DIR.value);
    expect(sts.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const kustomization = docs.find((d) => d?.kind === 'Kustomization');
    for (const f of kustomization.resources) expect(existsSync(join(deployDir, 'k8s', f)), f).toBe(true);
  });
});
