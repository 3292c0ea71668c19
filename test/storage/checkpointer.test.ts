/**
 * Checkpointer (src/storage/checkpointer.ts): a checkpoint that falls due is written in the
 * background, reads see the newest value throughout, the durable index moves only once the
 * batch is written, one flush at a time, and a failed flush fails every later call.
 */
import { describe, expect, it } from 'vitest';
import type { ConfState } from '../../raft/types.js';
import { Checkpointer } from '../../src/storage/checkpointer.js';
import type { BatchOp, Db } from '../../src/storage/level-db.js';
import type { StateWrite } from '../../src/storage/pending-writes.js';

const cs: ConfState = { voters: ['n1'], learners: [] };

/** A LevelDB stand-in whose batches complete when the test says so. */
class HeldDb {
  readonly batches: Array<{ ops: BatchOp[]; sync: boolean; release: () => void; fail: (e: Error) => void }> = [];
  batch(ops: BatchOp[], opts: { sync?: boolean }): Promise<void> {
    return new Promise((release, fail) => this.batches.push({ ops, sync: opts.sync === true, release: () => release(), fail }));
  }
  asDb(): Db {
    return this as unknown as Db;
  }
}

const put = (k: string, v: string, created = false): StateWrite => ({ type: 'put', key: Buffer.from(k), value: Buffer.from(v), ...(created ? { created } : {}) });
const del = (k: string): StateWrite => ({ type: 'del', key: Buffer.from(k) });
const text = (r: { value: Uint8Array | undefined } | undefined): string | undefined => (r?.value === undefined ? undefined : Buffer.from(r.value).toString());
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Checkpointer', () => {
  it('writes a due checkpoint in the background; reads see pending and in-flight values; applied moves when written', async () => {
    const db = new HeldDb();
    const cp = new Checkpointer(db.asDb(), { index: 0, confState: cs, generation: 0 }, { entries: 2, logBytes: 1 << 30, pendingBytes: 1 << 30 });
    cp.take([put('a', '1', true)], 1, cs, 10);
    expect(db.batches).toHaveLength(0);
    cp.take([put('b', '2', true)], 2, cs, 10); // due: 2 entries
    expect(db.batches).toHaveLength(1);
    expect(db.batches[0]!.sync).toBe(true);
    cp.take([put('a', '3'), put('c', '4', true)], 3, cs, 10); // while the flush is in flight
    expect([text(cp.lookup(Buffer.from('a'))), text(cp.lookup(Buffer.from('b'))), text(cp.lookup(Buffer.from('c')))]).toEqual(['3', '2', '4']);
    expect([cp.applied.index, cp.live.index, cp.dirty]).toEqual([0, 3, true]);
    cp.take([], 4, cs, 10); // due again, but one flush at a time
    expect(db.batches).toHaveLength(1);
    db.batches[0]!.release();
    await tick();
    expect(cp.applied.index).toBe(2);
    const flushed = cp.flushNow();
    await tick();
    expect(db.batches).toHaveLength(2);
    db.batches[1]!.release();
    await flushed;
    expect([cp.applied.index, cp.dirty]).toEqual([4, false]);
    expect(cp.lookup(Buffer.from('a'))).toBeUndefined(); // LevelDB's now
  });

  it('a key created and deleted between checkpoints is never written', async () => {
    const db = new HeldDb();
    const cp = new Checkpointer(db.asDb(), { index: 0, confState: cs, generation: 0 }, { entries: 100, logBytes: 1 << 30, pendingBytes: 1 << 30 });
    cp.take([put('m/1', 'body', true), put('q', 'x'), del('m/1'), del('old')], 1, cs, 10);
    const flushed = cp.flushNow();
    await tick();
    const keys = db.batches[0]!.ops.map((o) => `${o.type} ${o.key.length === 1 ? 'applied meta' : Buffer.from(o.key.subarray(5)).toString()}`);
    expect(keys).toEqual(['put q', 'del old', 'put applied meta']);
    db.batches[0]!.release();
    await flushed;
  });

  it('a failed flush fails every later call with its error', async () => {
    const db = new HeldDb();
    const cp = new Checkpointer(db.asDb(), { index: 0, confState: cs, generation: 0 }, { entries: 1, logBytes: 1 << 30, pendingBytes: 1 << 30 });
    cp.take([put('a', '1')], 1, cs, 10);
    db.batches[0]!.fail(new Error('EIO'));
    await tick();
    expect(() => cp.take([], 2, cs, 0)).toThrow('EIO');
    await expect(cp.flushNow()).rejects.toThrow('EIO');
    expect(cp.applied.index).toBe(0);
  });
});
