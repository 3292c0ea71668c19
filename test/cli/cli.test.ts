/**
 * The `raftq` CLI end to end: the compiled dist/src/cli/main.js spawned against a real
 * three-node cluster, for every client command, --help everywhere, a table of bad usage
 * (exit code 2, the error code printed) and runtime failures (exit code 1, code and hint).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, cliMain } from '../integration/cluster-harness.js';

let cluster: Cluster;
let nodes: string;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `raftq ARGS` with RAFTQ_NODES pointing at the test cluster. */
function raftq(args: readonly string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliMain, ...args], {
      env: { ...process.env, RAFTQ_NODES: nodes, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Runs and expects exit code 0; returns stdout. */
async function ok(args: readonly string[], opts?: { stdin?: string }): Promise<string> {
  const r = await raftq(args, opts);
  if (r.code !== 0) throw new Error(`raftq ${args.join(' ')} exited ${r.code}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The JSON lines of an output. */
function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

beforeAll(async () => {
  cluster = await Cluster.start({ name: 'cli', logLevel: 'warn' });
  nodes = cluster.ids.map((id) => `127.0.0.1:${cluster.node(id).clientPort}`).join(',');
});

afterAll(async () => {
  await cluster?.stopAll();
});

describe('help', () => {
  const commands = ['server', 'cluster', 'create', 'delete', 'purge', 'queues', 'stats', 'send', 'receive', 'ack', 'nack', 'redrive', 'status', 'transfer-leader', 'bench'];
  test.concurrent.each(commands)('raftq %s --help', async (cmd) => {
    const r = await raftq([cmd, '--help']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, expect.stringContaining(`usage: raftq ${cmd}`), '']);
  });

  test('raftq --help lists every command; raftq alone is bad usage', async () => {
    const help = await ok(['--help']);
    for (const cmd of commands) expect(help).toContain(`  ${cmd} `);
    const bare = await raftq([]);
    expect(bare.code).toBe(2);
  });
});

describe('queue commands end to end', () => {
  test('create, queues, send (argument and stdin lines), stats, receive, ack, nack, purge, delete', async () => {
    expect(await ok(['create', 'jobs', '--visibility-timeout', '60000'])).toContain('created queue jobs');
    expect(await ok(['create', 'jobs', '--visibility-timeout', '60000'])).toContain('already exists');
    expect(await ok(['queues'])).toMatch(/^jobs\s+0\s+0\s+0/m);
    expect(await ok(['send', 'jobs', 'hello world', '--attr', 'kind=greeting'])).toMatch(/^sent \S+ \(offset 0\)/);
    expect(await ok(['send', 'jobs', '-'], { stdin: 'line one\nline two\nline three\n' })).toContain('sent 3 messages to jobs');
    const stats = JSON.parse(await ok(['stats', 'jobs', '--json'])) as { stats: { visible: number }; attributes: { visibilityTimeoutMs: number } };
    expect(stats.stats.visible).toBe(4);
    expect(stats.attributes.visibilityTimeoutMs).toBe(60_000);
    expect(await ok(['stats', 'jobs'])).toMatch(/visible\s+4/);

    const two = jsonLines<{ body: string; receipt: string; receiveCount: number; attributes?: Record<string, string> }>(await ok(['receive', 'jobs', '--max', '2']));
    expect(two.map((m) => m.body)).toEqual(['hello world', 'line one']);
    expect(two[0]!.attributes).toEqual({ kind: 'greeting' });
    expect(await ok(['ack', 'jobs', two[0]!.receipt])).toContain('acked');
    expect(await ok(['nack', 'jobs', two[1]!.receipt])).toContain('nacked');
    const rest = jsonLines<{ body: string; receiveCount: number }>(await ok(['receive', 'jobs', '--max', '10', '--ack']));
    expect(rest.map((m) => [m.body, m.receiveCount])).toEqual([
      ['line one', 2],
      ['line two', 1],
      ['line three', 1],
    ]);
    const empty = await raftq(['receive', 'jobs']);
    expect([empty.code, empty.stdout, empty.stderr]).toEqual([0, '', 'no messages in jobs\n']);
    await ok(['send', 'jobs', 'x']);
    expect(await ok(['purge', 'jobs'])).toContain('purged 1 messages');
    expect(await ok(['delete', 'jobs'])).toContain('deleted queue jobs');
    expect(await ok(['queues', '--json'])).toBe('[]\n');
  });

  test('receive --wait long-polls until a message is sent', async () => {
    await ok(['create', 'waiting']);
    const receiving = raftq(['receive', 'waiting', '--wait', '15000', '--ack']);
    await new Promise((r) => setTimeout(r, 500));
    await ok(['send', 'waiting', 'arrived']);
    const r = await receiving;
    expect(r.code).toBe(0);
    expect(jsonLines<{ body: string }>(r.stdout).map((m) => m.body)).toEqual(['arrived']);
  });

  test('dead-lettering and redrive', async () => {
    await ok(['create', 'dead']);
    await ok(['create', 'src', '--max-receive-count', '1', '--dead-letter-queue', 'dead']);
    await ok(['send', 'src', 'poison']);
    expect(jsonLines(await ok(['receive', 'src', '--visibility-timeout', '0'])).length).toBe(1);
    // Past maxReceiveCount: the next receive moves it to the dead-letter queue.
    expect(await ok(['receive', 'src'])).toBe('');
    expect(await ok(['stats', 'src'])).toMatch(/dead-lettered\s+1/);
    expect(await ok(['redrive', 'dead'])).toContain('moved 1 messages');
    expect(await ok(['stats', 'src'])).toMatch(/visible\s+1/);
  });
});

describe('cluster commands', () => {
  test('status shows every node, the leader, commit and applied index and lag', async () => {
    const table = await ok(['status']);
    expect(table).toMatch(/^NODE\s+ROLE\s+TERM\s+LEADER\s+COMMIT\s+APPLIED\s+LAG/);
    for (const id of cluster.ids) expect(table).toMatch(new RegExp(`^${id}\\s+(leader|follower)`, 'm'));
    const s = JSON.parse(await ok(['status', '--json'])) as { leader: string; term: number; nodes: Array<{ id: string; reachable: boolean; commitIndex: number; appliedIndex: number; lag: number }> };
    expect(cluster.ids).toContain(s.leader);
    expect(s.nodes.map((n) => n.id).sort()).toEqual(cluster.ids.slice().sort());
    for (const n of s.nodes) {
      expect(n.reachable).toBe(true);
      expect(n.lag).toBeGreaterThanOrEqual(0);
      expect(n.appliedIndex).toBeLessThanOrEqual(n.commitIndex);
    }
  });

  test('transfer-leader hands leadership to another node', async () => {
    const cur = (await cluster.waitForLeader()).id;
    const to = cluster.ids.find((id) => id !== cur)!;
    expect(await ok(['transfer-leader', to])).toContain(`leader is now ${to}`);
    expect((await cluster.waitForLeader()).id).toBe(to);
    expect((JSON.parse(await ok(['status', '--json'])) as { leader: string }).leader).toBe(to);
  });

  test('bench prints msgs/s and latency percentiles, binary and HTTP, as JSON', async () => {
    for (const mode of [[], ['--http']]) {
      const r = await raftq(['bench', '--duration', '1', '--producers', '4', '--consumers', '1', '--size', '64', '--queue', 'bench-cli', '--json', ...mode]);
      expect(r.code).toBe(0);
      const res = JSON.parse(r.stdout) as { mode: string; sent: number; sentPerS: number; errors: number; sendLatencyMs: { p50: number; p90: number; p99: number; max: number } };
      expect(res.mode).toBe(mode.length === 0 ? 'binary' : 'http');
      expect(res.sent).toBeGreaterThan(0);
      expect(res.sentPerS).toBeGreaterThan(0);
      expect(res.errors).toBe(0);
      const p = res.sendLatencyMs;
      expect(p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.max).toBe(true);
      // The progress line goes to stderr.
      expect(r.stderr).toContain('sent');
    }
    const human = await ok(['bench', '--duration', '1', '--producers', '2', '--queue', 'bench-cli']);
    expect(human).toMatch(/msgs\/s/);
    expect(human).toMatch(/p50 .* p90 .* p99 .* max /);
  });
});

describe('errors', () => {
  const usage: Array<{ name: string; args: string[] }> = [
    { name: 'an unknown command', args: ['frobnicate'] },
    { name: 'a missing QUEUE', args: ['receive'] },
    { name: 'a missing RECEIPT', args: ['ack', 'q'] },
    { name: 'an extra argument', args: ['create', 'a', 'b'] },
    { name: 'an unknown flag', args: ['create', 'q', '--bogus'] },
    { name: 'a flag without its value', args: ['receive', 'q', '--max'] },
    { name: 'a non-integer --max', args: ['receive', 'q', '--max', 'abc'] },
    { name: '--max 0', args: ['receive', 'q', '--max', '0'] },
    { name: '--wait above 20 s', args: ['receive', 'q', '--wait', '99999'] },
    { name: 'a bad --attr', args: ['send', 'q', 'x', '--attr', 'novalue'] },
    { name: 'negative --producers', args: ['bench', '--producers', '-1'] },
    { name: 'a bad --nodes', args: ['queues', '--nodes', 'nohost'] },
    { name: 'a queue name the server refuses', args: ['create', 'bad name!'] },
    { name: 'an attribute out of range', args: ['create', 'q2', '--visibility-timeout', '999999999999'] },
  ];
  test.concurrent.each(usage)('$name -> exit 2 with INVALID_ARGUMENT', async ({ args }) => {
    const r = await raftq(args);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('error INVALID_ARGUMENT:')]);
  });

  test('an unknown queue -> exit 1 with QUEUE_NOT_FOUND and a hint', async () => {
    const r = await raftq(['stats', 'missing']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error QUEUE_NOT_FOUND:');
    expect(r.stderr).toContain('hint:');
  });

  test('no reachable node -> exit 1 with UNAVAILABLE and a hint', async () => {
    const r = await raftq(['queues', '--nodes', '127.0.0.1:1', '--timeout', '300']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error UNAVAILABLE:');
    expect(r.stderr).toContain('hint:');
  });

  test('a superseded receipt -> exit 1 with STALE_RECEIPT', async () => {
    await ok(['create', 'stale']);
    await ok(['send', 'stale', 's']);
    const [first] = jsonLines<{ receipt: string }>(await ok(['receive', 'stale', '--visibility-timeout', '0']));
    await ok(['receive', 'stale']);
    const r = await raftq(['ack', 'stale', first!.receipt]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error STALE_RECEIPT:');
  });
});
