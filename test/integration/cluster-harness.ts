/**
 * A harness for integration tests and benchmarks against real `raftq server` processes on
 * loopback: it allocates free ports, gives every node its own data directory under
 * os.tmpdir(), sends each node's stdout and stderr to files, and offers kill / pause /
 * restart, leader discovery and HTTP calls with timeouts. stopAll() (and, as a last resort, a
 * process 'exit' hook) kills every child and removes every directory, whatever happened.
 *
 * It runs the compiled CLI (dist/src/cli/main.js): build first (`npm test` does). It imports
 * nothing from vitest, so the benchmark script (failover-bench.ts) uses it too.
 *
 * With `tls: true` it writes development certificates (src/cli/dev-certs.ts) under <root>/tls,
 * starts every node with --tls-cert/--tls-key/--tls-ca, and speaks https to them.
 *
 * Set RAFTQ_KEEP_TEST_DIRS=1 to keep the data directories and logs for inspection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { writeDevCerts, type DevCertsResult } from '../../src/cli/dev-certs.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../jepsen-like/free-ports.js';

/** One parsed pino log line of a node. */
export type LogLine = Readonly<Record<string, unknown>> & { readonly msg: string; readonly level: number };

/** What GET /v1/cluster returns (the fields the tests use). */
export interface ClusterStatus {
  readonly id: string;
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
}

/** The answer to an HTTP call: status and parsed JSON body (undefined when not JSON). */
export interface HttpResult<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** How a node process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One node of the cluster: fixed ports and directory, and its current process, if any. */
export interface NodeHandle {
  readonly id: string;
  readonly peerPort: number;
  readonly clientPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  /** Appended to across restarts: every incarnation's stdout (pino JSON lines). */
  readonly logFile: string;
  /** Appended to across restarts: every incarnation's stderr. */
  readonly errFile: string;
}

/** Options of Cluster.start. */
export interface ClusterOptions {
  /** Number of nodes (default 3), named n1..nN. */
  readonly size?: number;
  /** Extra `raftq server` flags given to every node, e.g. ['--snapshot-entries', '200']. */
  readonly args?: readonly string[];
  /** Cluster id (default "raftq-it"). */
  readonly clusterId?: string;
  /** Log level of the nodes (default info: the tests read info lines). */
  readonly logLevel?: string;
  /** Wait for an agreed leader before returning (default true). */
  readonly waitForLeader?: boolean;
  /** Prefix of the temporary directory's name. */
  readonly name?: string;
  /** Every listener with TLS, peers with mutual TLS, under a development CA in <root>/tls (default false). */
  readonly tls?: boolean;
  /**
   * `--auth required` with this bootstrap admin token (written to <root>/admin.token, given as
   * --admin-token-file); the harness's own HTTP calls send it.
   */
  readonly adminToken?: string;
}

/** The TLS files of a cluster started with `tls: true`. */
export interface ClusterTls extends DevCertsResult {
  /** The directory holding them. */
  readonly dir: string;
  /** The CA certificate (PEM), for clients. */
  readonly ca: Buffer;
}

/** A failed HTTP call: `code` is the socket error code (ECONNREFUSED, ECONNRESET...) or TIMEOUT. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    message: string,
    readonly code: string,
    cause?: unknown,
  ) {
    super(message, cause !== undefined ? { cause } : undefined);
  }
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** Thrown when a polled condition does not hold in time; names what was awaited. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

/**
 * Polls `cond` every `intervalMs` until it returns a value other than undefined/false, and
 * returns it; throws WaitTimeoutError naming `what` after `timeoutMs`. Exceptions thrown by
 * `cond` count as "not yet" (the last one is attached to the timeout error).
 */
export async function waitFor<T>(what: string, cond: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The repository root: the nearest ancestor holding package.json (works from src and dist). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cluster-harness: repository root not found');
    dir = up;
  }
}

/** The compiled `raftq` entry point every node runs. */
export const cliMain: string = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

// ---------------------------------------------------------------------------------------------
// Ports.

/**
 * Ports are drawn from 20000..32767, below Linux's ephemeral range (32768..60999), so an
 * outbound connection of a running node can never occupy the port of a node that is down and
 * about to be restarted. Each candidate is checked by binding it; ports handed out by this
 * process are never reused.
 */
export { freePorts };

// ---------------------------------------------------------------------------------------------
// Last-resort cleanup: children die with this process even when a test run is aborted.

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of liveChildren) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | undefined;
}

