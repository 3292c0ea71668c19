/** DurableStorage: the compliance suite, plus reopen, corruption and identity checks. */
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfState } from '../../raft/types.js';
import { DurableStorage } from '../../src/storage/durable-storage.js';
import { ClusterMismatchError, StorageCorruptionError } from '../../src/storage/errors.js';
import { encodeEntryValue } from '../../src/storage/codec.js';
import { logBlockKey, logBlockRange, logKey } from '../../src/storage/keys.js';
import { logBlockEntryRanges } from '../../src/storage/log-blocks.js';
import { durableHarness, openTest } from './durable-harness.js';
import { bytes, entries, makeTempDir, removeDir, utf8 } from './helpers.js';
import { registerStorageSuite } from './storage-suite.js';

registerStorageSuite('DurableStorage', durableHarness);

const cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };

describe('DurableStorage on disk', () => {
  let dir: string;
  let open: DurableStorage[] = [];
  beforeEach(async () => {
    dir = await makeTempDir();
    open = [];
  });
  afterEach(async () => {
    for (const s of open) await s.close();
    await removeDir(dir);
  });
  async function openDir(): Promise<DurableStorage> {
    const s = await openTest(dir, cs);
    open.push(s);
    return s;
  }

  /** Opens the raw LevelDB (storage closed) and lets `fn` tamper with it. */
  async function tamper(fn: (db: Level<Uint8Array, Uint8Array>) => Promise<void>): Promise<void> {
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    await fn(db);
    await db.close();
  }

  /** Writes entries 1..5 in three saves: blocks [1, 2], [3, 3] and [4, 5]. */
  async function writeLog(): Promise<void> {
    const s = await DurableStorage.open(dir, { clusterId: 'c1', nodeId: 'n1', initialConfState: cs });
    await s.save({ entries: entries(1, 2) });
    await s.save({ entries: entries(3, 3) });
    const result = await s.save({ entries: entries(4, 5), hardState: { term: 1, vote: 'n1', commit: 4 } });
    expect(result.entryCount).toBe(2);
    expect(result.syncMs).toBeGreaterThan(0);
    await s.close();
  }

  /** The first index of every stored log block, read from the raw LevelDB. */
  async function blockFirsts(): Promise<number[]> {
    const out: number[] = [];
    await tamper(async (db) => {
      for await (const k of db.keys(logBlockRange)) out.push(Buffer.from(k).readUInt32BE(5));
    });
    return out;
  }

  it('keeps applied state, applied index and membership across reopen', async () => {
    let s = await openDir();
    await s.save({ entries: entries(1, 4) });
    const cs2: ConfState = { voters: ['n1', 'n2'], learners: ['n3'] };
    await s.applyBatch([{ type: 'put', key: utf8('q/a'), value: utf8('1') }, { type: 'put', key: utf8('q/b'), value: utf8('2') }, { type: 'put', key: utf8('r/a'), value: utf8('3') }], 2, cs);
    await s.applyBatch([{ type: 'del', key: utf8('q/a') }, { type: 'put', key: utf8('q/c'), value: utf8('4') }], 3, cs2);
    await s.close();
    s = await openDir();
    expect(s.appliedIndex()).toBe(3);
    expect(s.initialState().confState).toEqual(cs2);
    expect(bytes(await s.get(utf8('q/b')))).toEqual(bytes(utf8('2')));
    expect(await s.get(utf8('q/a'))).toBeUndefined();
    const pairs: string[] = [];
    for await (const [k, v] of s.iterate(utf8('q/'))) pairs.push(`${Buffer.from(k).toString()}=${Buffer.from(v).toString()}`);
    expect(pairs).toEqual(['q/b=2', 'q/c=4']);
  });

  it('refuses to open when a stored entry fails its checksum, naming the index', async () => {
    await writeLog();
    await tamper(async (db) => {
      // Entry 4 is the first of block [4, 5]: flip the last byte of its data.
      const v = await db.get(logBlockKey(4));
      const flipped = Uint8Array.from(v!);
      const [, end] = logBlockEntryRanges(4, flipped)[0]!;
      flipped[end - 1]! ^= 0x01;
      await db.put(logBlockKey(4), flipped);
    });
    const err = await openTest(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptionError);
    expect(err).toMatchObject({ code: 'STORAGE_CORRUPT', index: 4 });
    expect((err as Error).message).toMatch(/log\[4\].*checksum/);
  });

  it('refuses a block stored under the wrong key, naming its first entry', async () => {
    await writeLog();
    await tamper(async (db) => {
      const v = await db.get(logBlockKey(3));
      await db.del(logBlockKey(3));
      await db.put(logBlockKey(2), v!); // entry 3's value where entry 2 was
    });
    await expect(openTest(dir)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
  });

  it('refuses to open when an entry is missing from the middle of the log', async () => {
    await writeLog();
    expect(await blockFirsts()).toEqual([1, 3, 4]);
    await tamper((db) => db.del(logBlockKey(3)));
    const err = await openTest(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE_CORRUPT', index: 3 });
    expect((err as Error).message).toMatch(/log\[3\].*gap/);
  });

  it('refuses to open when the commit index is beyond the stored log', async () => {
    await writeLog();
    await tamper((db) => db.del(logBlockKey(4)));
    await expect(openTest(dir)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', key: 'hardState' });
  });

  it('reads a log of the older one-key-per-entry layout, then appends blocks after it', async () => {
    await (await openDir()).close();
    open = [];
    await tamper(async (db) => {
      for (const e of entries(1, 4)) await db.put(logKey(e.index), encodeEntryValue(e));
    });
    let s = await openDir();
    expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 4]);
    expect(s.entries(1, 5, Infinity).map((e) => e.index)).toEqual([1, 2, 3, 4]);
    // Overwrite from 3 (a follower's conflicting suffix): the single keys 3 and 4 go.
    await s.save({ entries: entries(3, 6, () => 2) });
    expect(s.term(3)).toBe(2);
    await s.close();
    open = [];
    s = await openDir();
    expect(s.entries(1, 7, Infinity).map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/1', '3/2', '4/2', '5/2', '6/2']);
  });

  it('rewrites a block that a conflicting append cuts in the middle, and compacts around blocks', async () => {
    let s = await openDir();
    await s.save({ entries: entries(1, 6) });
    await s.save({ entries: entries(4, 5, () => 2) }); // cuts block [1, 6] after 3 and drops 6
    expect([s.lastIndex(), s.term(3), s.term(4)]).toEqual([5, 1, 2]);
    await s.save({ entries: entries(6, 8, () => 2) });
    await s.applyBatch([], 7, cs);
    await s.compact(4, cs); // block [1, 3] goes, [4, 5] stays whole
    expect(await (async () => {
      await s.close();
      open = [];
      return blockFirsts();
    })()).toEqual([4, 6]);
    s = await openDir();
    expect([s.firstIndex(), s.lastIndex()]).toEqual([5, 8]);
    expect(s.entries(5, 9, Infinity).map((e) => `${e.index}/${e.term}`)).toEqual(['5/2', '6/2', '7/2', '8/2']);
  });

  it.each([
    ['another cluster', { clusterId: 'c2', nodeId: 'n1' }],
    ['another node', { clusterId: 'c1', nodeId: 'n2' }],
  ])('refuses a directory of %s, naming both identities', async (_, requested) => {
    await (await openDir()).close();
    open = [];
    const err = await DurableStorage.open(dir, requested).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterMismatchError);
    expect(err).toMatchObject({ code: 'CLUSTER_MISMATCH' });
    expect((err as Error).message).toContain(`cluster "c1" node "n1"`);
    expect((err as Error).message).toContain(`cluster "${requested.clusterId}" node "${requested.nodeId}"`);
  });

  it('clears log entries a crash left behind a compaction', async () => {
    let s = await openDir();
    await s.save({ entries: entries(1, 4) });
    await s.save({ entries: entries(5, 6) });
    await s.close();
    let head: Uint8Array | undefined;
    await tamper(async (db) => {
      head = await db.get(logBlockKey(1));
    });
    s = await openDir();
    await s.applyBatch([], 4, cs);
    await s.compact(4, cs);
    await s.close();
    expect(await blockFirsts()).toEqual([5]);
    await tamper(async (db) => {
      // Garbage behind the snapshot: an older-layout key and the block [1, 4] the compaction
      // dropped, as if it had been interrupted before the delete.
      await db.put(logKey(2), new Uint8Array([1, 2, 3]));
      await db.put(logBlockKey(1), head!);
    });
    s = await openDir();
    expect([s.firstIndex(), s.lastIndex(), s.term(4)]).toEqual([5, 6, 1]);
    await s.close();
    open = [];
    expect(await blockFirsts()).toEqual([5]);
  });

  it('names the compaction point that keeps a byte budget of whole blocks, always the newest', async () => {
    const s = await openDir();
    await s.save({ entries: entries(1, 3) }); // block [1, 3]
    await s.save({ entries: entries(4, 6) }); // block [4, 6]
    await s.save({ entries: entries(7, 9) }); // block [7, 9]
    const total = s.logBytes();
    expect(total).toBeGreaterThan(0);
    expect(s.indexKeepingBytes(9, total)).toBe(0); // everything fits: compact nothing
    expect(s.indexKeepingBytes(9, 1)).toBe(6); // the block holding 9 stays even over budget
    expect(s.indexKeepingBytes(5, 1)).toBe(3); // the block holding 5 stays
    expect(s.indexKeepingBytes(9, total - 1)).toBe(3); // [4, 9] fits, [1, 3] does not
  });

  it('writes nothing for an empty save and skips compacted entries', async () => {
    const s = await openDir();
    expect(await s.save({ entries: [] })).toEqual({ syncMs: 0, entryCount: 0 });
    await s.save({ entries: entries(1, 3) });
    await s.applyBatch([], 2, cs);
    await s.compact(2, cs);
    expect((await s.save({ entries: entries(1, 4) })).entryCount).toBe(2);
    expect(s.lastIndex()).toBe(4);
  });
});
