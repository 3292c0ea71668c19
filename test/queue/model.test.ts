/**
 * Model-based test: random histories (with time advancing, and sometimes a slower leader clock)
 * run against the real state machine on a MemoryStateStore and against the linear-scan model in
 * model.ts. Every result, every queue's stats after every step, and every delivered body must
 * agree. The log is compacted every fifth step, in chunks of about 8 bytes of bodies
 * (log-bodies.ts): bodies come from the log and from
 * payload records, and the payload records are exactly the bodies of live messages whose entries
 * were dropped. Seed: RAFTQ_SEED (fast-check prints seed and path on failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command, CommandResult } from '../../src/queue/commands.js';
import { MemoryStateStore } from '../../src/queue/memory-state-store.js';
import { entryIndexOfSeq } from '../../src/queue/ids.js';
import { keyKind, kindPrefix, readU64 } from '../../src/queue/keys.js';
import { readBodies } from '../../src/queue/log-bodies.js';
import { QueueStateMachine } from '../../src/queue/state-machine.js';
import { TestLog } from './harness.js';
import { fifoLeaseHistory, history, runOptions, setupSteps, StepResolver, type Step } from './arbitraries.js';
import { QueueModel } from './model.js';

/** Error results are compared by code only. */
function normalize(r: CommandResult): unknown {
  return r.ok ? r : { ok: false, code: r.code };
}

const queueNames = ['a', 'b', 'dlq', 'f.fifo', 'fdlq.fifo', 'missing'];

/** Runs one history against the state machine and the model, comparing everything. */
async function compare(steps: Step[], dedupKeysMax: number, window: number): Promise<void> {
  const sm = new QueueStateMachine({ dedupKeysMax });
  const store = new MemoryStateStore();
  const model = new QueueModel(dedupKeysMax);
  const resolver = new StepResolver(window);
  const log = new TestLog();
  let index = 0;
  for (const step of steps) {
    const { cmd, nowMs } = resolver.resolve(step);
    index++;
    log.record(index, cmd);
    const actual = sm.apply(cmd, { index, nowMs }, store);
    sm.assertInvariants();
    // Compactions at a fixed rhythm: bodies are read from the log and from the cold tier.
    if (index % 5 === 0) log.compact(sm, store, index - 2, 8);
    const expected = model.apply(cmd, index, nowMs);
    expect(normalize(actual), `step ${index} ${cmd.type}`).toEqual(normalize(expected));
    if (actual.ok && actual.type === 'receive') {
      resolver.observe(cmd.type === 'receive' ? cmd.queue : '', actual.messages.map((m) => m.receipt));
      const read = await readBodies(store, log, actual.messages);
      const payloads = actual.messages.map((m) => model.payloads.get(m.seq)!);
      expect(read.map((m) => [m.body, m.attributes, m.dedupId])).toEqual(payloads.map((p) => [p.body, p.attributes, p.dedupId]));
    }
    // The cold tier holds exactly the bodies of live messages whose entries the log dropped.
    const cold: number[] = [];
    for await (const [key] of store.iterate(kindPrefix(keyKind.payload))) cold.push(readU64(key, 2));
    const expectedCold = [...model.payloads.keys()].filter((seq) => entryIndexOfSeq(seq) <= log.compactedThrough).sort((a, b) => a - b);
    expect(cold, `payload records after step ${index}`).toEqual(expectedCold);
    expect(sm.clockMs).toBe(model.clockMs);
    for (const name of queueNames) {
      const info = sm.getQueue(name);
      expect(info?.stats, `stats of ${name} after step ${index}`).toEqual(model.stats(name));
      expect(info?.attributes, `attributes of ${name} after step ${index}`).toEqual(model.attributes(name));
      // Same tags in the same (sorted) key order.
      expect(info === undefined ? undefined : Object.entries(info.tags), `tags of ${name} after step ${index}`).toEqual(
        model.tags(name) === undefined ? undefined : Object.entries(model.tags(name)!),
      );
      expect(info?.lastRedrive, `last redrive of ${name} after step ${index}`).toEqual(model.lastRedrive(name));
    }
  }
  expect(sm.listQueues().map((q) => q.name)).toEqual([...model.queues.keys()].sort());
  const users = sm.principals.listUsers().map((u) => ({ name: u.name, permissions: u.permissions, tokens: u.tokens }));
  expect(users).toEqual([...model.users.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, u]) => ({ name, permissions: u.permissions, tokens: u.tokens })));
  // A restart (load of the keyspace) sees the same users.
  const loaded = await QueueStateMachine.load(store, { dedupKeysMax });
  expect(loaded.principals.listUsers()).toEqual(sm.principals.listUsers());
}

