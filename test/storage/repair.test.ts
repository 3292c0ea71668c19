/**
 * openStorage (repair.ts): a damaged directory is moved aside, recreated with the same identity
 * and a durable recovering marker, never repaired silently; what is not damage (a held lock,
 * another cluster's directory) still refuses. And the skip-checksums negative control serves
 * the damage instead.
 */
import { existsSync, readdirSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfState } from '../../raft/types.js';
import { DurableStorage } from '../../src/storage/durable-storage.js';
import { StorageFullError, StorageIoError } from '../../src/storage/errors.js';
import { openStorage, type OpenStorageOptions } from '../../src/storage/repair.js';
import { openDbWithoutVerify } from '../../src/server/unverified-db.js';
import { testIdentity } from './durable-harness.js';
import { makeTempDir, removeDir, utf8 } from './helpers.js';
import { filesEndingWith, findInFile, flipBit, newestLog, noise, openRaw, taggedValue } from './leveldb-damage.js';
import { encodeRecord } from '../../src/storage/codec.js';
import { appliedKey, identityKey } from '../../src/storage/keys.js';

const cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };

describe('openStorage', () => {
  let root: string;
  let dir: string;
  let warnings: Array<{ obj: object; msg: string }>;
  let errors: Array<{ obj: object; msg: string }>;
  let repairs: number;
  let clock: number;
  const open: DurableStorage[] = [];

  beforeEach(async () => {
    root = await makeTempDir();
    dir = join(root, 'n1');
    warnings = [];
    errors = [];
    repairs = 0;
    clock = Date.parse('2026-12-07T06:00:00.000Z');
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await removeDir(root);
  });

  function options(extra: Partial<OpenStorageOptions> = {}): OpenStorageOptions {
    return {
      ...testIdentity,
      initialConfState: cs,
      logger: { info: () => undefined, warn: (obj, msg) => void warnings.push({ obj, msg }), error: (obj, msg) => void errors.push({ obj, msg }) },
      onRepair: () => void repairs++,
      now: () => (clock += 1000),
      ...extra,
    };
  }

  async function openIt(extra: Partial<OpenStorageOptions> = {}): Promise<DurableStorage> {
    const s = await openStorage(dir, options(extra));
    open.push(s);
    return s;
  }

  async function closeAll(): Promise<void> {
    for (const s of open.splice(0)) await s.close();
  }

  /** A node's directory: entries 1..3, applied, with payloads p0..p9 (still in the write-ahead log). */
  async function populate(payload: (k: number) => Uint8Array = (k) => taggedValue(`p${k}`, 1500)): Promise<void> {
    const s = await openIt();
    await s.save({ entries: [1, 2, 3].map((index) => ({ index, term: 1, type: 'normal' as const, data: new Uint8Array(8) })), hardState: { term: 1, vote: 'n2', commit: 3 } });
    for (let k = 0; k < 10; k++) await s.applyBatch([{ type: 'put', key: utf8(`p${k}`), value: payload(k) }], Math.min(3, k + 1), cs);
    await closeAll();
  }

  function quarantined(): string[] {
    return readdirSync(root).filter((n) => n.startsWith(`${basename(dir)}.damaged-`)).sort();
  }

  it('a sound directory opens as it is: nothing quarantined, not recovering', async () => {
    await populate();
    const s = await openIt();
    expect([s.lastIndex(), s.appliedIndex(), s.recovering, repairs, quarantined()]).toEqual([3, 3, undefined, 0, []]);
  });

  it('a flipped bit in a payload on disk is found at open: quarantined, recreated fresh with the same identity and a recovering marker', async () => {
    await populate();
    // Without repair the open refuses it (the verifier finds the damaged write-ahead log record).
    flipBit(newestLog(dir), findInFile(newestLog(dir), taggedValue('p4', 30)) + 200);
    await expect(DurableStorage.open(dir, testIdentity)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    const s = await openStorage(`${dir}/`, options()); // a trailing slash: the copy is still a sibling
    open.push(s);
    expect(repairs).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/storage damaged/);
    expect(JSON.stringify(errors[0]!.obj)).toMatch(/\d+\.log at byte \d+/);
    expect(quarantined()).toEqual(['n1.damaged-20261207T060001.000Z']);
    expect(s.recovering?.reason).toMatch(/STORAGE_CORRUPT|storage corrupt at \d+\.log at byte \d+/);
    expect(s.recovering?.since).toBe('2026-12-07T06:00:01.000Z');
    // Fresh: nothing of the old state; bootstrapped like a new member of the same cluster.
    expect([s.lastIndex(), s.appliedIndex(), s.hardState().term, s.hardState().vote]).toEqual([0, 0, 0, '']);
    expect(s.initialState().confState).toEqual(cs);
    expect(await s.get(utf8('p0'))).toBeUndefined();
    // The quarantined copy is the damaged directory, untouched by the repair.
    expect(filesEndingWith(join(root, quarantined()[0]!), '.log').length).toBeGreaterThan(0);
    await closeAll();
    // Same identity: another node id is refused, this one opens.
    await expect(DurableStorage.open(dir, { clusterId: 'c1', nodeId: 'n2' })).rejects.toMatchObject({ code: 'CLUSTER_MISMATCH' });
  });

  it('the recovering marker survives a reopen (a crash while recovering); markRecovered deletes it durably, idempotently', async () => {
    await populate();
    flipBit(newestLog(dir), findInFile(newestLog(dir), taggedValue('p2', 30)) + 50);
    let s = await openIt();
    const marker = s.recovering;
    expect(marker).toBeDefined();
    await s.save({ entries: [{ index: 1, term: 2, type: 'normal', data: new Uint8Array(1) }], hardState: { term: 2, vote: '', commit: 1 } });
    await closeAll();
    s = await openIt();
    expect(s.recovering).toEqual(marker);
    expect([s.lastIndex(), repairs, quarantined().length]).toEqual([1, 1, 1]);
    await s.markRecovered();
    expect(s.recovering).toBeUndefined();
    await s.markRecovered();
    await closeAll();
    s = await openIt();
    expect([s.recovering, s.lastIndex(), repairs]).toEqual([undefined, 1, 1]);
  });

  it('a flipped bit in a table block (after LevelDB moved the log into a table) is found at open', async () => {
    await populate((k) => noise(k + 1, 1500));
    await (await openIt()).close(); // LevelDB writes the replayed log into a level-0 table
    open.splice(0);
    const tables = filesEndingWith(dir, '.ldb');
    expect(tables.length).toBeGreaterThan(0);
    const table = join(dir, tables[tables.length - 1]!);
    flipBit(table, findInFile(table, noise(6, 1500).subarray(100, 140)) + 20);
    await expect(DurableStorage.open(dir, testIdentity)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', message: expect.stringMatching(/\d+\.ldb at byte \d+: block checksum mismatch/) });
    const s = await openIt();
    expect([repairs, s.recovering !== undefined, quarantined().length]).toEqual([1, true, 1]);
  });

  it(`keeps only the 2 newest quarantined copies`, async () => {
    for (let round = 0; round < 3; round++) {
      await populate();
      await closeAll();
      flipBit(newestLog(dir), findInFile(newestLog(dir), taggedValue('p3', 30)) + 10);
      await openIt();
      await closeAll();
    }
    expect(repairs).toBe(3);
    expect(quarantined()).toEqual(['n1.damaged-20261207T060002.000Z', 'n1.damaged-20261207T060003.000Z']);
  });

  it('a crash between moving the damaged directory aside and putting the fresh one in place is finished at the next open', async () => {
    await populate();
    flipBit(newestLog(dir), findInFile(newestLog(dir), taggedValue('p5', 30)) + 10);
    await openIt();
    await closeAll();
    // Replay the window: the fresh directory (with its marker) back under .repairing, <dir> gone.
    await rename(dir, `${dir}.repairing`);
    const s = await openIt();
    expect(s.recovering).toBeDefined();
    expect(existsSync(`${dir}.repairing`)).toBe(false);
    expect(repairs).toBe(1);
  });

  it('with nobody to repair from (repair: false, a single-node cluster) damage is refused and the directory left as it is', async () => {
    await populate();
    flipBit(newestLog(dir), findInFile(newestLog(dir), taggedValue('p1', 30)) + 100);
    await expect(openStorage(dir, options({ repair: false }))).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    expect(repairs).toBe(0);
    expect(quarantined()).toEqual([]);
    expect(filesEndingWith(dir, '.log').length).toBeGreaterThan(0);
  });

  it('a held lock, another cluster directory and a newer layout are refused, never repaired', async () => {
    await populate();
    await openIt();
    await expect(openStorage(dir, options())).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
    await closeAll();
    await expect(openStorage(dir, options({ clusterId: 'other' }))).rejects.toMatchObject({ code: 'CLUSTER_MISMATCH' });
    const db = await openRaw(dir);
    await db.put(identityKey, encodeRecord({ ...testIdentity, formatVersion: 99 }), { sync: true });
    await db.close();
    await expect(openStorage(dir, options())).rejects.toMatchObject({ code: 'STORAGE_FORMAT' });
    expect([repairs, quarantined(), errors]).toEqual([0, [], []]);
    expect(readdirSync(dirname(dir))).toEqual(['n1']);
  });

  it.each([
    ['STORAGE_IO', () => new StorageIoError('d', 'read of 000005.log', Object.assign(new Error('EIO'), { code: 'EIO' }))],
    ['STORAGE_FULL', () => new StorageFullError('d', Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }))],
  ])('a disk fault at open (%s) is refused, never repaired', async (code, fault) => {
    await populate();
    await expect(openStorage(dir, options({ openDb: () => Promise.reject(fault()) }))).rejects.toMatchObject({ code });
    expect([repairs, quarantined(), errors]).toEqual([0, [], []]);
  });

  it('skip-checksums (negative control): a damaged payload is served, a damaged log opens without repair', async () => {
    await populate();
    // The payload damaged through LevelDB (its own checksums fine): only raftq's checksum can tell.
    const db = await openRaw(dir);
    const key = appliedKey(0, utf8('p1'));
    const stored = Uint8Array.from((await db.get(key))!);
    stored[stored.length - 1]! ^= 0x01;
    await db.put(key, stored, { sync: true });
    await db.close();
    let s = await openIt();
    await expect(s.get(utf8('p1'))).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    await closeAll();
    const unsafe = { skipChecksums: true, openDb: openDbWithoutVerify } as const;
    s = await openIt(unsafe);
    const served = await s.get(utf8('p1'));
    expect(served).toBeDefined();
    expect(Buffer.from(served!).equals(Buffer.from(taggedValue('p1', 1500)))).toBe(false);
    expect(served!.length).toBe(1500);
    await s.save({ entries: [{ index: 4, term: 1, type: 'normal', data: new Uint8Array(1) }] });
    await s.applyBatch([{ type: 'put', key: utf8('late'), value: taggedValue('late', 1500) }], 4, cs);
    await s.save({ entries: [{ index: 5, term: 1, type: 'normal', data: new Uint8Array(1) }] });
    await closeAll();
    // A damaged log record followed by a valid one: the verifier would refuse it; unverified,
    // LevelDB drops it silently (the applied payload is lost) and nothing is repaired.
    flipBit(newestLog(dir), findInFile(newestLog(dir), taggedValue('late', 30)) + 10);
    s = await openIt(unsafe);
    expect([repairs, quarantined(), s.recovering, await s.get(utf8('late'))]).toEqual([0, [], undefined, undefined]);
  });
});
