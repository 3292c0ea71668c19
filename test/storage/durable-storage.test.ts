/** DurableStorage: the compliance suite, plus reopen, corruption and identity checks. */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfState } from '../../raft/types.js';
import { DurableStorage } from '../../src/storage/durable-storage.js';
import { ClusterMismatchError, StorageCorruptionError } from '../../src/storage/errors.js';
import { durableHarness, openTest, testIdentity } from './durable-harness.js';
import { bytes, entries, makeTempDir, removeDir, utf8 } from './helpers.js';
import { SimDisk } from './sim-disk.js';
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

  /** Opens `dir` with segments of at most `segmentBytesMax` bytes (small: a segment per save). */
  async function openSmall(segmentBytesMax = 64): Promise<DurableStorage> {
    const s = await DurableStorage.open(dir, { ...testIdentity, initialConfState: cs, segmentBytesMax });
    open.push(s);
    return s;
  }

  async function closeAll(): Promise<void> {
    for (const s of open) await s.close();
    open = [];
  }

  /** Writes entries 1..5 in three saves, with small segments: [1, 2], [3], [4], [5]. */
  async function writeLog(): Promise<void> {
    const s = await openSmall();
    await s.save({ entries: entries(1, 2) });
    await s.save({ entries: entries(3, 3) });
    const result = await s.save({ entries: entries(4, 5), hardState: { term: 1, vote: 'n1', commit: 4 } });
    expect(result.entryCount).toBe(2);
    expect(result.syncMs).toBeGreaterThan(0);
    await closeAll();
  }

  /** The segment files of the log, by first index. */
  async function segmentFirsts(): Promise<number[]> {
    return (await readdir(join(dir, 'log'))).filter((n) => n.endsWith('.seg')).map((n) => Number(n.slice(0, -4))).sort((a, b) => a - b);
  }

  function segmentPath(first: number): string {
    return join(dir, 'log', `${String(first).padStart(20, '0')}.seg`);
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

  it('refuses to open when a stored entry fails its checksum, naming the segment and byte', async () => {
    await writeLog();
    expect(await segmentFirsts()).toEqual([1, 3, 4, 5]); // 64 bytes hold two small records
    // Entry 3 is alone in a sealed segment: flip the last byte of its payload.
    const bytesOf3 = await readFile(segmentPath(3));
    bytesOf3[bytesOf3.length - 1]! ^= 0x01;
    await writeFile(segmentPath(3), bytesOf3);
    const err = await openTest(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptionError);
    expect(err).toMatchObject({ code: 'STORAGE_CORRUPT' });
    expect((err as Error).message).toMatch(/segment 0+3\.seg at byte 0/);
  });

  it('refuses to open when an entry is missing from the middle of the log', async () => {
    await writeLog();
    await rm(segmentPath(3));
    const err = await openTest(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE_CORRUPT', index: 4 });
    expect((err as Error).message).toMatch(/starts at index 4, the one before ends at 2/);
  });

  it('refuses to open when the commit index is beyond the stored log', async () => {
    await writeLog();
    await rm(segmentPath(5));
    await rm(segmentPath(4));
    await expect(openTest(dir)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', key: 'hardState' });
  });

  it('refuses to open when the log starts after the snapshot (entries missing at its head)', async () => {
    await writeLog();
    await rm(segmentPath(1));
    const err = await openTest(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE_CORRUPT', index: 1 });
    expect((err as Error).message).toMatch(/snapshot ends at 0 and the stored log starts at 3/);
  });

  it('cuts a segment that a conflicting append overwrites in the middle, and compacts whole segments', async () => {
    let s = await openSmall(1024);
    await s.save({ entries: entries(1, 6) });
    await s.save({ entries: entries(4, 5, () => 2) }); // cuts [1, 6] after 3 and drops 6
    expect([s.lastIndex(), s.term(3), s.term(4)]).toEqual([5, 1, 2]);
    await s.save({ entries: entries(6, 8, () => 2) });
    await s.applyBatch([], 7, cs);
    await s.compact(4, cs); // one segment [1, 8]: kept whole, read from 5 on
    await closeAll();
    expect(await segmentFirsts()).toEqual([1]);
    s = await openSmall(1024);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([5, 8]);
    expect(s.entries(5, 9, Infinity).map((e) => `${e.index}/${e.term}`)).toEqual(['5/2', '6/2', '7/2', '8/2']);
    await closeAll();
    s = await openSmall();
    await s.save({ entries: entries(9, 12, () => 2) });
    await s.applyBatch([], 11, cs);
    await s.compact(10, cs);
    await closeAll();
    expect(await segmentFirsts()).toEqual([11, 12]);
  });

  it('skips records a crash left behind a compaction', async () => {
    let s = await openSmall();
    await s.save({ entries: entries(1, 4) });
    await s.save({ entries: entries(5, 6) });
    await closeAll();
    const firsts = await segmentFirsts();
    const saved = await Promise.all(firsts.map(async (f) => [f, await readFile(segmentPath(f))] as const));
    s = await openSmall();
    await s.applyBatch([], 4, cs);
    await s.compact(4, cs);
    await closeAll();
    expect(await segmentFirsts()).toEqual([5, 6]);
    // The deletions were lost to a crash: the segments come back.
    for (const [f, b] of saved) await writeFile(segmentPath(f), b);
    s = await openSmall();
    expect([s.firstIndex(), s.lastIndex(), s.term(4)]).toEqual([5, 6, 1]);
  });

  it('an install below the end of the log replaces the whole log, across segments', async () => {
    let s = await openSmall(256);
    await s.save({ entries: entries(1, 30), hardState: { term: 1, vote: 'n1', commit: 5 } });
    await s.applyBatch([], 5, cs);
    expect((await segmentFirsts()).length).toBeGreaterThan(2);
    await s.installSnapshot({ index: 20, term: 2, confState: cs }, (async function* () {})());
    expect([s.firstIndex(), s.lastIndex(), s.snapshot().index]).toEqual([21, 20, 20]);
    await s.save({ entries: entries(21, 22, () => 2) });
    await closeAll();
    expect(await segmentFirsts()).toEqual([21]);
    s = await openSmall(256);
    expect(s.entries(21, 23, Infinity).map((e) => `${e.index}/${e.term}`)).toEqual(['21/2', '22/2']);
  });

  it('replaces a log that does not continue the snapshot (an install interrupted before its log reset)', async () => {
    const disk = new SimDisk();
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (_: object, msg: string) => void warnings.push(msg) };
    const opts = { ...testIdentity, initialConfState: cs, segmentDisk: disk, logger };
    let s = await DurableStorage.open(dir, opts);
    open.push(s);
    await s.save({ entries: entries(1, 5), hardState: { term: 1, vote: 'n1', commit: 3 } });
    // The reset after the LevelDB switch fails: the switch is durable, the log is not replaced.
    disk.injectFault('open', 'EIO');
    await expect(s.installSnapshot({ index: 20, term: 3, confState: cs }, (async function* () {})())).rejects.toMatchObject({ code: 'STORAGE_IO' });
    await closeAll();
    s = await DurableStorage.open(dir, opts);
    open.push(s);
    expect([s.snapshot().index, s.firstIndex(), s.lastIndex(), s.appliedIndex(), s.hardState().commit]).toEqual([20, 21, 20, 20, 20]);
    expect(warnings).toContain('replacing a log that does not continue the snapshot (an install interrupted before it replaced the log)');
    await s.save({ entries: entries(21, 22, () => 3) });
    await closeAll();
    s = await DurableStorage.open(dir, opts);
    open.push(s);
    expect(s.entries(21, 23, Infinity).map((e) => `${e.index}/${e.term}`)).toEqual(['21/3', '22/3']);
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

  it('names the compaction point that keeps a byte budget of whole saves, always the newest', async () => {
    const s = await openDir();
    await s.save({ entries: entries(1, 3) }); // run [1, 3]
    await s.save({ entries: entries(4, 6) }); // run [4, 6]
    await s.save({ entries: entries(7, 9) }); // run [7, 9]
    const total = s.logBytes();
    expect(total).toBeGreaterThan(0);
    expect(s.indexKeepingBytes(9, total)).toBe(0); // everything fits: compact nothing
    expect(s.indexKeepingBytes(9, 1)).toBe(6); // the save holding 9 stays even over budget
    expect(s.indexKeepingBytes(5, 1)).toBe(3); // the save holding 5 stays
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