describe('queue state machine vs model', () => {
  it('agrees on every result, stats and body for random histories', async () => {
    await fc.assert(
      fc.asyncProperty(history(60), fc.constantFrom(2, 1000), (steps, dedupKeysMax) => compare(steps, dedupKeysMax, 8)),
      runOptions(300),
    );
  });

  it('agrees on FIFO-heavy histories (several leases per group, nacks and extensions among them)', async () => {
    await fc.assert(
      fc.asyncProperty(history(60, 1, 'f.fifo'), (steps) => compare(steps, 1000, 8)),
      runOptions(200),
    );
  });

  it('agrees on FIFO lease histories (a group head visible again while a later message is leased)', async () => {
    await fc.assert(
      fc.asyncProperty(fifoLeaseHistory(60), (steps) => compare(steps, 1000, 4)),
      runOptions(200),
    );
  });

  it('agrees on long histories with large batches (compaction and heap rebuild paths)', async () => {
    await fc.assert(
      fc.asyncProperty(history(250, 30), (steps) => compare(steps, 1000, 300)),
      runOptions(10),
    );
  });

  it('agrees on a scripted bulk history that forces heap rebuilds and sequence compaction', async () => {
    const steps: Step[] = setupSteps(2, 1000);
    const add = (cmd: Step['cmd'], dtMs = 0): void => void steps.push({ cmd, dtMs });
    const batch = (queue: string, n: number, fifo = false): Command => ({
      type: 'enqueue',
      queue,
      messages: Array.from({ length: n }, (_, i) => ({ body: Uint8Array.of(i), ...(fifo ? { groupId: `g${i % 7}` } : {}) })),
    });
    for (let i = 0; i < 6; i++) add(batch('b', 100));
    for (let i = 0; i < 6; i++) add(batch('f.fifo', 100, true));
    for (let round = 0; round < 4; round++) {
      for (const q of ['b', 'f.fifo', 'a']) add({ type: 'receive', queue: q, max: 100, visibilityTimeoutMs: 0 }, 10);
      add({ type: 'ackPick', queue: 'b', picks: Array.from({ length: 100 }, (_, i) => i * 3) });
      add({ type: 'receive', queue: 'b', max: 100, visibilityTimeoutMs: 1000 }, 10);
      for (let i = 0; i < 400; i++) add({ type: 'visibilityPick', queue: 'b', pick: i % 40, visibilityTimeoutMs: 10_000 }, 1);
      add({ type: 'receive', queue: 'f.fifo', max: 100, visibilityTimeoutMs: 1000 }, 10);
      add({ type: 'ackPick', queue: 'f.fifo', picks: Array.from({ length: 100 }, (_, i) => i) }, 10);
      add(batch('a', 100), 10);
      add({ type: 'receive', queue: 'a', max: 100, visibilityTimeoutMs: 0 }, 2000);
      add({ type: 'receive', queue: 'a', max: 100, visibilityTimeoutMs: 0 }, 2000);
      add({ type: 'receive', queue: 'a', max: 100 }, 2000);
      add({ type: 'redrive', queue: 'dlq' }, 11_000);
    }
    add({ type: 'expire' }, 61_000);
    await compare(steps, 1000, 400);
  });
});
