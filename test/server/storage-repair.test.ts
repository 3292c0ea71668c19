/**
 * A server started on a damaged data directory (a flipped bit in a message body in its log
 * write-ahead log) repairs it: one error line, the directory moved aside, a fresh one marked
 * recovering, raftq_storage_repairs_total 1. With --test-mode and RAFTQ_TEST_UNSAFE=skip-checksums
 * (the corrupt nemesis's negative control) nothing is verified or repaired.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../jepsen-like/free-ports.js';
import { loadServerConfig } from '../../src/server/config.js';
import { type RunningServer, startServer } from '../../src/node/start-server.js';
import { storageDamagedMessage } from '../../src/storage/repair.js';
import { findInFile, flipBit } from '../storage/leveldb-damage.js';

describe('a server on a damaged data directory', { timeout: 60_000 }, () => {
  let root = '';
  const saved = process.env['RAFTQ_TEST_UNSAFE'];
  afterEach(() => {
    if (saved === undefined) delete process.env['RAFTQ_TEST_UNSAFE'];
    else process.env['RAFTQ_TEST_UNSAFE'] = saved;
    if (root !== '') rmSync(root, { recursive: true, force: true });
    root = '';
  });

  /** Starts n1; `others` lists the other members' peer ports (none running: nobody answers n1). */
  async function start(dataDir: string, peerPort: number, testMode: boolean, lines: string[], others: number[] = []): Promise<RunningServer> {
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const peers = [`n1=127.0.0.1:${peerPort}`, ...others.map((port, i) => `n${i + 2}=127.0.0.1:${port}`)].join(',');
    const args = ['--node-id', 'n1', '--peers', peers, '--http-port', '0', '--client-port', '0', '--data-dir', dataDir, '--log-level', 'info', ...(testMode ? ['--test-mode'] : [])];
    return startServer(loadServerConfig(args, {}), { logger });
  }

  async function http(server: RunningServer, method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`http://127.0.0.1:${server.httpPort}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  }

  /** A one-node cluster with 20 messages, stopped; then a bit of message 3's body flipped on disk. */
  async function damagedDir(): Promise<{ dataDir: string; peerPort: number; others: number[] }> {
    root = mkdtempSync(join(tmpdir(), 'raftq-repair-'));
    const dataDir = join(root, 'n1');
    const [peerPort, ...others] = (await freePorts(3)) as [number, number, number];
    const server = await start(dataDir, peerPort, false, []);
    await waitForLeader(server);
    expect((await http(server, 'PUT', '/v1/queues/q', {})).status).toBeLessThan(300);
    for (let i = 0; i < 20; i++) expect((await http(server, 'POST', '/v1/queues/q/messages', { body: `message-${i}-`.repeat(40) })).status).toBeLessThan(300);
    await server.stop();
    // The body's home is the Raft log's segment (a record with valid ones after it).
    const segment = join(dataDir, 'log', readdirSync(join(dataDir, 'log')).find((n) => n.endsWith('.seg'))!);
    flipBit(segment, findInFile(segment, new TextEncoder().encode('message-3-message-3-')) + 30);
    return { dataDir, peerPort, others };
  }

  async function waitForLeader(server: RunningServer): Promise<void> {
    for (let k = 0; k < 200 && server.node.status().role !== 'leader'; k++) await new Promise((r) => setTimeout(r, 50));
    expect(server.node.status().role).toBe('leader');
  }

  async function repairsCounted(server: RunningServer): Promise<string | undefined> {
    const text = await (await http(server, 'GET', '/metrics')).text();
    return /^raftq_storage_repairs_total\{[^}]*\} (\d+)$/m.exec(text)?.[1];
  }

  it('repairs it when it has peers to repair from: one error line, the directory moved aside, a fresh one marked recovering, counted', async () => {
    const { dataDir, peerPort, others } = await damagedDir();
    const lines: string[] = [];
    const server = await start(dataDir, peerPort, false, lines, others);
    try {
      const damaged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; damage?: string }).filter((l) => l.msg === storageDamagedMessage);
      expect(damaged).toHaveLength(1);
      expect(damaged[0]!.level).toBe(50);
      expect(damaged[0]!.damage).toMatch(/segment \d{20}\.seg at byte \d+/);
      expect(readdirSync(root).filter((n) => n.startsWith('n1.damaged-'))).toHaveLength(1);
      expect(server.node.storage.recovering?.reason).toBe(damaged[0]!.damage);
      expect(await repairsCounted(server)).toBe('1');
    } finally {
      await server.stop();
    }
  });

  it('refuses to start when it is alone (nobody to repair from), and leaves the directory as it was', async () => {
    const { dataDir, peerPort } = await damagedDir();
    await expect(start(dataDir, peerPort, false, [])).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    expect(readdirSync(root)).toEqual(['n1']);
  });

  it('skip-checksums (test mode): nothing is verified or repaired', async () => {
    const { dataDir, peerPort } = await damagedDir();
    process.env['RAFTQ_TEST_UNSAFE'] = 'skip-checksums';
    const lines: string[] = [];
    const server = await start(dataDir, peerPort, true, lines);
    try {
      expect(lines.some((l) => l.includes(storageDamagedMessage))).toBe(false);
      expect(readdirSync(root)).toEqual(['n1']);
      expect(server.node.storage.recovering).toBeUndefined();
      expect(await repairsCounted(server)).toBe('0');
    } finally {
      await server.stop();
    }
  });
});
