/**
 * DurableStorage on powerfs (jepsen-like/powerfs) with disk faults: a full disk (ENOSPC), an
 * fsync answering EIO, and a read error on a data file. Each is a typed error with a stable
 * code (STORAGE_FULL, STORAGE_IO), nothing synced before is lost, and nothing is lost silently.
 * Skipped, with the reason, where powerfs cannot run (it needs /dev/fuse, fusermount3, gcc,
 * pkg-config and libfuse3-dev).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PowerFs } from '../../jepsen-like/powerfs.js';
import type { Entry } from '../../raft/types.js';
import { DurableStorage, StorageFullError, StorageIoError } from '../../src/storage/index.js';
import { powerFsAvailability, powerFsSkipReason, TestMounts } from './powerfs-mounts.js';

const avail = powerFsAvailability;
const pit = avail.ok ? it : it.skip;

const identity = { clusterId: 'disk-test', nodeId: 'n1', initialConfState: { voters: ['n1', 'n2', 'n3'], learners: [] } };

const mounts = new TestMounts();
afterEach(() => mounts.unmountAll());

async function mount(): Promise<{ fs: PowerFs; dataDir: string }> {
  const fs = await mounts.mount('raftq-disk-faults');
  return { fs, dataDir: join(fs.mountPoint, 'n1') };
}

function entries(from: number, count: number): Entry[] {
  return Array.from({ length: count }, (_, i) => ({ index: from + i, term: 1, type: 'normal' as const, data: new Uint8Array(100).fill((from + i) % 251) }));
}

/** Entries as comparable tuples (storage returns Buffers, a subclass of Uint8Array). */
function plain(es: readonly Entry[]): Array<[number, number, string]> {
  return es.map((e) => [e.index, e.term, Buffer.from(e.data).toString('hex')]);
}

/** Opens `dataDir` and saves entries 1..10 with a hard state, synced. */
async function withTenSynced(dataDir: string): Promise<DurableStorage> {
  const s = await DurableStorage.open(dataDir, identity);
  await s.save({ entries: entries(1, 10), hardState: { term: 1, vote: 'n1', commit: 5 }, sync: true });
  return s;
}

async function closeQuietly(s: DurableStorage): Promise<void> {
  await s.close().catch(() => undefined);
}

describe(`DurableStorage under disk faults${powerFsSkipReason}`, { timeout: 120_000 }, () => {
  pit('a full disk: the save rejects STORAGE_FULL, the open too while full; after space returns everything synced is there', async () => {
    const { fs, dataDir } = await mount();
    const s = await withTenSynced(dataDir);
    await fs.setEnospc(true);
    const failed = await s.save({ entries: entries(11, 1), sync: true }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StorageFullError);
    expect((failed as StorageFullError).code).toBe('STORAGE_FULL');
    expect((failed as Error).message).toContain('is full (ENOSPC)');
    expect(s.lastIndex()).toBe(10);
    await closeQuietly(s);
    // LevelDB's open writes a new MANIFEST: refused while the disk is full, with the same code.
    const refused = await DurableStorage.open(dataDir, identity).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StorageFullError);
    await fs.setEnospc(false);
    const again = await DurableStorage.open(dataDir, identity);
    expect(again.lastIndex()).toBeGreaterThanOrEqual(10);
    expect(plain(again.entries(1, 11, Number.MAX_SAFE_INTEGER))).toEqual(plain(entries(1, 10)));
    expect(again.hardState()).toEqual({ term: 1, vote: 'n1', commit: 5 });
    await again.save({ entries: entries(again.lastIndex() + 1, 1), sync: true });
    await again.close();
  });

  pit('an fsync EIO: the save rejects STORAGE_IO, is never retried into a success, and after a power cut and reopen nothing synced is lost', async () => {
    const { fs, dataDir } = await mount();
    const s = await withTenSynced(dataDir);
    await fs.setFsyncEio(true);
    const failed = await s.save({ entries: entries(11, 1), sync: true }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StorageIoError);
    expect((failed as StorageIoError).code).toBe('STORAGE_IO');
    await fs.setFsyncEio(false);
    // The dropped data is not rewritten by a second fsync (Linux reports the error once): the
    // handle stays failed, so a later save cannot claim durability of what was lost.
    const second = await s.save({ entries: entries(11, 1), sync: true }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(StorageIoError);
    await closeQuietly(s);
    await fs.cut();
    const again = await DurableStorage.open(dataDir, identity);
    expect(plain(again.entries(1, 11, Number.MAX_SAFE_INTEGER))).toEqual(plain(entries(1, 10)));
    expect(again.hardState()).toEqual({ term: 1, vote: 'n1', commit: 5 });
    await again.close();
  });

  pit('a read error on the write-ahead log at open: STORAGE_IO, not an open that silently forgets the log', async () => {
    const { fs, dataDir } = await mount();
    const s = await withTenSynced(dataDir);
    await s.close();
    await fs.setReadEio('.log');
    const failed = await DurableStorage.open(dataDir, identity).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StorageIoError);
    expect((failed as Error).message).toMatch(/during read of \d+\.log/);
    await fs.setReadEio(undefined);
    const again = await DurableStorage.open(dataDir, identity);
    expect(plain(again.entries(1, 11, Number.MAX_SAFE_INTEGER))).toEqual(plain(entries(1, 10)));
    await again.close();
  });

  pit('a read error on the MANIFEST at open: STORAGE_IO', async () => {
    const { fs, dataDir } = await mount();
    await (await withTenSynced(dataDir)).close();
    await fs.setReadEio('MANIFEST');
    const failed = await DurableStorage.open(dataDir, identity).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StorageIoError);
  });
});
