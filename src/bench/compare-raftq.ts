/**
 * A raftq cluster for the comparison script: three `raftq server` processes on loopback with a
 * fresh data directory, started, waited for (an agreed leader), stopped gracefully (SIGTERM,
 * SIGKILL after 10 s), and nodes restarted with the time until GET /ready answers 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RaftqError } from '../errors.js';
import { formatPeers, localClusterPeers } from '../server/config.js';
import type { PeerConfig } from '../server/peer-config.js';
import { serverProcessEnv } from '../server/process-env.js';
import { cliMain, hermeticEnv } from './compare-procs.js';

/** Nodes per cluster. */
const clusterSize = 3;

/**
 * Node i's ports (1-based): with `basePort` P, client P+i, peer P+100+i, HTTP P+200+i; without,
 * the local cluster's (client 700i, peer 710i, HTTP 800i), which ../shared/bench/peers.mjs and
 * failover.mjs assume.
 */
export function raftqPeers(basePort: number | undefined): Record<string, PeerConfig> {
  if (basePort === undefined) return localClusterPeers(clusterSize);
  const peers: Record<string, PeerConfig> = {};
  for (let i = 1; i <= clusterSize; i++) peers[`n${i}`] = { host: '127.0.0.1', clientPort: basePort + i, peerPort: basePort + 100 + i, httpPort: basePort + 200 + i };
  return peers;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** The ports of raftqPeers(basePort) that cannot be bound on 127.0.0.1 right now. */
export async function busyPorts(basePort: number | undefined): Promise<number[]> {
  const busy: number[] = [];
  for (const p of Object.values(raftqPeers(basePort))) {
    for (const port of [p.clientPort!, p.peerPort, p.httpPort!]) if (!(await canBind(port))) busy.push(port);
  }
  return busy;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** GET http://127.0.0.1:port/path: status and JSON body; undefined when the node does not answer. */
async function getJson(port: number, path: string, timeoutMs = 1000): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: res.status, body };
  } catch {
    return undefined;
  }
}

interface Node {
  readonly id: string;
  readonly peer: PeerConfig;
  child: ChildProcess | undefined;
  exited: Promise<void>;
}

/** The cluster processes of every BenchCluster, SIGKILLed by killAllClusters(). */
const allChildren = new Set<ChildProcess>();

/** SIGKILLs every node process still alive (for an interrupted comparison). */
export function killAllClusters(): void {
  for (const c of allChildren) {
    try {
      c.kill('SIGKILL');
    } catch {
      // gone
    }
  }
}

/** A three-node raftq cluster of real processes (see the module comment). */
export class BenchCluster {
  readonly name: string;
  readonly dataDir: string;
  readonly logDir: string;
  readonly peers: Readonly<Record<string, PeerConfig>>;
  readonly #nodes = new Map<string, Node>();

  private constructor(name: string, dataDir: string, logDir: string, peers: Record<string, PeerConfig>) {
    this.name = name;
    this.dataDir = dataDir;
    this.logDir = logDir;
    this.peers = peers;
    for (const [id, peer] of Object.entries(peers)) this.#nodes.set(id, { id, peer, child: undefined, exited: Promise.resolve() });
  }

  /**
   * Checks that every port is free, spawns the nodes on a fresh `dataDir` (logs to
   * `logDir/NAME-nI.log`) and waits up to 30 s for an agreed leader. Throws (after stopping
   * what it started) when a port is taken or no leader appears.
   */
  static async start(o: { name: string; dataDir: string; logDir: string; basePort: number | undefined }): Promise<BenchCluster> {
    const peers = raftqPeers(o.basePort);
    const busy = await busyPorts(o.basePort);
    if (busy.length > 0) throw new RaftqError('UNAVAILABLE', `port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} in use (another raftq cluster running?); pick free ports with --base-port`);
    rmSync(o.dataDir, { recursive: true, force: true });
    mkdirSync(o.dataDir, { recursive: true });
    mkdirSync(o.logDir, { recursive: true });
    const c = new BenchCluster(o.name, o.dataDir, o.logDir, peers);
    try {
      for (const id of c.ids) c.spawn(id);
      await c.waitForLeader(30_000);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /** Node ids, n1..n3. */
  get ids(): string[] {
    return [...this.#nodes.keys()];
  }

  /** The binary client addresses, for `raftq bench --nodes`. */
  get nodesFlag(): string {
    return Object.values(this.peers)
      .map((p) => `${p.host}:${p.clientPort}`)
      .join(',');
  }

  /** Node `id`'s HTTP port. */
  httpPort(id: string): number {
    return this.#node(id).peer.httpPort!;
  }

  /** Node `id`'s data directory. */
  nodeDataDir(id: string): string {
    return join(this.dataDir, this.#node(id).id);
  }

  /** Starts node `id` (it must not be running) with the same flags every time. */
  spawn(id: string): void {
    const n = this.#node(id);
    if (n.child !== undefined && n.child.exitCode === null && n.child.signalCode === null) throw new RaftqError('INTERNAL', `node ${id} is already running`);
    const log = openSync(join(this.logDir, `${this.name}-${id}.log`), 'a');
    let child: ChildProcess;
    try {
      const args = [cliMain(), 'server', '--node-id', id, '--data-dir', this.nodeDataDir(id), '--peers', formatPeers(this.peers), '--log-level', 'info'];
      child = spawn(process.execPath, args, { stdio: ['ignore', log, log], env: serverProcessEnv(hermeticEnv()) });
    } finally {
      closeSync(log);
    }
    allChildren.add(child);
    n.child = child;
    n.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        allChildren.delete(child);
        resolve();
      });
      child.once('error', () => {
        allChildren.delete(child);
        resolve();
      });
    });
  }

