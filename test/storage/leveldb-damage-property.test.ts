/**
 * A seeded property of the pre-open verifier with LevelDB behind it (level-db.ts openDb): damage
 * anywhere in a live file (a flipped bit, a zeroed chunk) either refuses the open
 * (STORAGE_CORRUPT), or LevelDB opens with every value intact except a suffix of the newest
 * write-ahead log (a torn tail, what a power cut leaves); for a single flipped bit, at most the
 * last write. Never a hole, never a changed value. RAFTQ_SEEDS=a..b overrides the seed range;
 * a failure names its seed.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/storage/level-db.js';
import { makeTempDir, removeDir, utf8 } from './helpers.js';
import { flipBit, openRaw, sizeOf, zeroRange } from './leveldb-damage.js';

/** xorshift32: the test's only randomness. */
function rng(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function seedRange(): number[] {
  const m = /^(\d+)\.\.(\d+)$/.exec(process.env['RAFTQ_SEEDS'] ?? '');
  const [lo, hi] = m === null ? [1, 40] : [Number(m[1]), Number(m[2])];
  return Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
}

const keyCount = 30;
const keyOf = (k: number): Uint8Array => utf8(`key-${String(k).padStart(3, '0')}`);

function valueOf(seed: number, k: number): Uint8Array {
  const r = rng(seed * 1000 + k);
  const out = new Uint8Array(300 + Math.floor(r() * 3000));
  // Half compressible, half not: tables then hold both snappy and raw blocks.
  for (let i = 0; i < out.length; i++) out[i] = k % 2 === 0 ? Math.floor(r() * 256) : 97 + (i % 7);
  return out;
}

describe('damage to a LevelDB directory is refused or is a torn tail, never a silent hole', () => {
  it.each(seedRange())('seed %i', async (seed) => {
    const r = rng(seed);
    const root = await makeTempDir();
    const dir = join(root, 'db');
    try {
      // Some keys pushed into a table by a reopen (LevelDB 1.20 flushes the replayed log), the
      // rest in the write-ahead log.
      const reopenAt = Math.floor(r() * keyCount);
      let db = await openRaw(dir);
      for (let k = 0; k < keyCount; k++) {
        if (k === reopenAt) {
          await db.close();
          db = await openRaw(dir);
        }
        await db.put(keyOf(k), valueOf(seed, k), { sync: true });
      }
      await db.close();
      const files = readdirSync(dir).filter((n) => n === 'CURRENT' || n.startsWith('MANIFEST-') || n.endsWith('.log') || n.endsWith('.ldb'));
      const file = files[Math.floor(r() * files.length)]!;
      const path = join(dir, file);
      const size = sizeOf(path);
      const flip = r() < 0.7;
      const offset = Math.floor(r() * size);
      let damage: string;
      if (size === 0) damage = `nothing (${file} is empty)`;
      else if (flip) {
        const bit = Math.floor(r() * 8);
        flipBit(path, offset, bit);
        damage = `bit ${bit} of byte ${offset} of ${file} (${size} bytes) flipped`;
      } else {
        zeroRange(path, offset, 4096);
        damage = `4 KiB from byte ${offset} of ${file} (${size} bytes) zeroed`;
      }
      const context = `seed ${seed}: ${damage} (RAFTQ_SEEDS=${seed}..${seed} to replay)`;
      let opened;
      try {
        opened = await openDb(dir);
      } catch (err) {
        expect((err as { code?: unknown }).code, `${context}: ${String(err)}`).toBe('STORAGE_CORRUPT');
        return;
      }
      const present: number[] = [];
      try {
        for (let k = 0; k < keyCount; k++) {
          const v = await opened.get(keyOf(k));
          if (v === undefined) continue;
          expect(Buffer.from(v).equals(Buffer.from(valueOf(seed, k))), `${context}: key ${k} served changed`).toBe(true);
          present.push(k);
        }
      } finally {
        await opened.close();
      }
      // Present keys form a prefix of the write order: what is lost is a tail.
      expect(present, context).toEqual(Array.from({ length: present.length }, (_, k) => k));
      if (flip) expect(present.length, context).toBeGreaterThanOrEqual(keyCount - 1);
    } finally {
      await removeDir(root);
    }
  });
});
