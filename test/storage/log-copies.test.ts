/**
 * Log-backed keys (src/storage/log-copies.ts): copies of log data exist only for entries at or
 * below the floor; a compaction waits for its copies to be durable; open() deletes copies of
 * entries the log still holds; a snapshot carries the copies its receiver needs. The fake
 * application here copies the data of every normal entry ("every message is live").
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfState, Entry } from '../../raft/types.js';
import { DurableStorage, type LogBackedKeys, type StateWrite } from '../../src/storage/durable-storage.js';
import { decodeRecord, encodeRecord, parseIdentity } from '../../src/storage/codec.js';
import { identityKey } from '../../src/storage/keys.js';
import { openDb } from '../../src/storage/level-db.js';
import { testIdentity } from './durable-harness.js';
import { bytes, makeTempDir, removeDir } from './helpers.js';

const cs: ConfState = { voters: ['n1'], learners: [] };

/** Key of the copy of entry `index`'s data: 'c' then the index, big-endian. */
function copyKey(index: number): Uint8Array {
  const k = Buffer.alloc(5);
  k[0] = 0x63;
  k.writeUInt32BE(index, 1);
  return k;
}

function data(index: number): Uint8Array {
  return Uint8Array.of(index & 0xff, 0xee, index & 0xff);
}

function normal(lo: number, hi: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push({ index: i, term: 1, type: 'normal', data: data(i) });
  return out;
}

const logBacked: LogBackedKeys = {
  entryOf: (key) => (key.length === 5 && key[0] === 0x63 ? Buffer.from(key).readUInt32BE(1) : undefined),
  keysAfter: (index) => ({ gte: copyKey(index + 1), lt: Uint8Array.of(0x64) }),
  snapshotCopies(entries) {
    const present = new Set<number>();
    return {
      observe(key) {
        const e = logBacked.entryOf(key);
        if (e !== undefined) present.add(e);
      },
      *finish() {
        for (const e of entries) if (!present.has(e.index)) yield [copyKey(e.index), e.data] as [Uint8Array, Uint8Array];
      },
    };
  },
};

/** The copies of entries [from, through] as the fake application writes them. */
function copies(from: number, through: number): StateWrite[] {
  const out: StateWrite[] = [];
  for (let i = from; i <= through; i++) out.push({ type: 'put', key: copyKey(i), value: data(i), created: true });
  return out;
}

