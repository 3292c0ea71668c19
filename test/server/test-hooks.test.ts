import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../jepsen-like/free-ports.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/node/start-server.js';
import { loadTestHooks } from '../../src/server/test-hooks.js';
import { unsyncedDb } from '../../src/server/unsynced-db.js';
import type { Db } from '../../src/storage/level-db.js';

/**
 * The skip-fsync negative control (RAFTQ_TEST_UNSAFE=skip-fsync): every LevelDB write loses its
 * sync flag, and only a server started with --test-mode honours it.
 */

const silent = pino({ level: 'silent' });

/** A stand-in Db that records each write's options. */
function fakeDb(calls: Array<{ method: string; opts: unknown }>): Db {
  const stub = {
    put: async (_k: Uint8Array, _v: Uint8Array, opts?: unknown) => void calls.push({ method: 'put', opts }),
    del: async (_k: Uint8Array, opts?: unknown) => void calls.push({ method: 'del', opts }),
    batch: async (_ops: unknown, opts?: unknown) => void calls.push({ method: 'batch', opts }),
    get: async () => Uint8Array.of(7),
  };
  return stub as unknown as Db;
}

describe('skip-fsync test hook', () => {
  it('drops the sync flag of every put, del and batch, and passes reads through', async () => {
    const calls: Array<{ method: string; opts: unknown }> = [];
    const db = unsyncedDb(fakeDb(calls));
    const k = Uint8Array.of(1);
    await db.put(k, k, { sync: true });
    await db.del(k, { sync: true });
    await db.batch([{ type: 'put', key: k, value: k }], { sync: true });
    await db.batch([{ type: 'del', key: k }]);
    expect(calls).toEqual([
      { method: 'put', opts: { sync: false } },
      { method: 'del', opts: { sync: false } },
      { method: 'batch', opts: { sync: false } },
      { method: 'batch', opts: { sync: false } },
    ]);
    expect(await db.get(k)).toEqual(Uint8Array.of(7));
  });

  it('is selected by RAFTQ_TEST_UNSAFE=skip-fsync; unknown modes are refused', () => {
    expect(loadTestHooks({ RAFTQ_TEST_UNSAFE: 'skip-fsync' }, silent).openDb).toBeDefined();
    expect(loadTestHooks({ RAFTQ_TEST_UNSAFE: 'skip-dir-fsync' }, silent).openDb).toBeDefined();
    expect(loadTestHooks({}, silent).openDb).toBeUndefined();
    // The segment log skips the same step; the segment-only modes leave LevelDB alone.
    expect(loadTestHooks({ RAFTQ_TEST_UNSAFE: 'skip-fsync' }, silent).unsafeSegmentLog).toBe('skip-fdatasync');
    expect(loadTestHooks({ RAFTQ_TEST_UNSAFE: 'skip-dir-fsync' }, silent).unsafeSegmentLog).toBe('skip-dir-fsync');
    const segmentOnly = loadTestHooks({ RAFTQ_TEST_UNSAFE: 'segment-skip-fdatasync' }, silent);
    expect([segmentOnly.unsafeSegmentLog, segmentOnly.openDb]).toEqual(['skip-fdatasync', undefined]);
    expect(loadTestHooks({ RAFTQ_TEST_UNSAFE: 'segment-skip-dir-fsync' }, silent).unsafeSegmentLog).toBe('skip-dir-fsync');
    expect(loadTestHooks({}, silent).unsafeSegmentLog).toBeUndefined();
    const skipChecksums = loadTestHooks({ RAFTQ_TEST_UNSAFE: 'skip-checksums' }, silent);
    expect([skipChecksums.skipChecksums, skipChecksums.openDb?.name]).toEqual([true, 'openDbWithoutVerify']);
    expect(loadTestHooks({ RAFTQ_TEST_UNSAFE: 'skip-fsync' }, silent).skipChecksums).toBeUndefined();
    expect(loadTestHooks({ RAFTQ_TEST_UNSAFE: 'commit-on-local-persist' }, silent).openDb).toBeUndefined();
    expect(() => loadTestHooks({ RAFTQ_TEST_UNSAFE: 'skip-fsynk' }, silent)).toThrow(/unknown mode "skip-fsynk".*skip-fsync/);
  });

  describe('only in test mode', () => {
    let dir = '';
    const saved = process.env['RAFTQ_TEST_UNSAFE'];
    afterEach(() => {
      if (saved === undefined) delete process.env['RAFTQ_TEST_UNSAFE'];
      else process.env['RAFTQ_TEST_UNSAFE'] = saved;
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
      dir = '';
    });

    /** Starts and stops one node with RAFTQ_TEST_UNSAFE=skip-fsync set; returns its log lines. */
    async function startWithSkipFsync(testMode: boolean): Promise<string[]> {
      dir = mkdtempSync(join(tmpdir(), 'raftq-hooks-'));
      const [peerPort] = await freePorts(1);
      process.env['RAFTQ_TEST_UNSAFE'] = 'skip-fsync';
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
      const args = ['--node-id', 'n1', '--peers', `n1=127.0.0.1:${peerPort}`, '--http-port', '0', '--client-port', '0', '--data-dir', join(dir, 'n1'), '--log-level', 'info', ...(testMode ? ['--test-mode'] : [])];
      const server = await startServer(loadServerConfig(args, {}), { logger });
      await server.stop();
      return lines;
    }

    it('a server without --test-mode ignores it', async () => {
      const lines = await startWithSkipFsync(false);
      expect(lines.some((l) => l.includes('UNSAFE'))).toBe(false);
    });

    it('a server with --test-mode runs unsafe and says so', async () => {
      const lines = await startWithSkipFsync(true);
      expect(lines.filter((l) => l.includes('UNSAFE skip-fsync'))).toHaveLength(1);
    });
  });
});