/** A local raftq cluster of real processes (see module comment). */
export class Cluster {
  readonly root: string;
  readonly clusterId: string;
  readonly nodes: ReadonlyMap<string, NodeHandle>;
  /** The certificates, when started with `tls: true`. */
  tls: ClusterTls | undefined = undefined;
  /** The token the harness's HTTP calls send (ClusterOptions.adminToken), if any. */
  token: string | undefined = undefined;
  readonly #args: readonly string[];
  readonly #logLevel: string;
  readonly #running = new Map<string, Running>();
  /** Every process this cluster ever spawned (node incarnations and extra processes). */
  readonly #spawned = new Set<Running>();
  #stopped = false;

  private constructor(root: string, clusterId: string, nodes: Map<string, NodeHandle>, args: readonly string[], logLevel: string) {
    this.root = root;
    this.clusterId = clusterId;
    this.nodes = nodes;
    this.#args = args;
    this.#logLevel = logLevel;
  }

  /** Allocates ports and directories, spawns every node, and (by default) waits for a leader. */
  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    installExitHook();
    const size = opts.size ?? 3;
    const root = mkdtempSync(join(tmpdir(), `raftq-it-${opts.name ?? 'cluster'}-`));
    const ports = await freePorts(size * 3);
    const nodes = new Map<string, NodeHandle>();
    for (let i = 1; i <= size; i++) {
      const id = `n${i}`;
      const [peerPort, clientPort, httpPort] = ports.slice((i - 1) * 3, i * 3) as [number, number, number];
      nodes.set(id, { id, peerPort, clientPort, httpPort, dataDir: join(root, id), logFile: join(root, `${id}.log`), errFile: join(root, `${id}.err`) });
    }
    let args = opts.args ?? [];
    if (opts.adminToken !== undefined) {
      const file = join(root, 'admin.token');
      writeFileSync(file, `${opts.adminToken}\n`, { mode: 0o600 });
      args = [...args, '--auth', 'required', '--admin-token-file', file];
    }
    const cluster = new Cluster(root, opts.clusterId ?? 'raftq-it', nodes, args, opts.logLevel ?? 'info');
    if (opts.adminToken !== undefined) cluster.token = opts.adminToken;
    if (opts.tls === true) {
      const dir = join(root, 'tls');
      const certs = writeDevCerts({ outDir: dir, nodes: [...nodes.keys()], clusterId: cluster.clusterId });
      cluster.tls = { ...certs, dir, ca: readFileSync(certs.caFile) };
    }
    try {
      for (const id of nodes.keys()) cluster.spawn(id);
      if (opts.waitForLeader ?? true) await cluster.waitForLeader();
    } catch (e) {
      await cluster.stopAll();
      throw e;
    }
    return cluster;
  }

  /** Node ids, n1..nN. */
  get ids(): string[] {
    return [...this.nodes.keys()];
  }

  /** The --peers value of this cluster. */
  get peersFlag(): string {
    return [...this.nodes.values()].map((n) => `${n.id}=127.0.0.1:${n.peerPort}:${n.clientPort}:${n.httpPort}`).join(',');
  }

  /** The node `id` (throws for an unknown id). */
  node(id: string): NodeHandle {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** The server flags of node `id`, plus `extra`. */
  serverArgs(id: string, extra: readonly string[] = []): string[] {
    const n = this.node(id);
    return [
      'server',
      '--node-id', id,
      '--cluster-id', this.clusterId,
      '--peers', this.peersFlag,
      '--data-dir', n.dataDir,
      '--log-level', this.#logLevel,
      ...(this.tls !== undefined ? ['--tls-cert', this.tls.nodes[id]!.certFile, '--tls-key', this.tls.nodes[id]!.keyFile, '--tls-ca', this.tls.caFile] : []),
      ...this.#args,
      ...extra,
    ];
  }

  /** Starts node `id` (it must not be running); stdout/stderr append to its files. */
  spawn(id: string, extra: readonly string[] = []): void {
    if (this.#stopped) throw new Error('cluster stopped');
    const cur = this.#running.get(id);
    if (cur !== undefined && cur.exit === undefined) throw new Error(`node ${id} is already running (pid ${cur.child.pid})`);
    const n = this.node(id);
    const run = this.#spawnProcess(this.serverArgs(id, extra), n.logFile, n.errFile);
    this.#running.set(id, run);
  }

  /**
   * Spawns another `raftq` process with arbitrary arguments (e.g. a second server on a locked
   * data directory), tracked and cleaned up like the nodes. Output goes to files under root.
   */
  spawnExtra(name: string, args: readonly string[]): { pid: number | undefined; exited: Promise<ExitInfo>; stdoutFile: string; stderrFile: string } {
    const stdoutFile = join(this.root, `${name}.out`);
    const stderrFile = join(this.root, `${name}.err`);
    const run = this.#spawnProcess(args, stdoutFile, stderrFile);
    return { pid: run.child.pid, exited: run.exited, stdoutFile, stderrFile };
  }

  #spawnProcess(args: readonly string[], outFile: string, errFile: string): Running {
    const out = openSync(outFile, 'a');
    const err = openSync(errFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [cliMain, ...args], { stdio: ['ignore', out, err], env: hermeticEnv() });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    liveChildren.add(child);
    const run: Running = {
      child,
      exit: undefined,
      exited: new Promise<ExitInfo>((resolve) => {
        child.once('exit', (code, signal) => {
          liveChildren.delete(child);
          run.exit = { code, signal };
          resolve(run.exit);
        });
        child.once('error', () => {
          liveChildren.delete(child);
          run.exit = { code: null, signal: null };
          resolve(run.exit);
        });
      }),
    };
    this.#spawned.add(run);
    return run;
  }

  /** Whether node `id` has a live process (a SIGSTOPped one counts as live). */
  isRunning(id: string): boolean {
    const r = this.#running.get(id);
    return r !== undefined && r.exit === undefined;
  }

  /** The pid of node `id`'s current process. */
  pid(id: string): number | undefined {
    return this.isRunning(id) ? this.#running.get(id)!.child.pid : undefined;
  }

  /** Ids of the nodes with a live process. */
  runningIds(): string[] {
    return this.ids.filter((id) => this.isRunning(id));
  }

  /** Resolves when node `id`'s current process exits (with how it ended). */
  exited(id: string): Promise<ExitInfo> {
    const r = this.#running.get(id);
    if (r === undefined) throw new Error(`node ${id} was never started`);
    return r.exited;
  }

  /**
   * Sends `signal` to node `id`. For SIGKILL/SIGTERM/SIGINT it waits for the process to exit
   * (up to 20 s; a stopped process is continued so it can handle SIGTERM). SIGSTOP / SIGCONT
   * return at once.
   */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo | undefined> {
    const r = this.#running.get(id);
    if (r === undefined || r.exit !== undefined) return r?.exit;
    r.child.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return undefined;
    if (signal !== 'SIGKILL') r.child.kill('SIGCONT');
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 20_000);
    try {
      return await r.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGSTOP: the process freezes with its sockets open (a long GC pause, a hung VM). */
  pause(id: string): Promise<unknown> {
    return this.kill(id, 'SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(id: string): Promise<unknown> {
    return this.kill(id, 'SIGCONT');
  }

  /** Starts node `id` again on its data directory (killing it first if it still runs). */
  async restart(id: string, extra: readonly string[] = []): Promise<void> {
    if (this.isRunning(id)) await this.kill(id, 'SIGKILL');
    this.spawn(id, extra);
  }

  /** Waits for node `id`'s process to exit, at most `timeoutMs`. */
  async waitForExit(id: string, timeoutMs = 20_000): Promise<ExitInfo> {
    const r = this.#running.get(id);
    if (r === undefined) throw new Error(`node ${id} was never started`);
    return withTimeout(r.exited, timeoutMs, `node ${id} to exit`);
  }

  // ---- HTTP ----

  /**
   * One HTTP call to node `id` with a JSON body; resolves with status and parsed body, throws
   * HttpError on a network error or after `timeoutMs` (default 10 s). Every call uses a new
   * connection: a pooled keep-alive socket that the server closed while idle (say, after the
   * node was SIGSTOPped past its keep-alive timeout) would otherwise fail a request at random.
   */
  http<T = unknown>(id: string, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<HttpResult<T>> {
    return this.httpAs<T>(this.token, id, method, path, body, timeoutMs);
  }

  /** Like http(), sending `Authorization: Bearer <token>` (none when undefined). */
  httpAs<T = unknown>(token: string | undefined, id: string, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<HttpResult<T>> {
    const n = this.node(id);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<HttpResult<T>>((resolve, reject) => {
      const headers: Record<string, string | number> = {};
      if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const options = { host: '127.0.0.1', port: n.httpPort, method, path, headers, agent: false as const };
      const req = this.tls !== undefined ? httpsRequest({ ...options, ca: this.tls.ca }, onResponse) : httpRequest(options, onResponse);
      function onResponse(res: IncomingMessage): void {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new HttpError(`${method} ${path} on ${id}: ${e.message}`, errorCode(e), e)));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
      }
      const timer = setTimeout(() => req.destroy(new HttpError(`${method} ${path} on ${id}: no answer within ${timeoutMs} ms`, 'TIMEOUT')), timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e instanceof HttpError ? e : new HttpError(`${method} ${path} on ${id}: ${e.message}`, errorCode(e), e));
      });
      req.end(payload);
    });
  }

  /** Like http(), but throws unless the status is 200; returns the body. */
  async ok<T = unknown>(id: string, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
    const r = await this.http<T>(id, method, path, body, timeoutMs);
    if (r.status !== 200) throw new Error(`${method} ${path} on ${id}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** GET /v1/cluster on node `id`. */
  status(id: string, timeoutMs = 2_000): Promise<ClusterStatus> {
    return this.ok<ClusterStatus>(id, 'GET', '/v1/cluster', undefined, timeoutMs);
  }

  /**
   * Waits until every node in `among` (default: every running node) reports the same leader
   * in the same term, that leader is one of them and reports itself leader; returns it. With
   * `not`, a leader equal to `not` does not count; with `minTerm`, nor does a lower term.
   */
  async waitForLeader(opts: { among?: readonly string[]; not?: string; minTerm?: number; timeoutMs?: number; intervalMs?: number } = {}): Promise<{ id: string; term: number }> {
    return waitFor(
      `an agreed leader among ${(opts.among ?? this.runningIds()).join(',')}${opts.not !== undefined ? ` other than ${opts.not}` : ''}`,
      async () => {
        const among = opts.among ?? this.runningIds();
        const sts = await Promise.all(among.map((id) => this.status(id, 1_000)));
        const first = sts[0];
        if (first === undefined || first.leader === null) return undefined;
        if (!sts.every((s) => s.leader === first.leader && s.term === first.term)) return undefined;
        if (!among.includes(first.leader) || first.leader === opts.not || first.term < (opts.minTerm ?? 0)) return undefined;
        const lead = sts[among.indexOf(first.leader)];
        if (lead?.role !== 'leader') return undefined;
        return { id: first.leader, term: first.term };
      },
      opts.timeoutMs ?? 20_000,
      opts.intervalMs ?? 50,
    );
  }

  /** Waits until node `id` has applied at least `index`. */
  async waitForApplied(id: string, index: number, timeoutMs = 20_000): Promise<ClusterStatus> {
    return waitFor(`node ${id} to apply index ${index}`, async () => {
      const s = await this.status(id, 1_000);
      return s.appliedIndex >= index ? s : undefined;
    }, timeoutMs);
  }

  /**
   * Waits until every node in `among` (default: running nodes) has applied the commit index
   * the leader reports at the time of the call.
   */
  async waitForConvergence(among: readonly string[] = this.runningIds(), timeoutMs = 20_000): Promise<number> {
    const leader = await this.waitForLeader({ among, timeoutMs });
    const target = (await this.status(leader.id)).commitIndex;
    for (const id of among) await this.waitForApplied(id, target, timeoutMs);
    return target;
  }

  // ---- logs ----

  /** Node `id`'s stdout so far, parsed (non-JSON lines are skipped). */
  logLines(id: string): LogLine[] {
    const file = this.node(id).logFile;
    if (!existsSync(file)) return [];
    const out: LogLine[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        out.push(JSON.parse(line) as LogLine);
      } catch {
        // a partial last line or non-JSON output
      }
    }
    return out;
  }

  /** Node `id`'s stderr so far (every incarnation). */
  stderr(id: string): string {
    const file = this.node(id).errFile;
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Log lines of node `id` with message `msg` that match `where` (field equality). */
  findLogs(id: string, msg: string, where: Readonly<Record<string, unknown>> = {}): LogLine[] {
    return this.logLines(id).filter((l) => l.msg === msg && Object.entries(where).every(([k, v]) => l[k] === v));
  }

  /** Waits for a log line of node `id` with message `msg` matching `where`; returns it. */
  waitForLog(id: string, msg: string, where: Readonly<Record<string, unknown>> = {}, timeoutMs = 20_000): Promise<LogLine> {
    return waitFor(`node ${id} to log "${msg}" ${JSON.stringify(where)}`, () => this.findLogs(id, msg, where)[0], timeoutMs, 100);
  }

  /** The last `n` lines of every node's stdout and stderr, for a failure report. */
  logTails(n = 30): string {
    const parts: string[] = [];
    for (const node of this.nodes.values()) {
      for (const file of [node.logFile, node.errFile]) {
        if (!existsSync(file)) continue;
        const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
        parts.push(`--- ${file} (last ${Math.min(n, lines.length)} lines)\n${lines.slice(-n).join('\n')}`);
      }
    }
    return parts.join('\n');
  }

  // ---- teardown ----

  /**
   * Kills every process this cluster spawned (SIGKILL; stopped ones included), waits for them
   * to exit, and removes the temporary directory (unless RAFTQ_KEEP_TEST_DIRS is set).
   * Idempotent; never throws.
   */
  async stopAll(): Promise<void> {
    this.#stopped = true;
    const waits: Array<Promise<unknown>> = [];
    for (const r of this.#spawned) {
      if (r.exit !== undefined) continue;
      try {
        r.child.kill('SIGKILL');
      } catch {
        // already gone
      }
      waits.push(withTimeout(r.exited, 10_000, 'a child to exit').catch(() => undefined));
    }
    await Promise.all(waits);
    if (process.env['RAFTQ_KEEP_TEST_DIRS'] !== undefined && process.env['RAFTQ_KEEP_TEST_DIRS'] !== '') {
      process.stderr.write(`cluster-harness: kept ${this.root}\n`);
      return;
    }
    try {
      rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort
    }
  }
}

/** This process's environment without RAFTQ_* settings, so only the harness's flags apply. */
function hermeticEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RAFTQ_')) env[k] = v;
  return env;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WaitTimeoutError(`timed out after ${ms} ms waiting for ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Queue helpers shared by the tests.

/** A received message as the HTTP API returns it. */
export interface ReceivedJson {
  readonly id: string;
  readonly offset: number;
  readonly body?: string;
  readonly receipt: string;
  readonly receiveCount: number;
}

/** GET /v1/queues/{name} as the HTTP API returns it (the fields the tests use). */
export interface QueueJson {
  readonly name: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly stats: { readonly visible: number; readonly inFlight: number; readonly delayed: number; readonly deadLettered: number; readonly oldestMessageAgeMs: number };
}

/** Message counts of a queue, without the clock-dependent age (comparable across nodes). */
export function queueCounts(q: QueueJson): { visible: number; inFlight: number; delayed: number; deadLettered: number } {
  return { visible: q.stats.visible, inFlight: q.stats.inFlight, delayed: q.stats.delayed, deadLettered: q.stats.deadLettered };
}

/** GET /v1/queues/{name} on node `id` (a linearizable read), as counts and attributes. */
export async function queueState(cluster: Cluster, id: string, queue: string): Promise<{ name: string; attributes: Readonly<Record<string, unknown>>; counts: ReturnType<typeof queueCounts> }> {
  const q = await cluster.ok<QueueJson>(id, 'GET', `/v1/queues/${queue}`);
  return { name: q.name, attributes: q.attributes, counts: queueCounts(q) };
}

/**
 * Receives and acks everything in `queue` through node `id` until a receive comes back empty
 * and the queue's stats show nothing visible, in flight or delayed; returns the bodies in the
 * order received. Uses a long visibility timeout so nothing is delivered twice.
 */
export async function drainQueue(cluster: Cluster, id: string, queue: string, timeoutMs = 30_000): Promise<string[]> {
  const bodies: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Date.now() > deadline) throw new WaitTimeoutError(`draining ${queue} through ${id} took over ${timeoutMs} ms (${bodies.length} received)`);
    const got = await cluster.ok<{ messages: ReceivedJson[] }>(id, 'POST', `/v1/queues/${queue}/receive`, { max: 100, visibilityTimeoutMs: 600_000, waitMs: 0 });
    if (got.messages.length === 0) {
      const q = await cluster.ok<QueueJson>(id, 'GET', `/v1/queues/${queue}`);
      if (q.stats.visible === 0 && q.stats.inFlight === 0 && q.stats.delayed === 0) return bodies;
      await sleep(50);
      continue;
    }
    for (const m of got.messages) bodies.push(m.body ?? `base64:${m.id}`);
    await cluster.ok(id, 'POST', `/v1/queues/${queue}/ack`, { receipts: got.messages.map((m) => m.receipt) });
  }
}
