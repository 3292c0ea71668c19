import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PowerFs } from '../../jepsen-like/powerfs.js';
import type { ConfState } from '../../raft/types.js';
import { DurableStorage } from '../../src/storage/durable-storage.js';
import { testIdentity } from './durable-harness.js';
import { entries } from './helpers.js';

/**
 * DurableStorage on powerfs (jepsen-like/powerfs: a real filesystem that forgets, at a power
 * cut, every write and every directory entry not fsynced): what a save promised survives a cut
 * right after it, LevelDB's own files included. Skipped, with the reason, where FUSE is missing.
 */
const avail = await PowerFs.available();
const suffix = avail.ok ? '' : ` (skipped: powerfs unavailable: ${avail.reason})`;
const cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };

let mounted: { fs: PowerFs; dir: string } | undefined;
afterEach(async () => {
  if (mounted === undefined) return;
  await mounted.fs.unmount();
  rmSync(mounted.dir, { recursive: true, force: true });
  mounted = undefined;
});

describe.skipIf(!avail.ok)(`DurableStorage across real power cuts${suffix}`, () => {
  it('a brand-new data directory and every synced save survive a cut, three rounds over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftq-powerfs-'));
    const fs = await PowerFs.mount({ backing: join(dir, 'backing'), durable: join(dir, 'durable'), mount: join(dir, 'mnt') });
    mounted = { fs, dir };
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
