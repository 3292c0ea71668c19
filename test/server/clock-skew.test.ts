import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../jepsen-like/free-ports.js';
import { encodeCommand, type Command, type CommandResult } from '../../src/queue/index.js';
import { loadServerConfig } from '../../src/server/config.js';
import type { QueueReply } from '../../src/server/queue-app.js';
import { startServer, type RunningServer } from '../../src/node/start-server.js';

/**
 * The state machine's time under a leader whose wall clock jumps, and under a new leader whose
 * wall clock is behind: one real node in process (a single voter leads every term it starts),
 * with both of its clocks faked so nothing here depends on how long the test takes.
 *
 * `wallMs` is what Date.now() would say (the clock the nemesis skews); `monoMs` is the
 * monotonic clock (performance.now()), which no clock fault moves.
 */

const t0 = Date.UTC(2030, 0, 1);
const clocks = { wallMs: t0, monoMs: 1_000 };
let dir = '';
let server: RunningServer | undefined;
let peerPort = 0;

afterEach(async () => {
  await server?.stop();
  server = undefined;
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function start(): Promise<RunningServer> {
  if (dir === '') {
    dir = mkdtempSync(join(tmpdir(), 'raftq-clock-'));
    peerPort = (await freePorts(1))[0]!;
  }
  const config = loadServerConfig(['--node-id', 'n1', '--peers', `n1=127.0.0.1:${peerPort}`, '--http-port', '0', '--client-port', '0', '--data-dir', join(dir, 'n1'), '--log-level', 'silent'], {});
  server = await startServer(config, { now: () => clocks.wallMs, monoNow: () => clocks.monoMs });
  return server;
}

async function run(cmd: Command): Promise<Extract<QueueReply, { ok: true }>> {
  const reply = await server!.node.submit(encodeCommand(cmd), { timeoutMs: 20_000 });
  if (!reply.ok) throw new Error(`${cmd.type} failed: ${reply.code} ${reply.message}`);
  return reply;
}

async function received(queue: string, visibilityTimeoutMs: number): Promise<string[]> {
  const r = await run({ type: 'receive', queue, max: 10, visibilityTimeoutMs });
  if (r.type !== 'receive') throw new Error(`unexpected reply ${r.type}`);
  return r.messages.map((m) => Buffer.from(m.body).toString());
}

async function enqueue(queue: string, body: string, idempotencyKey?: string): Promise<Extract<CommandResult, { type: 'enqueue' }>> {
  const r = await run({ type: 'enqueue', queue, messages: [{ body: Buffer.from(body) }], ...(idempotencyKey !== undefined ? { producerKey: { idempotencyKey } } : {}) });
  if (r.type !== 'enqueue') throw new Error(`unexpected reply ${r.type}`);
  return r;
}

describe('state machine time under leader clock faults', () => {
  it('a leader whose wall clock jumps +60 s does not end a valid lease early', async () => {
    await start();
    await run({ type: 'createQueue', queue: 'jobs' });
    await enqueue('jobs', 'm1');
    expect(await received('jobs', 30_000)).toEqual(['m1']);
    // 10 ms later by every real clock, the leader's wall clock jumps a minute ahead.
    clocks.monoMs += 10;
    clocks.wallMs += 10 + 60_000;
    expect(await received('jobs', 30_000), 'redelivered while the first receipt had 29.99 s left').toEqual([]);
    // Time still passes: once the lease has really run out, the message comes back.
    clocks.monoMs += 30_000;
    clocks.wallMs += 30_000;
    expect(await received('jobs', 30_000)).toEqual(['m1']);
  });

  it('a wall clock jump of +6 min does not end the 5 min idempotency window early', async () => {
    await start();
    await run({ type: 'createQueue', queue: 'jobs' });
    const first = await enqueue('jobs', 'm1', 'key-1');
    clocks.monoMs += 10;
    clocks.wallMs += 10 + 360_000;
    const retry = await enqueue('jobs', 'm1', 'key-1');
    expect(retry.duplicate, 'a retry 10 ms later enqueued a second copy').toBe(true);
    expect(retry.messages.map((m) => m.id)).toEqual(first.messages.map((m) => m.id));
  });

  it('a new leader whose wall clock is 60 s behind does not freeze time', async () => {
    await start();
    await run({ type: 'createQueue', queue: 'jobs' });
    await enqueue('jobs', 'm1');
    expect(await received('jobs', 1_000)).toEqual(['m1']);
    await server!.stop();
    server = undefined;
    // The next leader (this node restarted: a new term) has a wall clock a minute behind.
    clocks.monoMs += 100;
    clocks.wallMs += 100 - 60_000;
    await start();
    expect(await received('jobs', 1_000), 'the lease is not over yet').toEqual([]);
    clocks.monoMs += 2_000;
    clocks.wallMs += 2_000;
    expect(await received('jobs', 1_000), 'the 1 s lease ended 2 s ago by every real clock').toEqual(['m1']);
  });
});
