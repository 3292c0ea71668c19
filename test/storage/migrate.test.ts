/**
 * Layout 2 -> 3 (migrate.ts): an existing directory whose applied values carry no checksum still
 * opens; its values are rewritten with checksums under a new generation, switched with the
 * identity's new version in one synced batch; a crash midway is redone from the start. Then
 * 3 -> 4 (convert-log.ts, tested in convert-log.test.ts) moves its log into segments.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfState } from '../../raft/types.js';
import { decodeRecord, encodeRecord, parseAppliedMeta, parseIdentity } from '../../src/storage/codec.js';
import { DurableStorage } from '../../src/storage/durable-storage.js';
import { appliedKey, appliedKeyPrefixBytes, appliedMetaKey, generationPrefix, identityKey, logBlockKey } from '../../src/storage/keys.js';
import { encodeLogBlock } from '../../src/storage/log-blocks.js';
import { formatVersion } from '../../src/storage/load.js';
import { testIdentity } from './durable-harness.js';
import { makeTempDir, removeDir, utf8 } from './helpers.js';
import { openRaw } from './leveldb-damage.js';

const cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };
const pairs: Array<[string, string]> = Array.from({ length: 50 }, (_, k) => [`msg-${k}`, `body of message ${k} `.repeat(k % 5 + 1)]);

describe('migration to layout 3 (checksummed applied values)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  /** A directory as layout 2 wrote it: raw applied values, identity version 2. */
  async function writeLayout2(extra?: (db: Awaited<ReturnType<typeof openRaw>>, gen: number) => Promise<void>): Promise<void> {
    const s = await DurableStorage.open(dir, { ...testIdentity, initialConfState: cs });
    const entry = { index: 1, term: 1, type: 'normal' as const, data: new Uint8Array(1) };
    await s.save({ entries: [entry] });
    await s.applyBatch(pairs.map(([k, v]) => ({ type: 'put' as const, key: utf8(k), value: utf8(v) })), 1, cs);
    await s.close();
    const db = await openRaw(dir);
    const gen = parseAppliedMeta(decodeRecord('appliedMeta', (await db.get(appliedMetaKey))!)).generation;
    for (const [k, v] of pairs) await db.put(appliedKey(gen, utf8(k)), utf8(v));
    // Layout 2 kept the log in LevelDB blocks, not in segments.
    await db.put(logBlockKey(1), encodeLogBlock([entry]));
    await rm(join(dir, 'log'), { recursive: true });
    await db.put(identityKey, encodeRecord({ ...testIdentity, formatVersion: 2 }), { sync: true });
    await extra?.(db, gen);
    await db.close();
  }

  async function expectMigrated(): Promise<void> {
    const s = await DurableStorage.open(dir, testIdentity);
    try {
      for (const [k, v] of pairs) expect(new TextDecoder().decode(await s.get(utf8(k)))).toBe(v);
      const iterated: string[] = [];
      for await (const [k] of s.iterate(utf8('msg-'))) iterated.push(new TextDecoder().decode(k));
      expect(iterated).toHaveLength(pairs.length);
      expect(s.appliedIndex()).toBe(1);
      expect(s.entries(1, 2, Infinity).map((e) => e.term)).toEqual([1]);
    } finally {
      await s.close();
    }
    const db = await openRaw(dir);
    try {
      expect(parseIdentity(decodeRecord('identity', (await db.get(identityKey))!)).formatVersion).toBe(formatVersion);
      const gen = parseAppliedMeta(decodeRecord('appliedMeta', (await db.get(appliedMetaKey))!)).generation;
      // Only the live generation is left, and its values carry the 4-byte checksum.
      const all = await db.keys({ gte: generationPrefix(0), lt: generationPrefix(1000) }).all();
      expect(all.every((k) => Buffer.from(k.subarray(0, appliedKeyPrefixBytes)).equals(Buffer.from(generationPrefix(gen))))).toBe(true);
      expect(all).toHaveLength(pairs.length);
      expect((await db.get(appliedKey(gen, utf8('msg-1'))))!.length).toBe(pairs[1]![1].length + 4);
    } finally {
      await db.close();
    }
  }

  it('opens a layout 2 directory, checksums every applied value, moves its log into segments and marks it 5', async () => {
    expect(formatVersion).toBe(5);
    await writeLayout2();
    await expectMigrated();
    await expectMigrated(); // a second open changes nothing
  });

  it('a crash in the middle of a migration (staged pairs, identity still 2) is redone', async () => {
    await writeLayout2(async (db, gen) => {
      // Half a staging: a few checksummed pairs under the next generation, no switch.
      await db.put(appliedKey(gen + 1, utf8('msg-1')), new Uint8Array([1, 2, 3, 4, 5]), { sync: true });
      await db.put(appliedKey(gen + 1, utf8('stray')), new Uint8Array([9]), { sync: true });
    });
    await expectMigrated();
  });
});
