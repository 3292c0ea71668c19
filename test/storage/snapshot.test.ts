/** Streaming an applied-state snapshot between two data directories, and crash-safe installs. */
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfState } from '../../raft/types.js';
import type { DurableStorage, StateWrite } from '../../src/storage/durable-storage.js';
import { SnapshotFormatError } from '../../src/storage/errors.js';
import { appliedKey, appliedRange } from '../../src/storage/keys.js';
import { encodeSnapshotChunks } from '../../src/storage/snapshot-chunks.js';
import { openTest } from './durable-harness.js';
import { bytes, entries, makeTempDir, removeDir, utf8 } from './helpers.js';

const cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };
const pairCount = 5000;
const valueBytes = 1024;
const chunkBytesMax = 64 * 1024;

function key(i: number): Uint8Array {
  return utf8(`m/${String(i).padStart(6, '0')}`);
}
function value(i: number): Uint8Array {
  return new Uint8Array(valueBytes).fill(i % 251);
}

async function count(s: DurableStorage): Promise<number> {
  let n = 0;
  for await (const _ of s.iterate(new Uint8Array(0))) n++;
  return n;
}

describe('snapshots', () => {
  let dirs: string[] = [];
  let open: DurableStorage[] = [];
  beforeEach(async () => {
    dirs = [await makeTempDir(), await makeTempDir()];
    open = [];
  });
  afterEach(async () => {
    for (const s of open) await s.close();
    for (const d of dirs) await removeDir(d);
  });
  async function openDir(i: number): Promise<DurableStorage> {
    const s = await openTest(dirs[i]!, cs);
    open.push(s);
    return s;
  }
  async function closeAll(): Promise<void> {
    for (const s of open) await s.close();
    open = [];
  }

  it('streams a consistent multi-chunk state from one directory into another', async () => {
    const source = await openDir(0);
    await source.save({ entries: entries(1, 3, () => 2), hardState: { term: 2, vote: 'n1', commit: 3 } });
    for (let lo = 0; lo < pairCount; lo += 1000) {
      const writes: StateWrite[] = [];
      for (let i = lo; i < lo + 1000; i++) writes.push({ type: 'put', key: key(i), value: value(i) });
      await source.applyBatch(writes, 3, cs);
    }
    const reader = await source.openSnapshotReader({ chunkBytesMax });
    expect(reader.meta).toEqual({ index: 3, term: 2, confState: cs });
    // Written after the reader opened: must not be in the snapshot.
    await source.applyBatch([{ type: 'put', key: utf8('late'), value: utf8('x') }, { type: 'del', key: key(0) }], 3, cs);

    const target = await openDir(1);
    await target.save({ entries: entries(1, 2, () => 1) });
    let chunkCount = 0;
    async function* checked(): AsyncGenerator<Uint8Array> {
      for await (const chunk of reader.chunks()) {
        expect(chunk.length).toBeLessThanOrEqual(chunkBytesMax);
        chunkCount++;
        yield chunk;
      }
    }
    const result = await target.installSnapshot(reader.meta, checked());
    expect(result).toEqual({ pairCount, chunkCount });
    expect(chunkCount).toBeGreaterThan(50);

    await closeAll();
    const reopened = await openDir(1);
    expect([reopened.appliedIndex(), reopened.firstIndex(), reopened.lastIndex(), reopened.term(3)]).toEqual([3, 4, 3, 2]);
    expect(reopened.snapshot()).toEqual(reader.meta);
    expect(reopened.hardState()).toEqual({ term: 0, vote: '', commit: 3 }); // applied <= commit on restart
    expect(await count(reopened)).toBe(pairCount);
    expect(bytes(await reopened.get(key(0)))).toEqual(bytes(value(0)));
    expect(bytes(await reopened.get(key(4321)))).toEqual(bytes(value(4321)));
    expect(await reopened.get(utf8('late'))).toBeUndefined();
  });

  it('keeps the old state when an install fails midway, and discards staged keys left by a crash', async () => {
    const s = await openDir(0);
    await s.save({ entries: entries(1, 2) });
    await s.applyBatch([{ type: 'put', key: utf8('k'), value: utf8('old') }], 2, cs);
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* encodeSnapshotChunks((async function* () {
        yield [utf8('k'), utf8('new')] as const;
      })());
      throw new Error('peer went away');
    }
    await expect(s.installSnapshot({ index: 9, term: 3, confState: cs }, failing())).rejects.toThrow('peer went away');
    expect([s.appliedIndex(), s.lastIndex()]).toEqual([2, 2]);
    expect(bytes(await s.get(utf8('k')))).toEqual(bytes(utf8('old')));

    // Simulate a crash in the middle of staging generation 1.
    await closeAll();
    const db = new Level<Uint8Array, Uint8Array>(dirs[0]!, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    await db.put(appliedKey(1, utf8('k')), utf8('staged'));
    await db.close();
    const reopened = await openDir(0);
    expect(bytes(await reopened.get(utf8('k')))).toEqual(bytes(utf8('old')));
    await closeAll();
    const raw = new Level<Uint8Array, Uint8Array>(dirs[0]!, { keyEncoding: 'view', valueEncoding: 'view' });
    await raw.open();
    expect(await raw.keys(appliedRange).all()).toHaveLength(1); // only generation 0's "k"
    await raw.close();
  });

  it('rejects a corrupted chunk with SNAPSHOT_MALFORMED', async () => {
    const s = await openDir(0);
    async function* corrupted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of encodeSnapshotChunks((async function* () {
        yield [utf8('k'), utf8('v')] as const;
      })())) {
        chunk[chunk.length - 1]! ^= 0xff;
        yield chunk;
      }
    }
    const err = await s.installSnapshot({ index: 4, term: 1, confState: cs }, corrupted()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotFormatError);
    expect(err).toMatchObject({ code: 'SNAPSHOT_MALFORMED', chunkNumber: 0 });
    expect(s.appliedIndex()).toBe(0);
  });
});
