/**
 * Snapshot, restart and determinism properties. A snapshot is the queue keyspace (what the
 * runtime streams from a LevelDB iterator); a restart is load() from it.
 * - determinism: two machines fed the same entries write byte-identical keyspaces and results;
 * - snapshot round trip: load(keyspace after k entries) + replay of the rest gives the same
 *   results and the same keyspace bytes as straight replay, for a random cut point k;
 * - restart equivalence: reloading after every entry changes nothing observable.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command, CommandResult } from '../../src/queue/commands.js';
import { MemoryStateStore } from '../../src/queue/memory-state-store.js';
import { QueueStateMachine } from '../../src/queue/state-machine.js';
import { history, runOptions, StepResolver, type Step } from './arbitraries.js';

interface Entry {
  cmd: Command;
  index: number;
  nowMs: number;
}

/** Resolves a history into concrete entries, using one machine to learn the receipts issued. */
function entriesOf(steps: Step[], dedupKeysMax: number): Entry[] {
  const sm = new QueueStateMachine({ ...limits, dedupKeysMax });
  const store = new MemoryStateStore();
  const resolver = new StepResolver();
  return steps.map((step, i) => {
    const { cmd, nowMs } = resolver.resolve(step);
    const r = sm.apply(cmd, { index: i + 1, nowMs }, store);
    if (r.ok && r.type === 'receive') resolver.observe('', r.messages.map((m) => m.receipt));
    return { cmd, index: i + 1, nowMs };
  });
}

function run(sm: QueueStateMachine, store: MemoryStateStore, entries: Entry[]): CommandResult[] {
  return entries.map((e) => sm.apply(e.cmd, { index: e.index, nowMs: e.nowMs }, store));
}

function statsOf(sm: QueueStateMachine): unknown {
  return sm.listQueues();
}

const dedupKeysMax = 3;
/** Tiny dedup pages and window, so that pages fill, close and die within a short history. */
const limits = { dedupKeysMax, dedupPageEntriesMax: 2 } as const;

describe('queue state determinism and snapshots', () => {
  it('two machines fed the same entries write byte-identical keyspaces', () => {
    fc.assert(
      fc.property(history(60), (steps) => {
        const entries = entriesOf(steps, dedupKeysMax);
        const [s1, s2] = [new MemoryStateStore(), new MemoryStateStore()];
        const r1 = run(new QueueStateMachine(limits), s1, entries);
        const r2 = run(new QueueStateMachine(limits), s2, entries);
        expect(r2).toEqual(r1);
        expect(s2.fingerprint()).toBe(s1.fingerprint());
      }),
      runOptions(60),
    );
  });

  it('applyBatch over any split into batches writes the same keyspace and results as apply one by one', () => {
    fc.assert(
      fc.property(history(60), fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 40 }), (steps, sizes) => {
        const entries = entriesOf(steps, dedupKeysMax);
        const [s1, s2] = [new MemoryStateStore(), new MemoryStateStore()];
        const r1 = run(new QueueStateMachine(limits), s1, entries);
        const sm = new QueueStateMachine(limits);
        const r2: CommandResult[] = [];
        for (let at = 0, k = 0; at < entries.length; k++) {
          const size = sizes[k % sizes.length]!;
          const batch = entries.slice(at, at + size).map((e) => ({ cmd: e.cmd, ctx: { index: e.index, nowMs: e.nowMs } }));
          r2.push(...sm.applyBatch(batch, s2));
          at += size;
          // Pair check at every batch boundary: the keyspaces agree where batches end.
          const straight = new MemoryStateStore();
          run(new QueueStateMachine(limits), straight, entries.slice(0, Math.min(at, entries.length)));
          expect(s2.fingerprint()).toBe(straight.fingerprint());
        }
        expect(r2).toEqual(r1);
        expect(s2.fingerprint()).toBe(s1.fingerprint());
      }),
      runOptions(40),
    );
  });

  it('load(snapshot after k entries) + replay equals straight replay', async () => {
    await fc.assert(
      fc.asyncProperty(history(60), fc.double({ min: 0, max: 1, noNaN: true }), async (steps, cut) => {
        const entries = entriesOf(steps, dedupKeysMax);
        const k = Math.floor(cut * entries.length);
        const straightStore = new MemoryStateStore();
        const straight = new QueueStateMachine(limits);
        const straightResults = run(straight, straightStore, entries);

        const prefixStore = new MemoryStateStore();
        run(new QueueStateMachine(limits), prefixStore, entries.slice(0, k));
        const snapshot = prefixStore.clone();
        const restored = await QueueStateMachine.load(snapshot, limits);
        expect(statsOf(restored)).toEqual(statsOf(await QueueStateMachine.load(prefixStore, limits)));
        const tailResults = run(restored, snapshot, entries.slice(k));

        expect(tailResults).toEqual(straightResults.slice(k));
        expect(snapshot.fingerprint()).toBe(straightStore.fingerprint());
        expect(statsOf(restored)).toEqual(statsOf(straight));
      }),
      runOptions(60),
    );
  });

  it('reloading after every entry reproduces every later result', async () => {
    await fc.assert(
      fc.asyncProperty(history(40), async (steps) => {
        const entries = entriesOf(steps, dedupKeysMax);
        const reference = run(new QueueStateMachine(limits), new MemoryStateStore(), entries);
        const store = new MemoryStateStore();
        let sm = new QueueStateMachine(limits);
        for (const [i, e] of entries.entries()) {
          const before = statsOf(sm);
          sm = await QueueStateMachine.load(store, limits);
          expect(statsOf(sm)).toEqual(before);
          expect(sm.apply(e.cmd, { index: e.index, nowMs: e.nowMs }, store)).toEqual(reference[i]);
        }
      }),
      runOptions(25),
    );
  });
});
