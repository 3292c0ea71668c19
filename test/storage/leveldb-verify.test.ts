/**
 * The pre-open verifier (leveldb-verify.ts) against real LevelDB directories: sound ones of
 * every shape pass (no false alarm: a false alarm would wipe a healthy node), and each kind of
 * damage is named with its file and byte offset.
 */
import { readFileSync, writeFileSync, unlinkSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyLevelDbDir } from '../../src/storage/leveldb-verify.js';
import type { StorageLogger } from '../../src/storage/logger.js';
import { makeTempDir, removeDir, utf8 } from './helpers.js';
import { filesEndingWith, flipBit, newestLog, noise, openRaw, sizeOf, taggedValue, truncateTo, zeroRange } from './leveldb-damage.js';

describe('verifyLevelDbDir', () => {
  let dir: string;
  let warnings: Array<{ obj: Record<string, unknown>; msg: string }>;
  let logger: StorageLogger;
  beforeEach(async () => {
    dir = join(await makeTempDir(), 'db');
    warnings = [];
    logger = { info: () => undefined, warn: (obj, msg) => void warnings.push({ obj: obj as Record<string, unknown>, msg }) };
  });
  afterEach(async () => {
    await removeDir(join(dir, '..'));
  });

  /** Several MiB over many tables (compressible and not), then more in the log; closed. */
  async function writeBig(): Promise<void> {
    const db = await openRaw(dir);
    for (let round = 0; round < 6; round++) {
      const ops = [];
      for (let k = 0; k < 400; k++) {
        const i = round * 400 + k;
        ops.push({ type: 'put' as const, key: utf8(`key-${String(i).padStart(6, '0')}`), value: i % 2 === 0 ? noise(i + 1, 2000 + (i % 7) * 300) : taggedValue(`v${i}`, 3000) });
      }
      await db.batch(ops, { sync: true });
    }
    for (let i = 0; i < 300; i += 3) await db.del(utf8(`key-${String(i).padStart(6, '0')}`));
    // classic-level's compactRange (the `level` types do not declare it): pushes tables down a level.
    await (db as unknown as { compactRange(start: Uint8Array, end: Uint8Array): Promise<void> }).compactRange(utf8('key-000000'), utf8('key-001000'));
    await db.put(utf8('after'), taggedValue('after', 5000), { sync: true });
    await db.close();
  }

  it('passes sound directories: new, small, large with tables and a live log, reopened', async () => {
    expect(verifyLevelDbDir(dir, logger)).toMatchObject({ files: 0, locked: false });
    await writeBig();
    expect(filesEndingWith(dir, '.ldb').length).toBeGreaterThan(1);
    const report = verifyLevelDbDir(dir, logger);
    expect(report.tornTails).toEqual([]);
    expect(report.bytes).toBeGreaterThan(3_000_000);
    const db = await openRaw(dir, false); // the log becomes a table; a new MANIFEST
    expect((await db.get(utf8('after')))?.length).toBe(5000);
    await db.close();
    expect(verifyLevelDbDir(dir, logger).tornTails).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('reports a flipped bit in a table block with the table and offset', async () => {
    await writeBig();
    const table = join(dir, filesEndingWith(dir, '.ldb')[0]!);
    flipBit(table, Math.floor(sizeOf(table) / 3), 5);
    expect(() => verifyLevelDbDir(dir, logger)).toThrow(/\d+\.ldb at byte \d+: block checksum mismatch/);
  });

  it('reports a zeroed 4 KiB chunk, a truncated table and a bad footer', async () => {
    await writeBig();
    const [a, b] = filesEndingWith(dir, '.ldb').map((n) => join(dir, n));
    const original = readFileSync(a!);
    zeroRange(a!, 8192, 4096);
    expect(() => verifyLevelDbDir(dir, logger)).toThrow(/\.ldb at byte \d+/);
    writeFileSync(a!, original);
    expect(() => verifyLevelDbDir(dir, logger)).not.toThrow();
    truncateTo(b!, sizeOf(b!) - 100);
    expect(() => verifyLevelDbDir(dir, logger)).toThrow(/\.ldb at byte \d+: table is \d+ bytes, the MANIFEST says \d+/);
  });

  it('reports a table the MANIFEST lists that is missing', async () => {
    await writeBig();
    unlinkSync(join(dir, filesEndingWith(dir, '.ldb')[0]!));
    expect(() => verifyLevelDbDir(dir, logger)).toThrow(/\.ldb at byte 0: missing: MANIFEST-\d+ lists it/);
  });

  it('reports CURRENT missing beside data files, or naming a missing MANIFEST', async () => {
    await writeBig();
    const current = readFileSync(join(dir, 'CURRENT'));
    writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-999999\n');
    expect(() => verifyLevelDbDir(dir, logger)).toThrow(/CURRENT at byte 0: names MANIFEST-999999, which does not exist/);
    writeFileSync(join(dir, 'CURRENT'), current);
    unlinkSync(join(dir, 'CURRENT'));
    expect(() => verifyLevelDbDir(dir, logger)).toThrow(/CURRENT at byte 0: missing, while/);
  });

  it('reports damage in the middle of the MANIFEST, accepts and logs a torn tail of it', async () => {
    await writeBig();
    const manifest = join(dir, readFileSync(join(dir, 'CURRENT'), 'latin1').trim());
    const size = sizeOf(manifest);
    expect(size).toBeGreaterThan(100);
    const original = readFileSync(manifest);
    // Half a record appended (what a crash in the middle of LevelDB's MANIFEST write leaves).
    writeFileSync(manifest, Buffer.concat([original, noise(7, 20)]));
    expect(verifyLevelDbDir(dir, logger).tornTails).toEqual([expect.objectContaining({ file: expect.stringMatching(/^MANIFEST-/) })]);
    expect(warnings[0]!.msg).toMatch(/torn tail accepted/);
    writeFileSync(manifest, original);
    flipBit(manifest, 20);
    expect(() => verifyLevelDbDir(dir, logger)).toThrow(/MANIFEST-\d+ at byte 0: record checksum mismatch, followed by valid records/);
  });

  it('accepts a torn tail at the end of every live log (an older one too: LevelDB syncs only the log it writes), never damage before valid records', async () => {
    const db = await openRaw(dir);
    for (let k = 0; k < 20; k++) await db.put(utf8(`k${k}`), taggedValue(`v${k}`, 1000), { sync: true });
    await db.close();
    const older = newestLog(dir);
    // An older live log beside a newer one: LevelDB between a log switch and the flush of the
    // old memtable. Build it by hand: a copy under a higher number, listed in no MANIFEST.
    const number = Number(/(\d+)\.log$/.exec(older)![1]);
    const newer = join(dir, `${String(number + 1).padStart(6, '0')}.log`);
    const whole = readFileSync(older);
    writeFileSync(newer, whole.subarray(0, 7 + whole.readUInt16LE(4))); // its first record
    expect(verifyLevelDbDir(dir, logger).tornTails).toEqual([]);
    truncateTo(newer, 500);
    expect(verifyLevelDbDir(dir, logger).tornTails).toEqual([expect.objectContaining({ file: expect.stringMatching(/\.log$/), offset: 0 })]);
    truncateTo(older, sizeOf(older) - 10);
    expect(verifyLevelDbDir(dir, logger).tornTails.map((t) => t.file).sort()).toEqual([basename(newer), basename(older)].sort());
    // A flipped bit before valid records of the older log is damage, not a torn tail.
    flipBit(older, 20, 3);
    expect(() => verifyLevelDbDir(dir, logger)).toThrow(new RegExp(`${String(number).padStart(6, '0')}\\.log at byte \\d+`));
    expect(existsSync(newer)).toBe(true);
  });
});
