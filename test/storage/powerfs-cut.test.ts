import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfState } from '../../raft/types.js';
import { packageRoot } from '../../src/proto/load.js';
import { DurableStorage } from '../../src/storage/durable-storage.js';
import { openDb } from '../../src/storage/level-db.js';
import { testIdentity } from './durable-harness.js';
import { entries } from './helpers.js';
import { powerFsAvailability, powerFsSkipReason, TestMounts } from './powerfs-mounts.js';

/**
 * DurableStorage on powerfs (jepsen-like/powerfs: a real filesystem that forgets, at a power
 * cut, every write and every directory entry not fsynced): what a save promised survives a cut
 * right after it, LevelDB's own files included. Skipped, with the reason, where FUSE is missing.
 */
const avail = powerFsAvailability;
const suffix = powerFsSkipReason;
const cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };

const mounts = new TestMounts();
afterEach(() => mounts.unmountAll());

describe.skipIf(!avail.ok)(`DurableStorage across real power cuts${suffix}`, () => {
  it('a brand-new data directory and every synced save survive a cut, three rounds over', async () => {
    const fs = await mounts.mount('raftq-powerfs');
    // The data directory does not exist yet: opening creates it, as on a node's first start.
    const dataDir = join(fs.mountPoint, 'node', 'data');
    let last = 0;
    for (let round = 1; round <= 3; round++) {
      const s = await DurableStorage.open(dataDir, { ...testIdentity, initialConfState: cs });
      expect(s.lastIndex(), `round ${round}: reopened after the cut`).toBe(last);
      await s.save({ entries: entries(last + 1, last + 10, () => round), hardState: { term: round, vote: 'n1', commit: last } });
      last += 10;
      // Closed, not killed: LevelDB's close writes nothing more (no manifest, no sync).
      await s.close();
      await fs.cut();
    }
    const s = await DurableStorage.open(dataDir, { ...testIdentity, initialConfState: cs });
    expect(s.lastIndex()).toBe(30);
    expect(s.initialState().hardState).toEqual({ term: 3, vote: 'n1', commit: 20 });
    await s.close();
  });
});

/**
 * Runs a process that makes synced 64 KiB writes through openDb (from dist/) until LevelDB
 * switches to a new log file, then kills itself at once (SIGKILL), before the memtable
 * compaction can write its MANIFEST (whose sync fsyncs the directory). Returns the key of the
 * last write LevelDB acknowledged as synced.
 */
async function writeUntilLogSwitchThenDie(dataDir: string): Promise<string> {
  const levelDb = join(packageRoot(), 'dist', 'src', 'storage', 'level-db.js');
  const script = `
    import { readdirSync } from 'node:fs';
    const { openDb } = await import(${JSON.stringify(levelDb)});
    const dir = ${JSON.stringify(dataDir)};
    const db = await openDb(dir);
    const logs = () => readdirSync(dir).filter((f) => f.endsWith('.log')).join(',');
    const first = logs();
    const value = new Uint8Array(64 * 1024).fill(7);
    for (let i = 0; i < 1000; i++) {
      const key = 'k' + String(i).padStart(6, '0');
      await db.batch([{ type: 'put', key: Buffer.from(key), value }], { sync: true });
      if (logs() !== first) {
        process.stdout.write('acked ' + key + '\\n');
        process.kill(process.pid, 'SIGKILL');
      }
    }
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  const acked = /acked (k\d+)/.exec(out)?.[1];
  if (acked === undefined) throw new Error(`the writer saw no log switch: ${out} ${err}`);
  return acked;
}

describe.skipIf(!avail.ok)(`LevelDB's log switch across a real power cut${suffix}`, () => {
  it('a synced write that LevelDB put in a brand-new log file survives a cut', async () => {
    const fs = await mounts.mount('raftq-powerfs');
    const dataDir = join(fs.mountPoint, 'data');
    const acked = await writeUntilLogSwitchThenDie(dataDir);
    await fs.cut();
    const db = await openDb(dataDir);
    try {
      expect((await db.get(Buffer.from(acked))) !== undefined, `${acked} was acknowledged as synced`).toBe(true);
    } finally {
      await db.close();
    }
  });
});
