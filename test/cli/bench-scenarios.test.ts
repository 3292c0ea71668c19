/**
 * `raftq bench --scenario ...` end to end: the compiled CLI against a real three-node cluster
 * (ports from 20000-32767, see the cluster harness), each scenario briefly with tiny sizes.
 * Checks the JSON shape and the correctness fields (the drain empties the queue, no
 * acknowledged write is lost across a SIGSTOP or a SIGKILL of the leader), never timings.
 * The SIGKILL test runs last: it leaves the cluster with two nodes.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, cliMain, type QueueJson } from '../integration/cluster-harness.js';

let cluster: Cluster;
let nodes: string;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `raftq bench ARGS --nodes <the test cluster>`. */
function bench(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RAFTQ_')) env[k] = v;
    const child = spawn(process.execPath, [cliMain, 'bench', ...args, '--nodes', nodes], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs with --json, expects exit 0 and returns the parsed object. */
async function benchJson<T>(args: readonly string[]): Promise<T> {
  const r = await bench([...args, '--json']);
  if (r.code !== 0) throw new Error(`raftq bench ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  cluster = await Cluster.start({ name: 'bench-scenarios', logLevel: 'warn' });
  nodes = cluster.ids.map((id) => `127.0.0.1:${cluster.node(id).clientPort}`).join(',');
});

afterAll(async () => {
  await cluster?.stopAll();
});

describe('raftq bench scenarios', () => {
  test('produce (the default) keeps its JSON fields and says which scenario it ran', async () => {
    const r = await benchJson<Record<string, unknown>>(['--scenario', 'produce', '--duration', '1', '--producers', '2', '--size', '32']);
    expect(r).toMatchObject({ scenario: 'produce', mode: 'binary', producers: 2, consumers: 0, messageBytes: 32, batch: 1, errors: 0 });
    for (const k of ['durationS', 'sent', 'sentPerS', 'sendLatencyMs', 'received', 'receivedPerS', 'endToEndLatencyMs', 'errorSamples']) expect(r).toHaveProperty(k);
    expect(r['sent']).toBeGreaterThan(0);
  });

  test('drain preloads, drains with consumers spread over the nodes, and leaves the queue empty', async () => {
    const r = await benchJson<{
      scenario: string;
      preloaded: number;
      toDrain: number;
      acked: number;
      consumers: number;
      consumerNodes: Array<{ first: string; last: string }>;
      empty: boolean;
      left: { visible: number; inFlight: number; delayed: number };
      errors: number;
      drainPerS: number;
      preloadPerS: number;
      queue: string;
    }>(['--scenario', 'drain', '--messages', '300', '--consumers', '3', '--size', '16', '--prefetch', '20']);
    expect(r).toMatchObject({ scenario: 'drain', preloaded: 300, toDrain: 300, acked: 300, consumers: 3, empty: true, left: { visible: 0, inFlight: 0, delayed: 0 }, errors: 0 });
    expect(r.consumerNodes).toHaveLength(3);
    // Consumer k starts at node k % 3 of --nodes.
    expect(r.consumerNodes.map((n) => n.first)).toEqual(cluster.ids);
    for (const n of r.consumerNodes) expect(cluster.ids).toContain(n.last);
    expect(typeof r.drainPerS).toBe('number');
    expect(typeof r.preloadPerS).toBe('number');
    // A temporary queue is deleted afterwards.
    expect((await cluster.http(cluster.ids[0]!, 'GET', `/v1/queues/${r.queue}`)).status).toBe(404);
  });

  test('backlog preloads, reports every node\'s RSS and keeps the queue', async () => {
    const r = await benchJson<{
      scenario: string;
      queue: string;
      sent: number;
      visible: number;
      nodes: Array<{ id: string; role: string; rssBytes: number; peakRssBytes: number }>;
      maxRssBytes: number;
    }>(['--scenario', 'backlog', '--messages', '500', '--size', '64', '--queue', 'bench-backlog-test', '--in-flight', '2']);
    expect(r).toMatchObject({ scenario: 'backlog', queue: 'bench-backlog-test', sent: 500, visible: 500 });
    expect(r.nodes.map((n) => n.id).sort()).toEqual(cluster.ids);
    for (const n of r.nodes) {
      expect(['leader', 'follower']).toContain(n.role);
      expect(n.rssBytes).toBeGreaterThan(0);
      expect(n.peakRssBytes).toBeGreaterThanOrEqual(n.rssBytes);
    }
    expect(r.maxRssBytes).toBe(Math.max(...r.nodes.map((n) => n.peakRssBytes)));
    const q = await cluster.ok<QueueJson>(cluster.ids[0]!, 'GET', '/v1/queues/bench-backlog-test');
    expect(q.stats.visible).toBe(500);
    await cluster.ok(cluster.ids[0]!, 'DELETE', '/v1/queues/bench-backlog-test');
  });

  test('pinned holds one message under its lease while the bytes pass, and keeps a named queue', async () => {
    const r = await benchJson<{
      scenario: string;
      queue: string;
      pinnedId: string;
      leaseS: number;
      messages: number;
      sent: number;
      acked: number;
      passedBytes: number;
      pinnedRedelivered: number;
      left: { visible: number; inFlight: number; delayed: number };
      held: boolean;
      errors: number;
    }>(['--scenario', 'pinned', '--bytes', '100000', '--size', '1000', '--lease', '600', '--in-flight', '2', '--queue', 'bench-pinned-test']);
    expect(r).toMatchObject({ scenario: 'pinned', queue: 'bench-pinned-test', leaseS: 600, messages: 100, sent: 100, acked: 100, passedBytes: 100_000, pinnedRedelivered: 0, held: true, errors: 0 });
    expect(r.left).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    const q = await cluster.ok<QueueJson>(cluster.ids[0]!, 'GET', '/v1/queues/bench-pinned-test');
    expect([q.stats.visible, q.stats.inFlight]).toEqual([0, 1]);
    await cluster.ok(cluster.ids[0]!, 'DELETE', '/v1/queues/bench-pinned-test');
  });

  test('a human summary without --json', async () => {
    const r = await bench(['--scenario', 'drain', '--messages', '50', '--consumers', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^raftq bench drain: /);
    expect(r.stdout).toContain('empty');
  });

  test('failover with SIGSTOP: the leader is frozen, continued afterwards, no acknowledged write lost', async () => {
    const r = await benchJson<FailoverJson>(['--scenario', 'failover', '--signal', 'STOP', '--warm', '1', '--duration', '3', '--producers', '4', '--size', '32']);
    checkFailover(r, 'STOP');
    // SIGCONT after the run: the old leader is running and answers again.
    expect(cluster.isRunning(r.leader.id)).toBe(true);
    await cluster.waitForLeader();
    expect((await cluster.status(r.leader.id, 5000)).id).toBe(r.leader.id);
  });

  test('failover with SIGKILL: the leader dies, writes go on, no acknowledged write lost', async () => {
    const before = await cluster.waitForLeader();
    const r = await benchJson<FailoverJson>(['--scenario', 'failover', '--warm', '1', '--duration', '3', '--producers', '4', '--size', '32']);
    checkFailover(r, 'KILL');
    expect(r.leader.id).toBe(before.id);
    const exit = await cluster.waitForExit(r.leader.id);
    expect(exit.signal).toBe('SIGKILL');
    expect(r.newLeader).not.toBe(r.leader.id);
  });
});

interface FailoverJson {
  scenario: string;
  signal: string;
  producers: number;
  leader: { id: string; pid: number; http: string; term: number };
  newLeader: string | null;
  acked: number;
  errors: number;
  maxGapMs: number;
  signalGapMs: number;
  firstAckAfterSignalMs: number | null;
  readback: { visible: number; inFlight: number; lost: number; duplicates: number };
}

function checkFailover(r: FailoverJson, signal: string): void {
  expect(r).toMatchObject({ scenario: 'failover', signal, producers: 4 });
  expect(cluster.ids).toContain(r.leader.id);
  expect(r.leader.pid).toBeGreaterThan(0);
  expect(r.acked).toBeGreaterThan(0);
  expect(r.readback.lost).toBe(0);
  expect(r.readback.visible).toBe(r.acked + r.readback.duplicates);
  expect(r.readback.inFlight).toBe(0);
  for (const k of ['maxGapMs', 'signalGapMs'] as const) expect(typeof r[k]).toBe('number');
}

describe('raftq bench usage errors', () => {
  const cases: Array<{ name: string; args: string[] }> = [
    { name: 'an unknown scenario', args: ['--scenario', 'nope'] },
    { name: 'a flag of another scenario', args: ['--scenario', 'drain', '--signal', 'KILL'] },
    { name: 'a produce flag on backlog', args: ['--scenario', 'backlog', '--batch', '5'] },
    { name: 'a failover flag on produce', args: ['--warm', '2'] },
    { name: 'a bad --signal', args: ['--scenario', 'failover', '--signal', 'TERM'] },
    { name: '--messages 0', args: ['--scenario', 'drain', '--messages', '0'] },
    { name: 'a non-integer --consumers', args: ['--scenario', 'drain', '--consumers', 'x'] },
    { name: 'an empty --queue', args: ['--scenario', 'backlog', '--queue', ''] },
    { name: 'a lease over 12 h', args: ['--scenario', 'pinned', '--lease', '43201'] },
    { name: '--bytes on produce', args: ['--bytes', '1000'] },
  ];
  test.concurrent.each(cases)('$name -> exit 2 with INVALID_ARGUMENT', async ({ args }) => {
    const r = await bench(args);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('error INVALID_ARGUMENT:')]);
  });

  test('--help describes every scenario', async () => {
    const r = await bench(['--help']);
    expect(r.code).toBe(0);
    for (const s of ['produce', 'drain', 'failover', 'backlog', 'pinned']) expect(r.stdout).toContain(`  ${s}`);
  });
});
