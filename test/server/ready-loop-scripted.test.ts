/**
 * ReadyLoop (src/server/ready-loop.ts) over a scripted core that hands out the Readys a test
 * wrote: the order of the recovering marker, the save and the sends, and where each message
 * goes. The fakes write to one journal (replica-fakes.ts).
 */
import type { Logger } from 'pino';
import { assert, describe, expect, it } from 'vitest';
import type { Ready } from '../../raft/raw-node.js';
import type { Entry, Message, NodeId, Role } from '../../raft/types.js';
import { Mutex } from '../../src/server/mutex.js';
import { ReadyLoop, type ReadyLoopRaft } from '../../src/server/ready-loop.js';
import type { AppliedChanges } from '../../src/storage/index.js';
import { FakeClock, FakeTransport, MemoryReplicaStorage, settle, type Journal } from './replica-fakes.js';

interface Round {
  readonly entries: readonly Entry[];
  readonly changes: AppliedChanges;
}

/** A core that hands out the Readys a test scripted, recording advance. */
class ScriptedRaft implements ReadyLoopRaft {
  role: Role = 'follower';
  term = 1;
  readonly script: Ready[] = [];
  constructor(private readonly journal: Journal) {}
  hasReady(): boolean {
    return this.script.length > 0;
  }
  ready(): Ready {
    return this.script.shift()!;
  }
  advance(): void {
    this.journal.push('advance');
  }
  takeUrgentMessages(): Message[] {
    return [];
  }
  reportUnreachable(to: NodeId): void {
    this.journal.push(`unreachable:${to}`);
  }
}

const emptyReady: Ready = { softState: undefined, hardState: undefined, entries: [], snapshot: undefined, committedEntries: [], messages: [], readStates: [], mustSync: false, recovered: false, recoveryStarted: undefined };

describe('ReadyLoop with a scripted core', () => {
  function scripted() {
    const journal: Journal = [];
    const clock = new FakeClock();
    const transport = new FakeTransport(journal);
    const storage = new MemoryReplicaStorage(journal, { voters: ['n1', 'n2'], learners: [] });
    const raft = new ScriptedRaft(journal);
    const loop = new ReadyLoop<Round>({
      raft,
      storage,
      transport,
      clock,
      lock: new Mutex(),
      flushProposals: () => undefined,
      applier: { apply: () => assert.fail('nothing to apply'), settle: () => undefined },
      listeners: { leaderReplaced: () => undefined, leaderKnown: () => undefined, onReadStates: (rs) => void journal.push(`readStates:${rs.length}`), notifyApplied: () => void journal.push('notifyApplied') },
      maybeCompact: () => Promise.resolve(void journal.push('maybeCompact')),
      sendSnapshot: (m) => void journal.push(`snapshot->${m.to}`),
      isStopped: () => false,
      onFatal: () => assert.fail('no fatal expected'),
      logger: { info: () => undefined, fatal: () => undefined } as unknown as Pick<Logger, 'info' | 'fatal'>,
    });
    return { journal, clock, transport, storage, raft, loop };
  }

  it('writes the recovering marker before the save and clears it only after, before anything is sent', async () => {
    const t = scripted();
    const heartbeatResp: Message = { type: 'heartbeatResp', from: 'n1', to: 'n2', term: 1, context: new Uint8Array(0) };
    t.raft.script.push({ ...emptyReady, hardState: { term: 1, vote: '', commit: 0 }, mustSync: true, recoveryStarted: 'lost acknowledged entries', messages: [heartbeatResp] });
    t.raft.script.push({ ...emptyReady, hardState: { term: 2, vote: 'n2', commit: 0 }, mustSync: true, recovered: true });
    t.loop.kick();
    t.clock.runDeferred();
    await settle();
    expect(t.journal).toEqual(['recovering', 'save:0', 'saved', 'send:heartbeatResp->n2', 'readStates:0', 'advance', 'notifyApplied', 'maybeCompact', 'save:0', 'saved', 'recovered', 'readStates:0', 'advance', 'notifyApplied', 'maybeCompact']);
    expect(t.storage.recovering).toBeUndefined();
  });

  it('hands snap messages to the snapshot sender, everything else to the transport in one batch', async () => {
    const t = scripted();
    const snap: Message = { type: 'snap', from: 'n1', to: 'n2', term: 1, snapshot: { index: 5, term: 1, confState: { voters: ['n1', 'n2'], learners: [] } } };
    const app: Message = { type: 'app', from: 'n1', to: 'n3', term: 1, index: 0, logTerm: 0, commit: 0, entries: [] };
    t.transport.down.add('n3');
    t.raft.script.push({ ...emptyReady, messages: [snap, app] });
    t.loop.kick();
    t.clock.runDeferred();
    await settle();
    expect(t.journal.slice(0, 3)).toEqual(['snapshot->n2', 'unreachable:n3', 'send:app->n3']);
  });
});

