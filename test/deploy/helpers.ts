import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/deploy/helpers.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const deployDir = join(repoRoot, 'deploy');

export function readDeploy(path: string): string {
  return readFileSync(join(deployDir, path), 'utf8');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value other than undefined, or throws naming `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last !== undefined ? ` (last error: ${last instanceof Error ? last.message : String(last)})` : ''}`);
    await sleep(intervalMs);
  }
}

/** `count` distinct free TCP ports on 127.0.0.1 (bound to port 0, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import('node:net').Server>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => res(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (never throws for a non-zero exit), killing it after timeoutMs. */
export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? repoRoot, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolvePromise({ code: -1, stdout, stderr: stderr + String(e) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Synchronous `which`: the absolute path of a program on PATH, or undefined. */
export function which(program: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p !== '' ? p : undefined;
}

export interface HttpResult {
  readonly status: number;
  readonly body: any;
}

/** One HTTP JSON call with a timeout; network errors reject. */
export async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<HttpResult> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.status, body: parsed };
}

/** Every PromQL expression of a Grafana dashboard, with the panel it belongs to. */
export function dashboardQueries(dashboard: any): Array<{ panel: string; refId: string; expr: string }> {
  const out: Array<{ panel: string; refId: string; expr: string }> = [];
  const walk = (panels: any[]): void => {
    for (const p of panels ?? []) {
      if (Array.isArray(p.panels)) walk(p.panels);
      for (const t of p.targets ?? []) out.push({ panel: String(p.title), refId: String(t.refId), expr: String(t.expr ?? '') });
    }
  };
  walk(dashboard.panels);
  return out;
}

/** Replaces the dashboard's template variables with values a plain Prometheus query accepts. */
export function substituteDashboardVariables(expr: string, rateInterval = '1m'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('${__rate_interval}', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replace(/\$\{?(node|queue)\}?/g, '.*');
}

/** raftq_* metric names used in a PromQL text. */
export function raftqMetricNames(text: string): Set<string> {
  return new Set([...text.matchAll(/\braftq_[a-zA-Z0-9_]+/g)].map((m) => m[0]));
}

/**
 * Metric names a Prometheus text exposition declares (`# TYPE name type`), expanded to the
 * series names Prometheus stores: histograms and summaries add _bucket/_sum/_count.
 */
export function exposedSeriesNames(exposition: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    out.set(name, type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.set(name + s, type);
    if (type === 'summary') for (const s of ['_sum', '_count']) out.set(name + s, type);
  }
  return out;
}

/**
 * Parses YAML files with Python's PyYAML (no YAML package in node_modules): the python3 on PATH
 * or Debian's /usr/bin/python3 (where apt's python3-yaml goes), whichever has it.
 */
export function pythonYaml(): { available: boolean; python: string | undefined; parseAll(path: string): any[] } {
  const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import yaml, json'], { encoding: 'utf8' }).status === 0);
  return {
    available: python !== undefined,
    python,
    parseAll(path: string): any[] {
      if (python === undefined) throw new Error('no python3 with PyYAML');
      const r = spawnSync(python, ['-c', 'import sys, json, yaml\nprint(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))', path], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`YAML parse of ${path} failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as any[];
    },
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface LocalNode {
  readonly id: string;
  readonly httpPort: number;
  readonly child: ChildProcess;
  readonly log: string[];
}

export interface LocalCluster {
  readonly nodes: LocalNode[];
  readonly dir: string;
  url(i: number): string;
  leader(): Promise<string>;
  stop(): Promise<void>;
}

/** The compiled CLI; `npm test` builds it first. */
export const cliPath = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/**
 * Starts a three-node raftq cluster of `node dist/src/cli/main.js server` child processes on
 * free loopback ports (never the 7001-8003 defaults) with temp data directories.
 */
export async function startLocalCluster(size = 3): Promise<LocalCluster> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npx tsc -p . (npm test builds it)`);
  const ports = await freePorts(size * 3);
  const dir = tempDir('raftq-deploy-cluster-');
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const peers = ids.map((id, i) => `${id}=127.0.0.1:${ports[i * 3]}:${ports[i * 3 + 1]}:${ports[i * 3 + 2]}`).join(',');
  const nodes: LocalNode[] = ids.map((id, i) => {
    const log: string[] = [];
    const child = spawn(process.execPath, [cliPath, 'server', '--node-id', id, '--peers', peers, '--data-dir', join(dir, id), '--log-level', 'warn'], {
      cwd: repoRoot,
      // No RAFTQ_* settings leak in from the environment: flags alone configure these nodes.
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RAFTQ_'))),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer): void => {
      log.push(d.toString());
      if (log.length > 200) log.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    return { id, httpPort: ports[i * 3 + 2]!, child, log };
  });
  const url = (i: number): string => `http://127.0.0.1:${nodes[i]!.httpPort}`;
  const cluster: LocalCluster = {
    nodes,
    dir,
    url,
    async leader() {
      return waitFor('a leader known to every node', 30_000, async () => {
        // `leader` is the leader's node id, or null / '' while none is known.
        const seen = await Promise.all(nodes.map(async (_, i) => (await http('GET', `${url(i)}/v1/cluster`, undefined, {}, 2000)).body?.leader as unknown));
        const first = seen[0];
        return typeof first === 'string' && first !== '' && seen.every((l) => l === first) ? first : undefined;
      });
    },
    async stop() {
      await Promise.all(
        nodes.map(
          (n) =>
            new Promise<void>((r) => {
              if (n.child.exitCode !== null || n.child.signalCode !== null) return r();
              const t = setTimeout(() => n.child.kill('SIGKILL'), 10_000);
              n.child.once('exit', () => {
                clearTimeout(t);
                r();
              });
              n.child.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
