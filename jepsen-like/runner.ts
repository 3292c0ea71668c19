import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRng } from '../raft/rng.js';
import { checkDedup, type DedupCheckResult } from './checkers/dedup-checker.js';
import { checkFifo, type FifoCheckResult } from './checkers/fifo-checker.js';
import { checkLinearizableQueue, queueOpsFromHistory, type LinearizabilityResult } from './checkers/linearizability.js';
import { checkQueue, type QueueCheckResult } from './checkers/queue-checker.js';
import { TestCluster } from './cluster.js';
import { History } from './history.js';
import type { UnsafeMode } from '../src/server/test-hooks.js';
import type { CorruptScope } from './corrupt-nemesis.js';
import { Nemesis, planFaults, type CorruptionSummary, type Fault, type NemesisKind, type PowerCutSummary } from './nemesis.js';
import { writeReport } from './report.js';
import { runValid } from './verdict.js';
import { LibraryWorkloadClient } from './library-client.js';
import { SqsWorkloadClient } from './sqs-client.js';
import { HttpWorkloadClient, type WorkloadClient } from './workload-client.js';
import { recorded, toDeliveries, workloadByName, type WorkloadName } from './workloads.js';

/** One test run's settings. */
export interface RunOptions {
  readonly workload: WorkloadName;
  readonly nemesis: readonly NemesisKind[];
  /** Length of the faulty phase in seconds. */
  readonly timeS: number;
  readonly seed: number;
  readonly nodes: number;
  readonly workers: number;
  /** Directory for this run's results, history, logs and report. */
  readonly dir: string;
  /** A deliberately broken server build, for negative controls. */
  readonly unsafe?: UnsafeMode;
  /** Per-operation timeout; beyond it the outcome is unknown. */
  readonly opTimeoutMs?: number;
  /** Which client drives the workload; default: the library, HTTP for `linearizable`. */
  readonly client?: 'library' | 'http' | 'sqs';
  /** A fixed fault schedule instead of the seeded one (negative controls use it). */
  readonly faultPlan?: readonly Fault[];
  /** Power cuts tear the last unsynced write of each file (powerfs torn writes, seeded with `seed`). */
  readonly powerTorn?: boolean;
  /** Which nodes a `corrupt` fault damages; default `minority` (`all`: negative controls only). */
  readonly corruptScope?: CorruptScope;
  readonly progress?: (line: string) => void;
}

/** What a run found. */
export interface RunResult {
  readonly valid: boolean;
  readonly seed: number;
  readonly workload: WorkloadName;
  readonly nemesis: readonly NemesisKind[];
  readonly ops: number;
  readonly okOps: number;
  readonly failOps: number;
  readonly infoOps: number;
  readonly faults: Record<string, number>;
  /** Power cuts by variant and what they discarded (runs with powerfs mounts only). */
  readonly powerCuts?: PowerCutSummary;
  /** Whether the power cuts tore writes (RunOptions.powerTorn). */
  readonly powerTorn?: boolean;
  /** Corruption faults by mode and every damage done, with their scope (runs with `corrupt` only). */
  readonly corruptions?: CorruptionSummary & { readonly scope: CorruptScope };
  readonly queue: QueueCheckResult;
  readonly fifo?: FifoCheckResult;
  /** Keyed enqueues resolved to one message each. */
  readonly dedup: DedupCheckResult;
  /** `unknown` (a search that gave up) fails the run like `false`. */
  readonly linearizable?: { valid: boolean | 'unknown'; partitions: Record<string, LinearizabilityResult> };
  readonly drainComplete: boolean;
  /** Nodes that stopped on their own (an assertion or a fatal error). Must be none. */
  readonly nodeCrashes: ReadonlyArray<{ id: string; code: number | null; signal: string | null }>;
  /** Deliberate stops (exit 3: STORAGE_FULL, STORAGE_IO) explained by the disk fault named; not crashes. */
  readonly diskStops: ReadonlyArray<{ id: string; fault: string }>;
  readonly dir: string;
}

/** Largest linearizability partition searched; larger ones are reported "unknown", which fails the run. */
const linearizableOpsMax = 3000;

/**
 * Runs one test: a fresh cluster of real processes, concurrent workers recording a history, a
 * seeded nemesis schedule, a final heal and drain, then the checkers, results.json and
 * report.html in `dir`.
 */
