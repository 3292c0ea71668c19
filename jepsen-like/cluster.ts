import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/proto/load.js';
import { freePorts } from './free-ports.js';
import { LinkProxy, type LinkMode } from './link-proxy.js';
import { PowerMounts, type CutDiscarded } from './power-mounts.js';
import type { PowerFs } from './powerfs.js';

/** The exit code of a raftq node stopped by a disk fault (src/server/fatal-exit.ts). */

/**
 * Segment size of the nodes' Raft log: 1 MiB, so that a run of seconds rolls and deletes many
 * segments (the default 64 MiB would never roll), and the faults reach segment creation,
 * its directory fsync and reclamation.
 */
const segmentBytes = 1 << 20;
export const storageFaultExitCode = 3;

/** One node of the cluster under test. */
export interface TestNode {
  readonly id: string;
  readonly peerPort: number;
  readonly httpPort: number;
  readonly clientPort: number;
  readonly dataDir: string;
  readonly clockFile: string;
  process: ChildProcess | undefined;
  paused: boolean;
}

/** Options of a cluster under test. */
export interface TestClusterOptions {
  readonly nodeCount: number;
  /** Directory for data dirs, logs and clock files. */
  readonly dir: string;
  /** Extra environment for every node (e.g. RAFTQ_TEST_UNSAFE for negative controls). */
  readonly env?: Record<string, string>;
  readonly rng: () => number;
  /** Each node's data directory on its own powerfs mount, for power cuts (power-mounts.ts). */
  readonly power?: boolean;
  /** With `power`: powerfs torn writes on every mount, seeded with this (power-mounts.ts). */
  readonly tornWritesSeed?: number;
}

/**
 * Real `raftq server` processes on loopback, each with its own data directory, with a LinkProxy
 * on every directed peer link so the nemesis can partition, black-hole and slow single links.
 */
export class TestCluster {
  readonly nodes: TestNode[] = [];
  /** Proxies keyed "from>to". */
  readonly links = new Map<string, LinkProxy>();
  readonly #o: TestClusterOptions;
  readonly #logs = new Map<string, WriteStream>();
  /** Exits that no kill or stop caused (a node stopping itself: an assertion, a fatal error). */
  readonly crashes: Array<{ id: string; code: number | null; signal: string | null }> = [];
  /** Deliberate stops of a node (exit storageFaultExitCode) explained by the disk fault named. */
  readonly diskStops: Array<{ id: string; fault: string }> = [];
  /** The disk fault active on each node, by id (disk nemesis). */
  readonly #diskFaults = new Map<string, string>();
  /** The disk fault each process ran under (its exit with storageFaultExitCode is then expected). */
  readonly #faultOfProcess = new WeakMap<ChildProcess, string>();
  #stopping = false;
  readonly #power: PowerMounts | undefined;

  constructor(o: TestClusterOptions) {
    this.#o = o;
    this.#power = o.power === true ? new PowerMounts(o.dir, o.tornWritesSeed !== undefined ? { tornWritesSeed: o.tornWritesSeed } : {}) : undefined;
  }