  /** Whether node `id` has a live process. */
  isRunning(id: string): boolean {
    const c = this.#node(id).child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Stops node `id`: SIGCONT and SIGTERM, SIGKILL after `graceMs`; resolves once it exited. */
  async stopNode(id: string, graceMs = 10_000): Promise<void> {
    const n = this.#node(id);
    if (!this.isRunning(id)) return;
    n.child!.kill('SIGCONT');
    n.child!.kill('SIGTERM');
    const killer = setTimeout(() => n.child?.kill('SIGKILL'), graceMs);
    try {
      await n.exited;
    } finally {
      clearTimeout(killer);
    }
  }

  /** Stops every node (see stopNode). */
  async stop(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.stopNode(id)));
  }

  /** Removes the data directory (after stop()). */
  removeData(): void {
    rmSync(this.dataDir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** Each running node's role as it reports it (GET /v1/cluster), or 'unreachable'. */
  async roles(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const id of this.ids) {
      const r = this.isRunning(id) ? await getJson(this.httpPort(id), '/v1/cluster') : undefined;
      out[id] = typeof r?.body['role'] === 'string' ? r.body['role'] : 'unreachable';
    }
    return out;
  }

  /** Waits until every running node names the same leader, which reports itself leader. */
  async waitForLeader(timeoutMs = 30_000): Promise<{ id: string; term: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = this.ids.filter((id) => this.isRunning(id));
      if (running.length === 0) throw new RaftqError('UNAVAILABLE', `every node of ${this.name} exited (see ${this.logDir}/${this.name}-n*.log)`);
      const views = await Promise.all(running.map((id) => getJson(this.httpPort(id), '/v1/cluster')));
      const leaders = new Set(views.map((v) => v?.body['leader']));
      const first = views[0]?.body;
      const leader = first?.['leader'];
      if (typeof leader === 'string' && leaders.size === 1 && views.every((v) => v !== undefined)) {
        const own = views[running.indexOf(leader)]?.body;
        if (own?.['role'] === 'leader') return { id: leader, term: typeof own['term'] === 'number' ? own['term'] : 0 };
      }
      if (Date.now() > deadline) throw new RaftqError('NO_LEADER', `${this.name}: no agreed leader within ${timeoutMs / 1000} s (see ${this.logDir}/${this.name}-n*.log)`);
      await sleep(100);
    }
  }

  /**
   * Restarts node `id`: SIGTERM, waits for it to exit, starts it again with the same flags and
   * measures the milliseconds from the spawn until its GET /ready answers 200 (polled every
   * 50 ms, at most `timeoutMs`).
   */
  async restartTimed(id: string, timeoutMs = 120_000): Promise<{ stopMs: number; readyMs: number }> {
    const t0 = performance.now();
    await this.stopNode(id);
    const stopMs = performance.now() - t0;
    const spawnedAt = performance.now();
    this.spawn(id);
    for (;;) {
      const r = await getJson(this.httpPort(id), '/ready', 500);
      if (r?.status === 200) return { stopMs: Math.round(stopMs), readyMs: Math.round(performance.now() - spawnedAt) };
      if (!this.isRunning(id)) throw new RaftqError('UNAVAILABLE', `node ${id} exited while starting (see ${this.logDir}/${this.name}-${id}.log)`);
      if (performance.now() - spawnedAt > timeoutMs) throw new RaftqError('TIMEOUT', `node ${id} not ready ${timeoutMs / 1000} s after its restart`);
      await sleep(50);
    }
  }

  #node(id: string): Node {
    const n = this.#nodes.get(id);
    if (n === undefined) throw new RaftqError('INTERNAL', `no node ${id}`);
    return n;
  }
}