describe('copies of log data (log-backed keys)', () => {
  let dirs: string[] = [];
  let open: DurableStorage[] = [];
  beforeEach(() => {
    dirs = [];
    open = [];
  });
  afterEach(async () => {
    for (const s of open) await s.close().catch(() => undefined);
    for (const d of dirs) await removeDir(d);
  });

  async function newDir(): Promise<string> {
    const d = await makeTempDir();
    dirs.push(d);
    return d;
  }

  async function openDir(dir: string): Promise<DurableStorage> {
    const s = await DurableStorage.open(dir, { ...testIdentity, initialConfState: cs, logBacked });
    open.push(s);
    return s;
  }

  async function close(s: DurableStorage): Promise<void> {
    await s.close();
    open = open.filter((o) => o !== s);
  }

  /** A storage with entries 1..10 saved and applied (checkpointed). */
  async function tenApplied(dir: string): Promise<DurableStorage> {
    const s = await openDir(dir);
    await s.save({ entries: normal(1, 10), hardState: { term: 1, vote: 'n1', commit: 10 } });
    await s.applyBatch([], 10, cs);
    return s;
  }

  it('compacts only as far as the copies of the dropped entries are durable', async () => {
    const s = await tenApplied(await newDir());
    expect(s.copiesLogData).toBe(true);
    expect(s.copyFloor()).toBe(0);
    await s.copyOutOfLog(6, copies(1, 6));
    expect(s.copyFloor()).toBe(6);
    await s.checkpoint();
    expect(s.copiedThrough()).toBe(6);
    await expect(s.compact(7, cs)).rejects.toThrow(/beyond the durable copies/);
    await s.compact(6, cs);
    expect(s.firstIndex()).toBe(7);
    for (let i = 1; i <= 6; i++) expect(bytes(await s.get(copyKey(i)))).toEqual(bytes(data(i)));
  });

  it('a copy is written by a checkpoint of its own, without waiting for one to fall due', async () => {
    const s = await tenApplied(await newDir());
    await s.copyOutOfLog(3, copies(1, 3));
    // No checkpoint() call: the copies asked for one.
    for (let tries = 0; s.copiedThrough() < 3 && tries < 100; tries++) await new Promise((r) => setTimeout(r, 5));
    expect(s.copiedThrough()).toBe(3);
  });

  it('drops the delete of a copy above the floor and writes the one at or below it', async () => {
    const dir = await newDir();
    const s = await tenApplied(dir);
    await s.copyOutOfLog(4, copies(1, 4));
    await s.checkpoint();
    await s.save({ entries: normal(11, 12), applied: { writes: [{ type: 'del', key: copyKey(2) }, { type: 'del', key: copyKey(8) }], appliedIndex: 11, confState: cs } });
    expect(await s.get(copyKey(2))).toBeUndefined();
    // The delete of copy 8 never reached the state: a later put of it (a misuse) would stand.
    await s.save({ entries: [], applied: { writes: [{ type: 'put', key: copyKey(8), value: data(8) }], appliedIndex: 12, confState: cs } });
    await s.save({ entries: [], applied: { writes: [{ type: 'del', key: copyKey(8) }], appliedIndex: 12, confState: cs } });
    expect(bytes(await s.get(copyKey(8)))).toEqual(bytes(data(8)));
  });

  it('open deletes the copies of entries the log still holds (a compaction a crash interrupted)', async () => {
    const dir = await newDir();
    const s = await tenApplied(dir);
    await s.copyOutOfLog(8, copies(1, 8));
    await s.checkpoint();
    // Compacted through 5 only: copies 6..8 were taken for a compaction that never happened.
    await s.compact(5, cs);
    await close(s);
    const again = await openDir(dir);
    for (let i = 1; i <= 5; i++) expect(bytes(await again.get(copyKey(i))), `copy ${i}`).toEqual(bytes(data(i)));
    for (let i = 6; i <= 8; i++) expect(await again.get(copyKey(i)), `copy ${i}`).toBeUndefined();
    expect(again.copyFloor()).toBe(5);
  });

  it('a layout-4 directory (copies of every live body at each checkpoint) opens as layout 5 without the copies the log holds', async () => {
    const dir = await newDir();
    // Layout 4 as the previous release left it: a copy of entry 7's data, which the log holds.
    const old = await DurableStorage.open(dir, { ...testIdentity, initialConfState: cs });
    await old.save({ entries: normal(1, 10), hardState: { term: 1, vote: 'n1', commit: 10 } });
    await old.applyBatch([{ type: 'put', key: copyKey(7), value: data(7) }], 10, cs);
    await old.compact(5, cs);
    await old.close();
    const db = await openDb(dir);
    await db.put(identityKey, encodeRecord({ ...testIdentity, formatVersion: 4 }), { sync: true });
    await db.close();
    const s = await openDir(dir);
    expect(await s.get(copyKey(7))).toBeUndefined();
    await close(s);
    const check = await openDb(dir);
    expect(parseIdentity(decodeRecord('identity', (await check.get(identityKey))!)).formatVersion).toBe(5);
    await check.close();
  });

  it('a snapshot carries the stored copies and copies of the entries its sender still holds', async () => {
    const source = await tenApplied(await newDir());
    await source.copyOutOfLog(4, copies(1, 4));
    await source.checkpoint();
    await source.compact(3, cs);
    const reader = await source.openSnapshotReader();
    expect(reader.meta.index).toBe(10);
    const target = await openDir(await newDir());
    await target.installSnapshot(reader.meta, reader.chunks());
    await target.save({ entries: [], snapshot: reader.meta });
    for (let i = 1; i <= 10; i++) expect(bytes(await target.get(copyKey(i))), `copy ${i}`).toEqual(bytes(data(i)));
    // The receiver's floor is the snapshot: every copy is below it and may be deleted.
    expect(target.copyFloor()).toBe(10);
    await target.save({ entries: normal(11, 11), applied: { writes: [{ type: 'del', key: copyKey(9) }], appliedIndex: 11, confState: cs } });
    expect(await target.get(copyKey(9))).toBeUndefined();
  });
});