  /** Allocates ports, mounts powerfs if asked, starts the link proxies and every node. */
  async start(): Promise<void> {
    mkdirSync(this.#o.dir, { recursive: true });
    for (let i = 1; i <= this.#o.nodeCount; i++) {
      const id = `n${i}`;
      const dataDir = join(this.#o.dir, id);
      const clockFile = join(this.#o.dir, `${id}.clock`);
      writeFileSync(clockFile, '0');
      const [peerPort, httpPort, clientPort] = (await freePorts(3)) as [number, number, number];
      this.nodes.push({ id, peerPort, httpPort, clientPort, dataDir, clockFile, process: undefined, paused: false });
      await this.#power?.mount(id, dataDir);
    }
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a === b) continue;
        const proxy = new LinkProxy(a.id, b.id, { host: '127.0.0.1', port: b.peerPort }, this.#o.rng);
        await proxy.start();
        this.links.set(`${a.id}>${b.id}`, proxy);
      }
    }
    for (const n of this.nodes) this.startNode(n.id);
  }

  node(id: string): TestNode {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** The --peers value for `self`: its own real port, and proxies for the links it dials. */
  #peersFor(self: TestNode): string {
    return this.nodes
      .map((n) => {
        const port = n === self ? n.peerPort : this.links.get(`${self.id}>${n.id}`)!.port;
        return `${n.id}=127.0.0.1:${port}:${n.clientPort}:${n.httpPort}`;
      })
      .join(',');
  }

  /** Starts (or restarts) a node on its data directory. */
  startNode(id: string): void {
    const n = this.node(id);
    if (n.process !== undefined && n.process.exitCode === null && n.process.signalCode === null) return;
    // A node must not touch its mount while the power cut discards what it wrote.
    if (this.#power?.isCutting(id) === true) throw new Error(`start of ${id} during its power cut`);
    const main = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
    let log = this.#logs.get(id);
    if (log === undefined) {
      log = createWriteStream(join(this.#o.dir, `${id}.log`), { flags: 'a' });
      this.#logs.set(id, log);
    }
    const child = spawn(
      process.execPath,
      [main, 'server', '--node-id', id, '--data-dir', n.dataDir, '--peers', this.#peersFor(n), '--test-mode', '--sqs-open', '--log-level', 'info', '--snapshot-entries', '2000', '--compaction-trailing-entries', '200', '--segment-bytes', String(segmentBytes)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAFTQ_TEST_CLOCK_FILE: n.clockFile, ...this.#o.env } },
    );
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('exit', (code, signal) => {
      if (this.#stopping || signal === 'SIGKILL' || code === 0) return;
      const fault = this.#faultOfProcess.get(child);
      if (fault !== undefined && code === storageFaultExitCode) this.diskStops.push({ id, fault });
      else this.crashes.push({ id, code, signal });
    });
    const fault = this.#diskFaults.get(id);
    if (fault !== undefined) this.#faultOfProcess.set(child, fault);
    n.process = child;
    n.paused = false;
  }

  /** Starts every node that is not running (after a heal, crashed nodes included). */
  startAll(): void {
    for (const n of this.nodes) if (!this.isRunning(n.id)) this.startNode(n.id);
  }

  /** kill -9. */
  kill(id: string): void {
    const n = this.node(id);
    if (n.process !== undefined && n.process.exitCode === null) {
      if (n.paused) n.process.kill('SIGCONT');
      n.process.kill('SIGKILL');
    }
    n.paused = false;
  }

  /** kill -9, resolved once the process has exited (and released its files). */
  async killAndWait(id: string): Promise<void> {
    const p = this.node(id).process;
    const exited = p === undefined || p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => p.once('exit', () => resolve()));
    this.kill(id);
    await exited;
  }

  /**
   * Power loss on `ids` at once: kill -9 every one and wait for the exits, then discard every
   * write their disks had not made durable. They stay down until startNode.
   */
  async powerCut(ids: readonly string[]): Promise<CutDiscarded> {
    if (this.#power === undefined) throw new Error('power cut on a cluster without powerfs mounts (TestClusterOptions.power)');
    return this.#power.cut(ids, async () => {
      await Promise.all(ids.map((id) => this.killAndWait(id)));
    });
  }

  /**
   * Names the disk fault now active on node `id` (undefined: none), set before the fault is
   * switched on and cleared after it is off: the node's process running now, and any started
   * meanwhile, may then stop with storageFaultExitCode without counting as a crash.
   */
  setDiskFault(id: string, fault: string | undefined): void {
    if (fault === undefined) {
      this.#diskFaults.delete(id);
      return;
    }
    this.#diskFaults.set(id, fault);
    const p = this.node(id).process;
    if (p !== undefined) this.#faultOfProcess.set(p, fault);
  }

  /** Node `id`'s powerfs (a cluster with power mounts only). */
  disk(id: string): PowerFs {
    if (this.#power === undefined) throw new Error('disk fault on a cluster without powerfs mounts (TestClusterOptions.power)');
    return this.#power.fs(id);
  }

  /** SIGSTOP / SIGCONT. */
  pause(id: string): void {
    const n = this.node(id);
    if (n.process !== undefined && n.process.exitCode === null && !n.paused) {
      n.process.kill('SIGSTOP');
      n.paused = true;
    }
  }

  resume(id: string): void {
    const n = this.node(id);
    if (n.process !== undefined && n.paused) {
      n.process.kill('SIGCONT');
      n.paused = false;
    }
  }

  isRunning(id: string): boolean {
    const p = this.node(id).process;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  /** Sets the link from -> to. */
  setLink(from: string, to: string, mode: LinkMode): void {
    this.links.get(`${from}>${to}`)?.setMode(mode);
  }

  /** Every link back to pass. */
  healLinks(): void {
    for (const l of this.links.values()) if (l.mode.kind !== 'pass') l.setMode({ kind: 'pass' });
  }

  /** Sets a node's clock offset (honoured in test mode). */
  setClockOffset(id: string, offsetMs: number): void {
    writeFileSync(this.node(id).clockFile, String(Math.round(offsetMs)));
  }

  /** The leader as reported by a majority-agreeing poll of /v1/cluster, if any. */
  async leader(): Promise<string | undefined> {
    const answers = await Promise.all(
      this.nodes.map(async (n) => {
        if (!this.isRunning(n.id) || n.paused) return undefined;
        try {
          const res = await fetch(`http://127.0.0.1:${n.httpPort}/v1/cluster`, { signal: AbortSignal.timeout(500) });
          const body = (await res.json()) as { role?: string; id?: string };
          return body.role === 'leader' ? body.id : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    return answers.find((a) => a !== undefined);
  }

  /** Client addresses of every node (binary protocol). */
  clientAddresses(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.clientPort}`);
  }

  /** HTTP addresses of every node. */
  httpAddresses(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.httpPort}`);
  }

  /** Stops everything: resumes paused nodes, SIGTERMs, then SIGKILLs stragglers; closes proxies. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const n of this.nodes) {
      if (n.paused) this.resume(n.id);
    }
    this.healLinks();
    const exits = this.nodes.map((n) => {
      const p = n.process;
      if (p === undefined || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const t = setTimeout(() => p.kill('SIGKILL'), 5000);
        p.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        p.kill('SIGTERM');
      });
    });
    await Promise.all(exits);
    for (const l of this.links.values()) await l.close();
    for (const log of this.#logs.values()) log.end();
    await this.#power?.unmountAll();
  }
}