export async function runTest(o: RunOptions): Promise<RunResult> {
  const say = o.progress ?? (() => {});
  mkdirSync(o.dir, { recursive: true });
  const rng = seededRng(o.seed);
  const rand = (): number => rng.next();
  const history = new History(join(o.dir, 'history.jsonl'));
  // Data directories go on powerfs mounts only when power cuts may come (it needs FUSE).
  const power = o.nemesis.some((k) => k === 'power' || k === 'disk') || (o.faultPlan?.some((f) => f.kind === 'power' || f.kind === 'disk') ?? false);
  const cluster = new TestCluster({ nodeCount: o.nodes, dir: join(o.dir, 'nodes'), rng: rand, power, ...(power && o.powerTorn === true ? { tornWritesSeed: o.seed } : {}), ...(o.unsafe !== undefined ? { env: { RAFTQ_TEST_UNSAFE: o.unsafe } } : {}) });
  const corrupt = o.nemesis.includes('corrupt') || (o.faultPlan?.some((f) => f.kind === 'corrupt') ?? false);
  const nemesis = new Nemesis(cluster, history, o.corruptScope !== undefined ? { corruptScope: o.corruptScope } : {});
  const workload = workloadByName(o.workload);
  const opTimeoutMs = o.opTimeoutMs ?? 5000;
  const clients: WorkloadClient[] = [];
  const newClient = (i: number): WorkloadClient => {
    // The linearizability workload uses HTTP: the client library retries a receive after an
    // unknown outcome, so an earlier attempt's delivery can stay hidden under its 12 h lease
    // without any operation in the history to account for it.
    const kind = o.client ?? (o.workload === 'linearizable' ? 'http' : 'library');
    const c: WorkloadClient =
      kind === 'http'
        ? new HttpWorkloadClient(rotate(cluster.httpAddresses(), i), opTimeoutMs, `s${o.seed}-c${i}-${Date.now().toString(36)}`)
        : kind === 'sqs'
          ? new SqsWorkloadClient(rotate(cluster.httpAddresses(), i), opTimeoutMs)
          : new LibraryWorkloadClient(rotate(cluster.clientAddresses(), i), opTimeoutMs);
    clients.push(c);
    return c;
  };
  let drainComplete = false;
  /** A fault the nemesis could not inject (a harness failure, not a verdict): thrown after cleanup. */
  let nemesisError: unknown;
  try {
    await cluster.start();
    say(`cluster of ${o.nodes} nodes starting in ${o.dir}`);
    await waitFor(async () => (await cluster.leader()) !== undefined, 30_000, 'a leader');
    const setup = newClient(99);
    for (const q of workload.queues) await retry(() => setup.createQueue(q.name, q.attributes), 30_000);
    const faults = o.faultPlan ?? planFaults(o.nemesis, o.timeS * 1000, rand);
    say(`workload ${o.workload}, ${o.workers} workers, ${o.timeS} s, ${faults.length} faults planned (seed ${o.seed})`);
    const started = Date.now();
    const endAt = started + o.timeS * 1000;
    const timers: NodeJS.Timeout[] = [];
    for (const f of faults) {
      timers.push(
        setTimeout(() => {
          void nemesis.heal().catch((e: unknown) => (nemesisError ??= e));
          nemesis.start(f).then(
            (d) => say(`  ${((Date.now() - started) / 1000).toFixed(1)} s nemesis: ${d}`),
            (e: unknown) => (nemesisError ??= e),
          );
        }, f.atMs),
        setTimeout(() => void nemesis.heal().catch((e: unknown) => (nemesisError ??= e)), f.atMs + f.durationMs),
      );
    }
    const ticker = setInterval(() => {
      const c = countOps(history);
      say(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${c.ok} ok, ${c.fail} fail, ${c.info} info`);
    }, 5000);
    const workerRngs = Array.from({ length: o.workers }, (_, w) => seededRng(o.seed * 1000 + w + 1));
    await Promise.all(
      workerRngs.map(async (wr, w) => {
        const client = newClient(w);
        const r = (): number => wr.next();
        while (Date.now() < endAt) {
          await workload.step(w, client, history, r);
          // Pacing keeps the history searchable and leaves CPU for the nodes.
          await sleep(o.workload === 'linearizable' ? 40 + r() * 60 : 5 + r() * 15);
        }
      }),
    );
    for (const t of timers) clearTimeout(t);
    clearInterval(ticker);
    // Waits for a power cut still under way: its nodes restart only once their disks are cut.
    await nemesis.heal();
    cluster.startAll();
    say('healing: every fault removed; draining');
    history.phase = 'drain';
    try {
      await waitFor(async () => (await cluster.leader()) !== undefined, 60_000, 'a leader after healing');
      drainComplete = await drain(workload, newClient(100), history, say);
    } catch (e) {
      // An unavailable cluster after healing is itself a failed run, not a harness error.
      say(`  drain impossible: ${e instanceof Error ? e.message : String(e)}`);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await cluster.stop();
    await history.close();
  }
  if (nemesisError !== undefined) throw nemesisError;

  // The linearizability check runs first: its witness names the receives that hold messages
  // under their 12 h leases, the only excuse the queue checker accepts for a missing message.
  let linearizable: RunResult['linearizable'];
  const heldBy = new Map<string, number>();
  if (o.workload === 'linearizable') {
    const partitions: Record<string, LinearizabilityResult> = {};
    for (const [q, ops] of queueOpsFromHistory(history.ops)) {
      const p = ops.length > linearizableOpsMax ? { valid: 'unknown' as const, ops: ops.length, explored: 0, reason: `partition of ${ops.length} ops exceeds ${linearizableOpsMax}` } : checkLinearizableQueue(ops);
      partitions[q] = p;
      for (const h of p.held ?? []) heldBy.set(h.value, h.index);
    }
    const vs = Object.values(partitions).map((p) => p.valid);
    linearizable = { valid: vs.includes(false) ? false : vs.includes('unknown') ? 'unknown' : true, partitions };
  }
  const queue = checkQueue(history.ops, { heldBy });
  const fifo = o.workload === 'fifo' ? checkFifo(history.ops) : undefined;
  const dedup = checkDedup(history.ops);
  const c = countOps(history);
  const result: RunResult = {
    valid: runValid({ queue, fifo, dedup, linearizable, drainComplete, nodeCrashes: cluster.crashes.length }),
    seed: o.seed,
    workload: o.workload,
    nemesis: o.nemesis,
    ops: c.ok + c.fail + c.info,
    okOps: c.ok,
    failOps: c.fail,
    infoOps: c.info,
    faults: Object.fromEntries(nemesis.injected),
    ...(power ? { powerCuts: nemesis.powerCuts, powerTorn: o.powerTorn === true } : {}),
    ...(corrupt ? { corruptions: { ...nemesis.corruptions, scope: o.corruptScope ?? 'minority' } } : {}),
    queue,
    ...(fifo !== undefined ? { fifo } : {}),
    dedup,
    ...(linearizable !== undefined ? { linearizable } : {}),
    drainComplete,
    nodeCrashes: cluster.crashes,
    diskStops: cluster.diskStops,
    dir: o.dir,
  };
  writeFileSync(join(o.dir, 'results.json'), JSON.stringify(result, null, 2));
  writeReport(join(o.dir, 'report.html'), history.ops, nemesis.windows, result);
  return result;
}

/**
 * Receives (and acks) until every queue reports nothing visible, in flight or delayed, and a
 * few receives in a row came back empty. Messages in flight at the heal become visible again
 * after their visibility timeout, so the drain outlasts it.
 */
async function drain(workload: ReturnType<typeof workloadByName>, client: WorkloadClient, history: History, say: (s: string) => void): Promise<boolean> {
  const deadline = Date.now() + 90_000;
  for (const q of workload.queues) {
    let empties = 0;
    let drained = 0;
    while (Date.now() < deadline) {
      const max = workload.name === 'linearizable' ? 1 : 50;
      const got = await recorded(history, 1000, 'receive', q.name, { visibilityTimeoutMs: workload.visibilityTimeoutMs, max }, () => client.receive(q.name, max, workload.visibilityTimeoutMs, 500), toDeliveries);
      if (got === undefined) {
        // Failed or unknown (a queue a broken build lost answers NOT_FOUND at once): a pause
        // keeps the history from filling with hundreds of thousands of failures.
        await sleep(100);
        continue;
      }
      drained += got.length;
      if (workload.drainAcks) for (const m of got) await recorded(history, 1000, 'ack', q.name, { value: m.body, receipt: m.receipt }, () => client.ack(q.name, m.receipt));
      if (got.length > 0) {
        empties = 0;
        continue;
      }
      empties++;
      if (empties < 3) continue;
      const s = await client.stats(q.name).catch(() => undefined);
      // Long-visibility queues keep dequeued messages in flight for hours: only visible and
      // delayed ones count as undrained there.
      const rest = s === undefined ? 1 : s.visible + s.delayed + (workload.drainAcks ? s.inFlight : 0);
      if (rest === 0) {
        say(`  drained ${q.name}: ${drained} messages`);
        break;
      }
      await sleep(250);
    }
    if (Date.now() >= deadline) {
      say(`  drain of ${q.name} did not finish in time`);
      return false;
    }
  }
  return true;
}

function countOps(h: History): { ok: number; fail: number; info: number } {
  let ok = 0;
  let fail = 0;
  let info = 0;
  for (const op of h.ops) {
    if (op.f === 'nemesis') continue;
    if (op.type === 'ok') ok++;
    else if (op.type === 'fail') fail++;
    else if (op.type === 'info') info++;
  }
  return { ok, fail, info };
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await cond()) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function retry(fn: () => Promise<void>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fn();
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await sleep(250);
    }
  }
}

function rotate<T>(xs: readonly T[], k: number): T[] {
  const i = k % xs.length;
  return [...xs.slice(i), ...xs.slice(0, i)];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
