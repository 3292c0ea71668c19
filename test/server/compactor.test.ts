/**
 * Compactor (src/server/compactor.ts), log compaction, driven with a fake storage and a fake
 * Raft core: no disk. Each test plays the ready loop's part by hand (memberAdded, maybeCompact).
 */
import { describe, expect, it } from 'vitest';
import type { ConfState } from '../../raft/types.js';
import { Compactor, type CompactionSettings, type CompactorRaft, type CompactorStorage } from '../../src/server/compactor.js';

/**
 * A log of equal-sized entries from snapshotIndex+1 through lastIndex; compact moves the
 * snapshot. `applied` is the checkpoint; `live`, when set, what a checkpoint() brings it to.
 */
class FakeStorage implements CompactorStorage {
  snapshotIndex = 0;
  applied = 0;
  live: number | undefined;
  checkpoints = 0;
  lastIndex = 0;
  entryBytes = 10;
  readonly compactions: Array<{ index: number; confState: ConfState }> = [];

  appliedIndex(): number {
    return this.applied;
  }
  snapshot(): { index: number } {
    return { index: this.snapshotIndex };
  }
  logBytes(): number {
    return (this.lastIndex - this.snapshotIndex) * this.entryBytes;
  }
  /** Entries after the result, through upTo, take at most `bytes` (the entry at upTo always kept). */
  indexKeepingBytes(upTo: number, bytes: number): number {
    const n = Math.max(1, Math.floor(bytes / this.entryBytes));
    return Math.max(this.snapshotIndex, upTo - n);
  }
  liveAppliedIndex(): number {
    return this.live ?? this.applied;
  }
  checkpoint(): Promise<void> {
    this.checkpoints++;
    if (this.live !== undefined) this.applied = this.live;
    return Promise.resolve();
  }
  compact(index: number, confState: ConfState): Promise<void> {
    this.compactions.push({ index, confState });
    this.snapshotIndex = index;
    return Promise.resolve();
  }
}

/** A core that lowers every limit to `cap` (a snapshot still being sent), or leaves it. */
class FakeRaft implements CompactorRaft {
  cap = Infinity;
  readonly asked: number[] = [];
  compactionLimit(upTo: number): number {
    this.asked.push(upTo);
    return Math.min(upTo, this.cap);
  }
}

const conf: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };
const defaults: CompactionSettings = { snapshotEntries: 100, compactionTrailingEntries: 20, snapshotBytes: 1_000_000, compactionTrailingBytes: 1_000_000 };

function setup(settings: Partial<CompactionSettings> = {}) {
  const storage = new FakeStorage();
  const raft = new FakeRaft();
  const logs: Array<{ obj: unknown; msg: string }> = [];
  let compacted = 0;
  let clock = 1000;
  const compactor = new Compactor({
    storage,
    raft,
    settings: { ...defaults, ...settings },
    confState: () => conf,
    logger: { info: ((obj: unknown, msg: string) => void logs.push({ obj, msg })) as never },
    now: () => (clock += 5),
    metrics: { compacted: () => void compacted++ },
  });
  return { storage, raft, logs, compactor, compacted: () => compacted };
}

