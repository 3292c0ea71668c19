/**
 * Layout 3 -> 4 (convert-log.ts): a data directory written by the release before storage v2
 * (the Raft log in LevelDB blocks) opens, its log moved into segment files in place, and a crash
 * anywhere before the commit point leaves the old layout whole.
 *
 * The fixture test/fixtures/layout3-node was written by that release (f53031d) with
 * test/fixtures/layout3-node.make.mjs: entries 1..12 (3 a conf entry; 8..12 of term 2, written
 * over a term-1 suffix 8..9), a compaction at 4, applied state k/1..k/10, applied and committed
 * through 10, hard state term 2 vote n2.
 */
import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRecord, parseIdentity } from '../../src/storage/codec.js';
import { DurableStorage } from '../../src/storage/durable-storage.js';
import { identityKey, logBlockRange } from '../../src/storage/keys.js';
import { type BatchOp, type Db, openDb, overrideWrites } from '../../src/storage/level-db.js';
import { formatVersion } from '../../src/storage/load.js';
import type { StorageLogger } from '../../src/storage/logger.js';
import { makeTempDir, removeDir, utf8 } from './helpers.js';
import { openRaw } from './leveldb-damage.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'layout3-node');
const identity = { clusterId: 'fixture-cluster', nodeId: 'n1' } as const;

describe('conversion of a layout 3 directory (the log in LevelDB) to segments', () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await makeTempDir(), 'node');
    await cp(fixture, dir, { recursive: true });
  });
  afterEach(async () => {
    await removeDir(join(dir, '..'));
  });

  async function storedVersion(): Promise<number> {
    const db = await openRaw(dir);
    try {
      return parseIdentity(decodeRecord('identity', (await db.get(identityKey))!)).formatVersion;
    } finally {
      await db.close();
    }
  }

  async function levelLogKeys(): Promise<number> {
    const db = await openRaw(dir);
    try {
      return (await db.keys(logBlockRange).all()).length;
    } finally {
      await db.close();
    }
  }

  /** Opens the directory and checks every fact of the fixture. */
  async function expectFixtureState(): Promise<void> {
    const s = await DurableStorage.open(dir, identity);
    try {
      expect([s.snapshot().index, s.firstIndex(), s.lastIndex(), s.appliedIndex()]).toEqual([4, 5, 12, 10]);
      expect(s.hardState()).toEqual({ term: 2, vote: 'n2', commit: 10 });
      expect(s.entries(5, 13, Infinity).map((e) => `${e.index}/${e.term}/${e.type}`)).toEqual(['5/1/normal', '6/1/normal', '7/1/normal', '8/2/normal', '9/2/normal', '10/2/normal', '11/2/normal', '12/2/normal']);
      expect(Buffer.from(s.entries(8, 9, Infinity)[0]!.data).toString()).toBe('entry 8 term 2');
      expect(Buffer.from((await s.get(utf8('k/5')))!).toString()).toBe('entry 5 term 1');
      expect(Buffer.from((await s.get(utf8('k/9')))!).toString()).toBe('applied 9');
    } finally {
      await s.close();
    }
  }

  it('opens the fixture, moves its log into segments and marks the directory 4', async () => {
    expect(await storedVersion()).toBe(3);
    expect(await levelLogKeys()).toBeGreaterThan(0);
    const infos: string[] = [];
    const logger: StorageLogger = { info: (_, msg) => void infos.push(msg), warn: () => undefined };
    await (await DurableStorage.open(dir, { ...identity, logger })).close();
    expect(infos).toContain('storage layout converted: the Raft log now lives in segment files');
    expect(await storedVersion()).toBe(formatVersion);
    expect(await levelLogKeys()).toBe(0);
    expect((await readdir(join(dir, 'log'))).filter((n) => n.endsWith('.seg'))).toEqual(['00000000000000000005.seg']);
    await expectFixtureState();
    await expectFixtureState(); // a second open converts nothing
  });

  it('a crash before the commit point leaves the old layout whole, and the next open converts again', async () => {
    // The commit batch (identity 4, log keys deleted) fails as a crash would have it: never written.
    const crashingDb = async (d: string): Promise<Db> => {
      const db = await openDb(d);
      return overrideWrites(db, {
        put: (k, v, o) => db.put(k, v, o ?? {}),
        del: (k, o) => db.del(k, o ?? {}),
        batch: (ops: BatchOp[], o) => (ops.some((op) => op.type === 'put' && Buffer.from(op.key).equals(Buffer.from(identityKey))) ? Promise.reject(new Error('power cut')) : db.batch(ops, o ?? {})),
      });
    };
    await expect(DurableStorage.open(dir, { ...identity, openDb: crashingDb })).rejects.toThrow('power cut');
    // The segments were written, the LevelDB log is all still there and the version is 3.
    expect((await readdir(join(dir, 'log'))).length).toBeGreaterThan(0);
    expect(await storedVersion()).toBe(3);
    expect(await levelLogKeys()).toBeGreaterThan(0);
    const warnings: string[] = [];
    const logger: StorageLogger = { info: () => undefined, warn: (_, msg) => void warnings.push(msg) };
    await (await DurableStorage.open(dir, { ...identity, logger })).close();
    expect(warnings).toContain('discarding the segments of an interrupted log conversion');
    await expectFixtureState();
  });

  it('refuses a damaged LevelDB log before converting anything', async () => {
    const db = await openRaw(dir);
    const keys = await db.keys(logBlockRange).all();
    const value = Uint8Array.from((await db.get(keys[0]!))!);
    value[value.length - 1]! ^= 0x01;
    await db.put(keys[0]!, value, { sync: true });
    await db.close();
    await expect(DurableStorage.open(dir, identity)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    expect(await storedVersion()).toBe(3);
  });
});
