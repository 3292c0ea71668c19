/**
 * DurableStorage on powerfs (jepsen-like/powerfs): after a power cut every synced save is
 * there and the node opens. The bundled LevelDB never fsyncs its directory when it creates a
 * database or a new log file (memtable switch); without the directory fsyncs of level-db.ts
 * (test/storage/powerfs-cut.test.ts tests them on LevelDB directly)
 * a cut lost a new data directory with everything in it, or the new database's CURRENT/MANIFEST
 * (reopen: "Corruption: no meta-nextfile entry"), or could lose a new log file with its synced
 * records. Skipped, with the reason, where powerfs cannot
 * run (it needs /dev/fuse, fusermount3, gcc, pkg-config and libfuse3-dev).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PowerFs } from '../../jepsen-like/powerfs.js';
import type { Entry } from '../../raft/types.js';
import { DurableStorage } from '../../src/storage/index.js';
import { fsyncDir } from '../../src/storage/level-db.js';
import { powerFsAvailability, powerFsSkipReason, TestMounts } from './powerfs-mounts.js';

const avail = powerFsAvailability;
const pit = avail.ok ? it : it.skip;

const identity = { clusterId: 'power-test', nodeId: 'n1', initialConfState: { voters: ['n1', 'n2', 'n3'], learners: [] } };

const mounts = new TestMounts();
afterEach(() => mounts.unmountAll());

async function mount(): Promise<PowerFs> {
  const fs = await mounts.mount('raftq-power-loss');
  return fs;
}

function entries(from: number, count: number, bytes: number): Entry[] {
  return Array.from({ length: count }, (_, i) => ({ index: from + i, term: 1, type: 'normal' as const, data: new Uint8Array(bytes).fill((from + i) % 251) }));
}

describe(`DurableStorage under power loss${powerFsSkipReason}`, { timeout: 120_000 }, () => {
  pit('a new data directory with synced saves survives a power cut before its first restart', async () => {
    const fs = await mount();
    const dataDir = join(fs.mountPoint, 'node', 'n1');
    const s = await DurableStorage.open(dataDir, identity);
    await s.save({ entries: entries(1, 10, 100), hardState: { term: 1, vote: 'n1', commit: 0 }, sync: true });
    await s.close();
    await fs.cut();
    const again = await DurableStorage.open(dataDir, identity);
    expect(again.lastIndex()).toBe(10);
    expect(again.hardState()).toEqual({ term: 1, vote: 'n1', commit: 0 });
    await again.close();
  });

  // Without level-db.ts's directory fsync after synced writes this mostly passes too: LevelDB
  // compacts the old memtable soon after the switch and fsyncs the directory when it writes the
  // MANIFEST, which makes the new log file's name durable. The fsync closes the window between.
  pit('synced saves written after LevelDB switched to a new log file survive a power cut', async () => {
    const fs = await mount();
    const dataDir = join(fs.mountPoint, 'n1');
    // The directory itself exists durably, so only what LevelDB does inside it is tested.
    mkdirSync(dataDir);
    await fsyncDir(fs.mountPoint);
    let s = await DurableStorage.open(dataDir, identity);
    await s.save({ entries: entries(1, 1, 10), hardState: { term: 1, vote: 'n1', commit: 0 }, sync: true });
    await s.close();
    // A clean restart makes everything so far durable (LevelDB fsyncs the directory when it
    // writes its new MANIFEST at open); then more than the 4 MiB write buffer forces a switch.
    s = await DurableStorage.open(dataDir, identity);
    let next = 2;
    // The log is in segments now: applied state of the same size makes LevelDB switch files.
    for (let round = 0; round < 24; round++) {
      const batch = entries(next, 8, 64 * 1024);
      await s.save({ entries: batch, hardState: { term: 1, vote: 'n1', commit: next + 7 }, sync: true });
      await s.applyBatch(batch.map((e) => ({ type: 'put' as const, key: Buffer.from(`k/${e.index}`), value: e.data })), next + 7, identity.initialConfState);
      next += 8;
    }
    await s.close();
    await fs.cut();
    const again = await DurableStorage.open(dataDir, identity);
    expect(again.lastIndex()).toBe(next - 1);
    const last = again.entries(next - 1, next, Number.MAX_SAFE_INTEGER)[0]!;
    expect(last.data[0]).toBe((next - 1) % 251);
    expect(again.appliedIndex()).toBe(next - 1);
    expect((await again.get(Buffer.from(`k/${next - 1}`)))?.[0]).toBe((next - 1) % 251);
    await again.close();
  });
});
