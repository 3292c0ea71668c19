/**
 * Damage on disk is never served: a flipped bit in a state-machine value makes its read refuse
 * (STORAGE_CORRUPT), and a damaged LevelDB write-ahead log is refused at open instead of being
 * silently dropped. A torn tail of the newest log (what a power cut leaves) is accepted.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfState } from '../../raft/types.js';
import { DurableStorage } from '../../src/storage/durable-storage.js';
import { appliedKey } from '../../src/storage/keys.js';
import { openDb } from '../../src/storage/level-db.js';
import { testIdentity } from './durable-harness.js';
import { makeTempDir, removeDir, utf8 } from './helpers.js';
import { findInFile, flipBit, newestLog, openRaw, sizeOf, taggedValue, truncateTo, zeroRange } from './leveldb-damage.js';

const cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };

describe('a damaged state-machine value', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  /** Stores payloads m0..m2 (applied index 1), then flips a bit in m1's stored value. */
  async function storeAndDamage(): Promise<void> {
    const s = await DurableStorage.open(dir, { ...testIdentity, initialConfState: cs });
    await s.save({ entries: [{ index: 1, term: 1, type: 'normal', data: new Uint8Array(1) }] });
    await s.applyBatch(['m0', 'm1', 'm2'].map((k) => ({ type: 'put' as const, key: utf8(k), value: taggedValue(k, 300) })), 1, cs);
    expect(Buffer.from((await s.get(utf8('m1')))!).equals(Buffer.from(taggedValue('m1', 300)))).toBe(true);
    await s.close();
    // Rewritten through LevelDB: its own checksums are fine, only the value is damaged.
    const db = await openRaw(dir);
    const key = appliedKey(0, utf8('m1'));
    const stored = Uint8Array.from((await db.get(key))!);
    stored[stored.length - 10]! ^= 0x04;
    await db.put(key, stored, { sync: true });
    await db.close();
  }

  it('is refused by get, getMany and iterate (STORAGE_CORRUPT), never returned', async () => {
    await storeAndDamage();
    const s = await DurableStorage.open(dir, testIdentity);
    try {
      expect(Buffer.from((await s.get(utf8('m0')))!).equals(Buffer.from(taggedValue('m0', 300)))).toBe(true);
      await expect(s.get(utf8('m1'))).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', name: 'StorageCorruptionError' });
      await expect(s.getMany([utf8('m0'), utf8('m1')])).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
      const iterated = (async () => {
        for await (const _ of s.iterate(utf8('m'))) void _;
      })();
      await expect(iterated).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
      const reader = await s.openSnapshotReader();
      const streamed = (async () => {
        for await (const _ of reader.chunks()) void _;
      })();
      await expect(streamed).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    } finally {
      await s.close();
    }
  });
});

describe('a damaged LevelDB write-ahead log', () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await makeTempDir(), 'db');
  });
  afterEach(async () => {
    await removeDir(join(dir, '..'));
  });

  const keyCount = 40;
  const valueBytes = 2000;
  const keyOf = (k: number): Uint8Array => utf8(`key-${String(k).padStart(3, '0')}`);

  /** 40 synced puts of 2000 bytes (about 80 KiB: three 32 KiB log blocks), still in the log. */
  async function writeSynced(): Promise<void> {
    const db = await openDb(dir);
    for (let k = 0; k < keyCount; k++) await db.put(keyOf(k), taggedValue(`v${k}`, valueBytes), { sync: true });
    await db.close();
  }

  /** Opens with openDb; the keys missing afterwards, or the error. */
  async function reopen(): Promise<string[] | unknown> {
    let db;
    try {
      db = await openDb(dir);
    } catch (err) {
      return err;
    }
    const missing: string[] = [];
    for (let k = 0; k < keyCount; k++) if ((await db.get(keyOf(k))) === undefined) missing.push(`key-${k}`);
    await db.close();
    return missing;
  }

  it('a flipped bit in a record followed by valid ones: refused at open (LevelDB alone drops the synced records)', async () => {
    await writeSynced();
    const log = newestLog(dir);
    flipBit(log, findInFile(log, taggedValue('v10', 20)) + 100);
    const result = await reopen();
    expect(result).toMatchObject({ code: 'STORAGE_CORRUPT' });
    expect((result as Error).message).toMatch(/\d+\.log.*byte \d+/);
  });

  it('a zeroed 4 KiB chunk in the middle: refused at open', async () => {
    await writeSynced();
    const log = newestLog(dir);
    zeroRange(log, 20_000, 4096);
    expect(await reopen()).toMatchObject({ code: 'STORAGE_CORRUPT' });
  });

  it('a torn tail of the newest log (the last record cut short): accepted, every earlier record kept', async () => {
    await writeSynced();
    const log = newestLog(dir);
    truncateTo(log, sizeOf(log) - 700);
    expect(await reopen()).toEqual([`key-${keyCount - 1}`]);
  });

  it('a zeroed tail of the newest log: accepted', async () => {
    await writeSynced();
    const log = newestLog(dir);
    const size = sizeOf(log);
    zeroRange(log, size - 3000, 3000);
    const result = await reopen();
    expect(Array.isArray(result)).toBe(true);
    expect(result).toContain(`key-${keyCount - 1}`);
  });
});
