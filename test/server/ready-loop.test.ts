/**
 * ReadyLoop (src/server/ready-loop.ts) driving a real RawNode over a memory storage, with a fake
 * clock (the loop runs only when the test runs the clock's deferred calls) and a fake transport.
 * The applier, the listeners and compaction are recorders writing to the same journal as the
 * storage and the transport, so each test checks the order of saves, sends and completions.
 */
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { RawNode } from '../../raft/raw-node.js';
import { seededRng } from '../../raft/rng.js';
import type { Entry, Message, NodeId } from '../../raft/types.js';
import type { AppliedChanges } from '../../src/storage/index.js';
import { Mutex } from '../../src/server/mutex.js';
import { ReadyLoop, type ReadyLoopApplier } from '../../src/server/ready-loop.js';
import { FakeClock, FakeTransport, MemoryReplicaStorage, settle, type Journal } from './replica-fakes.js';

interface Round {
  readonly entries: readonly Entry[];
  readonly changes: AppliedChanges;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function setup(voters: NodeId[]) {
  const journal: Journal = [];
  const clock = new FakeClock();
  const transport = new FakeTransport(journal);
  const storage = new MemoryReplicaStorage(journal, { voters, learners: [] });
  const raw = new RawNode({ id: 'n1', storage: storage.raft, electionTicks: 10, heartbeatTicks: 1, applied: 0, rng: seededRng(7) });
  const applied: Entry[] = [];
  const queued: Uint8Array[] = [];
  const fatal: unknown[] = [];
  let stopped = false;
  const range = (es: readonly Entry[]) => `${es[0]!.index}-${es[es.length - 1]!.index}`;
  const applier: ReadyLoopApplier<Round> = {
    apply(entries) {
      journal.push(`apply:${range(entries)}`);
      applied.push(...entries);
      return { entries, changes: { writes: [], appliedIndex: entries[entries.length - 1]!.index, confState: { voters, learners: [] } } };
    },
    settle(round) {
      journal.push(`settle:${range(round.entries)}`);
    },
  };
  const loop = new ReadyLoop<Round>({
    raft: raw,
    storage,
    transport,
    clock,
    lock: new Mutex(),
    flushProposals: () => {
      if (queued.length > 0) raw.proposeBatch(queued.splice(0));
    },
    applier,
    listeners: {
      leaderReplaced: (prev) => void journal.push(`leaderReplaced:${prev}`),
      leaderKnown: () => void journal.push('leaderKnown'),
      onReadStates: () => undefined,
      notifyApplied: () => undefined,
    },
    maybeCompact: () => Promise.resolve(),
    sendSnapshot: (m) => void journal.push(`snapshot->${m.to}`),
    isStopped: () => stopped,
    onFatal: (e) => void fatal.push(e),
    logger: { info: () => undefined, fatal: () => undefined } as unknown as Pick<Logger, 'info' | 'fatal'>,
  });
  /** One turn of the clock: the scheduled run starts and goes as far as the storage lets it. */
  const turn = async (): Promise<void> => {
    clock.runDeferred();
    await settle();
    await settle();
  };
  const propose = (...datas: string[]): void => {
    queued.push(...datas.map((d) => encoder.encode(d)));
    loop.kick();
  };
  const deliver = (m: Message): void => {
    raw.step(m);
    loop.kick();
  };
  return { journal, clock, transport, storage, raw, loop, applied, fatal, turn, propose, deliver, stop: () => void (stopped = true) };
}

/** Elects n1 in the three-node cluster n1, n2, n3 (n2 votes for it) and lets n2 acknowledge its first entry. */
async function electN1(t: ReturnType<typeof setup>): Promise<void> {
  t.raw.campaign();
  t.loop.kick();
  await t.turn();
  t.deliver({ type: 'preVoteResp', from: 'n2', to: 'n1', term: 1, reject: false });
  await t.turn();
  t.deliver({ type: 'voteResp', from: 'n2', to: 'n1', term: 1, reject: false });
  await t.turn();
  expect(t.raw.role).toBe('leader');
  t.deliver({ type: 'appResp', from: 'n2', to: 'n1', term: 1, index: 1, reject: false, rejectHint: 0, logTerm: 0 });
  await t.turn();
}

describe('ReadyLoop', () => {
  it('kicks coalesce: one run is scheduled however often the loop is kicked', () => {
    const t = setup(['n1', 'n2', 'n3']);
    t.loop.kick();
    t.loop.kick();
    t.loop.kick();
    expect(t.clock.deferredCount).toBe(1);
    expect(t.loop.driving).toBe(true);
  });

  it('a follower sends a Ready\'s messages only once its save resolved (persist before send)', async () => {
    const t = setup(['n1', 'n2', 'n3']);
    t.storage.holdSaves = true;
    t.deliver({ type: 'vote', from: 'n2', to: 'n1', term: 1, index: 0, logTerm: 0, transfer: false });
    await t.turn();
    expect(t.storage.heldSaves).toBe(1);
    expect(t.transport.sent).toEqual([]);
    expect(t.journal).toEqual(['save:0']);
    t.storage.releaseSave();
    await settle();
    expect(t.journal).toEqual(['save:0', 'saved', 'send:voteResp->n2']);
    expect(t.storage.raft.hardState()).toMatchObject({ term: 1, vote: 'n2' });
    expect(t.loop.driving).toBe(false);
  });

  it('a leader whose role did not change sends its appends first and writes in parallel', async () => {
    const t = setup(['n1', 'n2', 'n3']);
    await electN1(t);
    t.journal.length = 0;
    t.storage.holdSaves = true;
    t.propose('x');
    await t.turn();
    // n3 never answered the leader's first append: its probe is paused, so only n2 gets one.
    expect(t.journal).toEqual(['send:app->n2', 'save:1']);
    t.storage.releaseSave();
    await settle();
    expect(t.journal.slice(2)).toEqual(['saved']);
  });

  it('applies committed entries in log order and completes each round only after the save that carries it', async () => {
    const t = setup(['n1']);
    t.raw.campaign();
    t.loop.kick();
    await t.turn();
    expect(t.raw.role).toBe('leader');
    expect(t.journal).toContain('leaderReplaced:');
    expect(t.journal).toContain('leaderKnown');
    t.propose('a', 'b');
    await t.turn();
    t.propose('c');
    await t.turn();
    t.propose('d', 'e', 'f');
    await t.turn();
    expect(t.applied.map((e) => e.index)).toEqual(t.applied.map((_, i) => i + 1));
    expect(t.applied.filter((e) => e.data.byteLength > 0).map((e) => decoder.decode(e.data))).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    // Every apply is followed by its save, then its settle, before the next apply.
    const rounds = t.journal.filter((j) => j.startsWith('apply:') || j.startsWith('settle:') || j === 'saved');
    for (let i = 0; i < rounds.length; i++) {
      if (!rounds[i]!.startsWith('apply:')) continue;
      expect(rounds[i + 1]).toBe('saved');
      expect(rounds[i + 2]).toBe(`settle:${rounds[i]!.slice('apply:'.length)}`);
    }
    expect(t.storage.appliedIndex).toBe(t.applied[t.applied.length - 1]!.index);
    expect(t.raw.applied).toBe(t.storage.appliedIndex);
  });

  it('a failed save stops the node: onFatal once, the Ready is never advanced nor its messages sent, later kicks do nothing', async () => {
    const t = setup(['n1', 'n2', 'n3']);
    const fault = Object.assign(new Error('disk gone'), { code: 'STORAGE_IO' });
    t.storage.failNextSave = fault;
    t.deliver({ type: 'vote', from: 'n2', to: 'n1', term: 1, index: 0, logTerm: 0, transfer: false });
    await t.turn();
    expect(t.fatal).toEqual([fault]);
    expect(t.loop.failed).toBe(true);
    expect(t.loop.driving).toBe(false);
    expect(t.transport.sent).toEqual([]);
    expect(t.storage.raft.hardState().vote).toBe('');
    t.deliver({ type: 'vote', from: 'n3', to: 'n1', term: 2, index: 0, logTerm: 0, transfer: false });
    expect(t.clock.deferredCount).toBe(0);
    expect(t.fatal).toHaveLength(1);
  });

  it('reports a peer whose connection is down as unreachable: the leader stops streaming appends to it', async () => {
    const t = setup(['n1', 'n2', 'n3']);
    await electN1(t);
    t.propose('x');
    await t.turn();
    expect(t.journal.slice(-1)).toEqual(['saved']);
    expect(t.journal).toContain('send:app->n2');
    t.transport.down.add('n2');
    t.journal.length = 0;
    t.propose('y');
    await t.turn();
    // The append still goes to the transport (which drops it); n2 is probed from now on.
    expect(t.journal).toEqual(['send:app->n2', 'save:1', 'saved']);
    t.journal.length = 0;
    t.propose('z');
    await t.turn();
    // One probe goes out, then the probe waits for an answer.
    expect(t.journal).toEqual(['send:app->n2', 'save:1', 'saved']);
    t.journal.length = 0;
    t.propose('w');
    await t.turn();
    expect(t.journal).toEqual(['save:1', 'saved']);
  });

  it('sends urgent messages (heartbeats) while a save is in flight, never when idle', async () => {
    const t = setup(['n1', 'n2', 'n3']);
    await electN1(t);
    t.loop.sendUrgent();
    expect(t.transport.sent.filter((m) => m.type === 'heartbeat')).toEqual([]);
    t.storage.holdSaves = true;
    t.propose('x');
    await t.turn();
    expect(t.loop.driving).toBe(true);
    t.raw.tick();
    t.loop.sendUrgent();
    expect(t.transport.sent.filter((m) => m.type === 'heartbeat').map((m) => m.to)).toEqual(['n2', 'n3']);
    t.storage.releaseSave();
    await settle();
  });

  it('drains nothing once the replica is stopping', async () => {
    const t = setup(['n1', 'n2', 'n3']);
    t.stop();
    t.deliver({ type: 'vote', from: 'n2', to: 'n1', term: 1, index: 0, logTerm: 0, transfer: false });
    await t.turn();
    expect(t.journal).toEqual([]);
    expect(t.loop.driving).toBe(false);
  });
});