describe('Compactor', () => {
  it('does nothing before snapshotEntries entries are applied past the snapshot', async () => {
    const { storage, compactor, compacted } = setup();
    storage.applied = storage.lastIndex = 99;
    await compactor.maybeCompact();
    expect(storage.compactions).toEqual([]);
    expect(compacted()).toBe(0);
  });

  it('is due by entries: compacts keeping compactionTrailingEntries, with the applied configuration, one log line and metric', async () => {
    const { storage, compactor, logs, compacted } = setup();
    storage.applied = storage.lastIndex = 100;
    await compactor.maybeCompact();
    expect(storage.compactions).toEqual([{ index: 80, confState: conf }]);
    expect(logs).toEqual([{ obj: { index: 80, applied: 100, ms: 5 }, msg: 'compacted the log' }]);
    expect(compacted()).toBe(1);
  });

  it('counts entries from the snapshot, not from index 0', async () => {
    const { storage, compactor } = setup();
    storage.snapshotIndex = 80;
    storage.applied = storage.lastIndex = 179;
    await compactor.maybeCompact();
    expect(storage.compactions).toEqual([]);
    storage.applied = storage.lastIndex = 180;
    await compactor.maybeCompact();
    expect(storage.compactions.map((c) => c.index)).toEqual([160]);
  });

  it('is due by bytes once something is applied past the snapshot; keeps at most compactionTrailingBytes', async () => {
    const { storage, compactor } = setup({ snapshotBytes: 500, compactionTrailingBytes: 100 });
    storage.lastIndex = 60; // 600 bytes stored
    storage.applied = 0;
    await compactor.maybeCompact();
    expect(storage.compactions).toEqual([]); // nothing applied past the snapshot
    storage.applied = 50;
    await compactor.maybeCompact();
    // Trailing entries would keep 30..50; trailing bytes keep only 10 entries: 40.
    expect(storage.compactions.map((c) => c.index)).toEqual([40]);
  });

  it('keeps the larger of the trailing-entries and trailing-bytes indexes (the fewer entries)', async () => {
    const { storage, compactor } = setup({ compactionTrailingEntries: 5, compactionTrailingBytes: 1_000 });
    storage.applied = storage.lastIndex = 100;
    await compactor.maybeCompact();
    expect(storage.compactions.map((c) => c.index)).toEqual([95]);
  });

  it('after a member was added checkpoints, compacts through the applied index at once, then only when due again', async () => {
    const { storage, raft, compactor } = setup();
    storage.applied = 3; // the checkpoint lags what was applied
    storage.live = storage.lastIndex = 7;
    compactor.memberAdded();
    await compactor.maybeCompact();
    expect(storage.checkpoints).toBe(1);
    expect(storage.compactions.map((c) => c.index)).toEqual([7]);
    expect(raft.asked).toEqual([7]);
    storage.live = undefined;
    storage.applied = storage.lastIndex = 9;
    await compactor.maybeCompact();
    expect(storage.compactions.map((c) => c.index)).toEqual([7]); // the flag was consumed
  });

  it('a forced compaction with nothing applied past the snapshot does nothing (and is not kept for later)', async () => {
    const { storage, raft, compactor } = setup();
    storage.snapshotIndex = storage.applied = storage.lastIndex = 7;
    compactor.memberAdded();
    await compactor.maybeCompact();
    expect(raft.asked).toEqual([]);
    storage.applied = storage.lastIndex = 8;
    await compactor.maybeCompact();
    expect(storage.compactions).toEqual([]);
  });

  it("respects the core's compactionLimit", async () => {
    const { storage, raft, compactor } = setup();
    raft.cap = 50;
    storage.applied = storage.lastIndex = 100;
    await compactor.maybeCompact();
    expect(raft.asked).toEqual([80]);
    expect(storage.compactions.map((c) => c.index)).toEqual([50]);
  });

  it('never compacts to or below the snapshot', async () => {
    const { storage, raft, compactor, logs, compacted } = setup();
    storage.snapshotIndex = 60;
    raft.cap = 60;
    storage.applied = storage.lastIndex = 160;
    await compactor.maybeCompact();
    raft.cap = 10;
    compactor.memberAdded();
    await compactor.maybeCompact();
    expect(storage.compactions).toEqual([]);
    expect(logs).toEqual([]);
    expect(compacted()).toBe(0);
  });

  /**
   * A compactor over a storage that copies log data: copyOutOfLog raises the floor, a
   * checkpoint makes the copies durable (tests also move `durable` by hand), and coldWrites
   * covers at most `chunkEntries` entries per call.
   */
  function copyingCompactor(chunkEntries: number) {
    const { storage } = setup();
    const state = { floor: 0, durable: 0 };
    const asked: Array<[number, number, number]> = [];
    const copying = Object.assign(storage, {
      copiesLogData: true,
      copyFloor: () => state.floor,
      copiedThrough: () => state.durable,
      copyOutOfLog: (through: number) => {
        state.floor = through;
        return Promise.resolve();
      },
      checkpoint: () => {
        state.durable = state.floor;
        return FakeStorage.prototype.checkpoint.call(storage);
      },
    });
    const compactor = new Compactor({
      storage: copying,
      raft: new FakeRaft(),
      settings: defaults,
      confState: () => conf,
      logger: { info: () => undefined },
      now: () => 0,
      copyChunkBytes: 1000,
      coldWrites: (from, through, bytesMax) => (asked.push([from, through, bytesMax]), { writes: [], through: Math.min(through, from + chunkEntries - 1) }),
    });
    return { storage, state, asked, compactor };
  }

  it('with copies of log data: copies first, a chunk at a time once the last is durable, compacts no further than the durable ones', async () => {
    const { storage, state, asked, compactor: c } = copyingCompactor(30);
    storage.applied = storage.lastIndex = 100;
    await c.maybeCompact();
    expect(asked).toEqual([[1, 80, 1000]]);
    expect(storage.compactions).toEqual([]);
    // Not durable yet: no new chunk, nothing compacted.
    await c.maybeCompact();
    expect(asked.length).toBe(1);
    expect(storage.compactions).toEqual([]);
    state.durable = 30;
    await c.maybeCompact();
    expect(asked).toEqual([[1, 80, 1000], [31, 80, 1000]]);
    expect(storage.compactions.map((x) => x.index)).toEqual([30]);
    state.durable = 60;
    await c.maybeCompact();
    expect(asked.at(-1)).toEqual([61, 80, 1000]);
    expect(storage.compactions.map((x) => x.index)).toEqual([30, 60]);
    state.durable = 80;
    await c.maybeCompact();
    expect(asked.length).toBe(3);
    expect(storage.compactions.map((x) => x.index)).toEqual([30, 60, 80]);
  });

  it('a new member: every chunk copied and checkpointed at once, then compacted through the applied index', async () => {
    const { storage, state, asked, compactor: c } = copyingCompactor(10);
    storage.applied = storage.lastIndex = 35;
    c.memberAdded();
    await c.maybeCompact();
    expect(asked.map(([from]) => from)).toEqual([1, 11, 21, 31]);
    expect(state.floor).toBe(35);
    expect(storage.compactions.map((x) => x.index)).toEqual([35]);
  });
});
