/**
 * A power cut without a power-loss filesystem: a LevelDB handle that records every write with
 * its sync flag, and a cut that rebuilds, in a fresh directory, only what a real power loss
 * could leave.
 *
 * The loss model is LevelDB's real one (google/leveldb#193): a synced write syncs only the
 * current log file, and LevelDB closes a full log file without syncing it, so an unsynced
 * write can be lost even when a later synced write survives. The cut therefore keeps every
 * synced write and, of the unsynced ones, none ('dropAll', the simplest adversary) or a seeded
 * random subset (the log-file switch fell anywhere, and page-cache writeback saved some
 * pages). Kept writes are replayed in their original order.
 *
 * Writes are recorded when they complete; the tests issue them one at a time, so that is
 * also the order LevelDB applied them in.
 */
import { Level } from 'level';
import { seededRng } from '../../raft/rng.js';
import { type BatchOp, type Db, openDb } from '../../src/storage/level-db.js';

/** One recorded LevelDB write: atomic, with its sync flag. */
export interface RecordedWrite {
  /** The method called (put, del, batch, clear), for failure messages. */
  readonly method: string;
  /** Its effect as batch operations (a clear is recorded as the deletes it made). */
  readonly ops: readonly BatchOp[];
  readonly sync: boolean;
}

/**
 * Which unsynced writes survive: none, each one with probability 1/2 from a seed, or all (a
 * process crash without power loss: the OS still writes out what LevelDB handed it).
 */
export type LossModel = { readonly kind: 'dropAll' } | { readonly kind: 'random'; readonly seed: number } | { readonly kind: 'keepAll' };

/** Records the writes of every LevelDB handle it opens. Pass `openDb` to DurableStorage.open. */
export class WriteRecorder {
  readonly writes: RecordedWrite[] = [];

  /** Opens `dir` as level-db.ts does and wraps the handle so that it records its writes. */
  readonly openDb = async (dir: string): Promise<Db> => recording(await openDb(dir), this.writes);

  /** How many recorded writes were synced and unsynced. */
  counts(): { synced: number; unsynced: number } {
    const synced = this.writes.filter((w) => w.sync).length;
    return { synced, unsynced: this.writes.length - synced };
  }
}

/**
 * Replays into the empty directory `dir` the recorded writes a power cut under `model` keeps
 * (module comment). The recording must have started on an empty directory.
 */
export async function powerCut(writes: readonly RecordedWrite[], dir: string, model: LossModel): Promise<{ kept: number; dropped: number }> {
  const rng = model.kind === 'random' ? seededRng(model.seed) : undefined;
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  let kept = 0;
  try {
    for (const w of writes) {
      const survives = w.sync || model.kind === 'keepAll' || (rng !== undefined && rng.next() < 0.5);
      if (!survives) continue;
      kept++;
      if (w.ops.length > 0) await db.batch(w.ops.map((op) => ({ ...op })));
    }
  } finally {
    await db.close();
  }
  return { kept, dropped: writes.length - kept };
}

/** The range options of the clears storage issues. */
type KeyRange = { gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array; lte?: Uint8Array };

function copy(b: Uint8Array): Uint8Array {
  return Uint8Array.from(b);
}

function copyOp(op: BatchOp): BatchOp {
  return op.type === 'put' ? { type: 'put', key: copy(op.key), value: copy(op.value) } : { type: 'del', key: copy(op.key) };
}

/** `db`, with put, del, batch and clear recorded into `log` (everything else passes through). */
function recording(db: Db, log: RecordedWrite[]): Db {
  const put = async (key: Uint8Array, value: Uint8Array, opts: { sync?: boolean } = {}): Promise<void> => {
    await db.put(key, value, opts);
    log.push({ method: 'put', ops: [{ type: 'put', key: copy(key), value: copy(value) }], sync: opts.sync === true });
  };
  const del = async (key: Uint8Array, opts: { sync?: boolean } = {}): Promise<void> => {
    await db.del(key, opts);
    log.push({ method: 'del', ops: [{ type: 'del', key: copy(key) }], sync: opts.sync === true });
  };
  const batch = async (ops?: BatchOp[], opts: { sync?: boolean } = {}): Promise<void> => {
    if (ops === undefined) throw new Error('power-cut recorder: chained batches are not recorded');
    await db.batch(ops, opts);
    log.push({ method: 'batch', ops: ops.map(copyOp), sync: opts.sync === true });
  };
  // LevelDB's clear is never synced (classic-level writes its deletes with sync: false).
  const clear = async (range: KeyRange): Promise<void> => {
    const keys = await db.keys(range).all();
    await db.clear(range);
    log.push({ method: 'clear', ops: keys.map((key): BatchOp => ({ type: 'del', key: copy(key) })), sync: false });
  };
  const overrides: Record<string | symbol, unknown> = { put, del, batch, clear };
  return new Proxy(db, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop];
      const v: unknown = Reflect.get(target, prop, target);
      // Bound to the real handle: classic-level keeps private state that a proxy cannot reach.
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}
