import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/proto/load.js';
import { openDb } from '../../src/storage/level-db.js';
import { powerFsAvailability, powerFsSkipReason, TestMounts } from './powerfs-mounts.js';

/**
 * LevelDB (through openDb) across power cuts that tear the last unsynced write of each file
 * (powerfs `torn on SEED`): a prefix of the write, cut at a 512-byte boundary, survives. The
 * log's records carry CRCs and a record cut short at the end of the log is dropped, so the
 * database must open and hold every write acknowledged as synced. Seeded: a failure names
 * its seed, and the same seed tears the same bytes.
 */
const avail = powerFsAvailability;
const suffix = powerFsSkipReason;
const seeds = [1, 2, 3, 4, 5, 6];

const mounts = new TestMounts();
afterEach(() => mounts.unmountAll());

/**
 * Runs a process that opens `dataDir`, makes `synced` synced writes (keys s000..), then
 * unsynced writes of sizes 100 B..40 KiB (keys u000..) still under way when it kills itself
 * with SIGKILL.
 */
async function writeThenDie(dataDir: string, synced: number): Promise<void> {
  const levelDb = join(packageRoot(), 'dist', 'src', 'storage', 'level-db.js');
  const script = `
    const { openDb } = await import(${JSON.stringify(levelDb)});
    const db = await openDb(${JSON.stringify(dataDir)});
    for (let i = 0; i < ${synced}; i++) await db.put(Buffer.from('s' + String(i).padStart(3, '0')), new Uint8Array(700 + i * 37).fill(i & 255), { sync: true });
    const pending = [];
    for (let i = 0; i < 40; i++) pending.push(db.put(Buffer.from('u' + String(i).padStart(3, '0')), new Uint8Array(100 + ((i * 7919) % 40000)).fill(9)));
    await Promise.all(pending);
    process.kill(process.pid, 'SIGKILL');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const signal = await new Promise((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
  if (signal !== 'SIGKILL') throw new Error(`the writer did not kill itself: ${err}`);
}

describe.skipIf(!avail.ok)(`LevelDB across power cuts with torn writes${suffix}`, () => {
  it.each(seeds)('seed %i: every synced write survives two torn cuts and the database opens', async (seed) => {
    const fs = await mounts.mount('raftq-powerfs-torn');
    await fs.setTornWrites(true, seed);
    const dataDir = join(fs.mountPoint, 'data');
    let tornBytes = 0;
    for (const synced of [30, 60]) {
      await writeThenDie(dataDir, synced);
      const cut = await fs.cut();
      tornBytes += cut.bytesDiscarded;
      const db = await openDb(dataDir).catch((e: unknown) => {
        throw new Error(`seed ${seed}: the database does not open after a torn cut: ${String(e)} ${String((e as Error).cause)}`);
      });
      try {
        for (let i = 0; i < synced; i++) {
          const key = 's' + String(i).padStart(3, '0');
          expect((await db.get(Buffer.from(key)))?.length, `seed ${seed}: ${key} was acknowledged as synced`).toBe(700 + i * 37);
        }
      } finally {
        await db.close();
      }
    }
    // The cuts discarded something: the unsynced writes were on the line.
    expect(tornBytes, `seed ${seed}`).toBeGreaterThan(0);
  });
});
