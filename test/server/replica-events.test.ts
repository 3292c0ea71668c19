/**
 * ReplicaEvents (src/server/replica-events.ts), the one event switch of a replica, against
 * recording fakes of every part it routes to, and startReplicaTimers against a fake clock.
 */
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../raft/assert.js';
import type { ConfState, Message } from '../../raft/types.js';
import { ReplicaEvents, startReplicaTimers, type ReplicaEvent } from '../../src/server/replica-events.js';
import type { SnapshotSink } from '../../src/transport/index.js';
import { FakeClock } from './replica-fakes.js';

const sink: SnapshotSink = { write: () => Promise.resolve(), finish: () => Promise.resolve(), abort: () => undefined } as unknown as SnapshotSink;
const heartbeat: Message = { type: 'heartbeat', from: 'n2', to: 'n1', term: 3, commit: 0, context: new Uint8Array(0) };
const appendFromStart: Message = { type: 'app', from: 'n2', to: 'n1', term: 3, index: 0, logTerm: 0, commit: 1, entries: [{ index: 1, term: 1, type: 'normal', data: new Uint8Array(0) }] };

function setup() {
  const calls: string[] = [];
  const clock = new FakeClock();
  const errors: string[] = [];
  let role = 'follower';
  let paused = false;
  let stopped = false;
  let confState: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };
  let housekeeping: Uint8Array | undefined;
  const events = new ReplicaEvents<string>({
    raft: {
      get role() {
        return role;
      },
      tick: () => void calls.push('raft.tick'),
      step: (m) => void calls.push(`raft.step:${m.type}`),
    },
    loop: { kick: () => void calls.push('kick'), sendUrgent: () => void calls.push('sendUrgent') },
    adoption: {
      get paused() {
        return paused;
      },
      hold: (m) => {
        if (paused) calls.push(`held:${m.type}`);
        return paused;
      },
    },
    stamper: { noteReceived: () => void calls.push('noteReceived') },
    forwarding: {
      tick: () => void calls.push('forwarding.tick'),
      onApp: (from, f) => void calls.push(`onApp:${from}:${f.appKind}`),
      submit: (payload, deadline, requestId) => {
        calls.push(`submit:${payload.byteLength}:${deadline}:${requestId}`);
        return Promise.resolve('reply');
      },
    },
    reads: { read: (ms) => (calls.push(`read:${ms}`), Promise.resolve()) },
    snapshots: { openSink: (from, msg) => (calls.push(`openSink:${from}:${msg.snapshot.index}`), sink) },
    app: { housekeeping: (mono) => (calls.push(`housekeeping:${mono}`), housekeeping) },
    submit: (payload) => (calls.push(`housekeep-submit:${payload.byteLength}`), Promise.reject(new Error('not leader any more'))),
    confState: () => confState,
    snapshotIndex: () => 0,
    clock,
    isStopped: () => stopped,
    logger: { error: (_o: unknown, msg: string) => void errors.push(msg), debug: () => undefined } as unknown as Pick<Logger, 'error' | 'debug'>,
  });
  return {
    calls,
    clock,
    errors,
    events,
    set: (s: { role?: string; paused?: boolean; stopped?: boolean; confState?: ConfState; housekeeping?: Uint8Array }) => {
      role = s.role ?? role;
      paused = s.paused ?? paused;
      stopped = s.stopped ?? stopped;
      confState = s.confState ?? confState;
      housekeeping = s.housekeeping ?? housekeeping;
    },
  };
}

describe('ReplicaEvents', () => {
  it('a tick steps the core and forwarding, sends urgent messages and kicks the loop, in that order', () => {
    const t = setup();
    t.events.handle({ kind: 'tick' });
    expect(t.calls).toEqual(['raft.tick', 'forwarding.tick', 'sendUrgent', 'kick']);
  });

  it('a tick does nothing while a snapshot install ends or the replica stops', () => {
    const t = setup();
    t.set({ paused: true });
    t.events.handle({ kind: 'tick' });
    t.set({ paused: false, stopped: true });
    t.events.handle({ kind: 'tick' });
    expect(t.calls).toEqual([]);
  });

  it('a peer message is stepped and kicks the loop; a heartbeat also lets urgent answers out', () => {
    const t = setup();
    t.events.handle({ kind: 'peerMessage', message: heartbeat });
    expect(t.calls).toEqual(['raft.step:heartbeat', 'sendUrgent', 'kick']);
    t.calls.length = 0;
    t.events.handle({ kind: 'peerMessage', message: appendFromStart });
    expect(t.calls).toEqual(['noteReceived', 'raft.step:app', 'kick']);
  });

  it('a peer message is held back while a snapshot install ends', () => {
    const t = setup();
    t.set({ paused: true });
    t.events.handle({ kind: 'peerMessage', message: heartbeat });
    expect(t.calls).toEqual(['held:heartbeat']);
  });

  it('a joining node (no membership, no snapshot) refuses a log replay from index 1, logging it at most every 5 s', () => {
    const t = setup();
    t.set({ confState: { voters: [], learners: [] } });
    t.events.handle({ kind: 'peerMessage', message: appendFromStart });
    t.events.handle({ kind: 'peerMessage', message: appendFromStart });
    expect(t.calls).toEqual([]);
    expect(t.errors).toHaveLength(1);
    t.clock.advance(5001);
    t.events.handle({ kind: 'peerMessage', message: appendFromStart });
    expect(t.errors).toHaveLength(2);
  });

  it('routes proposals, forwarded frames, reads and snapshot streams to their owners', async () => {
    const t = setup();
    await expect(t.events.handle({ kind: 'proposal', payload: new Uint8Array(3), deadline: 42, requestId: 'n1-1' })).resolves.toBe('reply');
    t.events.handle({ kind: 'forward', from: 'n2', frame: { kind: 'app', appKind: 'submit', requestId: 1, payload: new Uint8Array(0) } });
    await t.events.handle({ kind: 'read', timeoutMs: 500 });
    const opened = t.events.handle({ kind: 'snapshot', from: 'n2', message: { type: 'snap', from: 'n2', to: 'n1', term: 3, snapshot: { index: 9, term: 2, confState: { voters: ['n2'], learners: [] } } } });
    expect(opened).toBe(sink);
    expect(t.calls).toEqual(['submit:3:42:n1-1', 'onApp:n2:submit', 'read:500', 'openSink:n2:9']);
  });

  it('housekeeping proposes the application\'s command on a leader only, and swallows its failure', async () => {
    const t = setup();
    t.set({ housekeeping: new Uint8Array(2) });
    t.events.handle({ kind: 'housekeep' });
    expect(t.calls).toEqual([]);
    t.set({ role: 'leader' });
    t.clock.mono = 77;
    t.events.handle({ kind: 'housekeep' });
    await Promise.resolve();
    expect(t.calls).toEqual(['housekeeping:77', 'housekeep-submit:2']);
  });

  it.each<[string, unknown]>([
    ['no event', undefined],
    ['an unknown kind', { kind: 'bogus' }],
    ['a peer message without a message', { kind: 'peerMessage' }],
    ['a peer message that is not a Raft message', { kind: 'peerMessage', message: { to: 'n1' } }],
    ['a proposal whose payload is a string', { kind: 'proposal', payload: 'abc', deadline: 1, requestId: 'r' }],
    ['a proposal without a deadline', { kind: 'proposal', payload: new Uint8Array(1), deadline: Number.NaN, requestId: 'r' }],
    ['a forward without a frame', { kind: 'forward', from: 'n2' }],
    ['a read without a timeout', { kind: 'read' }],
    ['a snapshot event carrying a heartbeat', { kind: 'snapshot', from: 'n2', message: heartbeat }],
  ])('refuses %s with an AssertionError before touching any part', (_name, ev) => {
    const t = setup();
    expect(() => t.events.handle(ev as ReplicaEvent as never)).toThrow(AssertionError);
    expect(t.calls).toEqual([]);
  });
});

describe('startReplicaTimers', () => {
  it('ticks every tickMs and housekeeps every second in the background, until stopped', () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const stop = startReplicaTimers(clock, 100, (ev) => void seen.push(ev.kind));
    expect(clock.activeTimers).toEqual([
      { every: 100, background: false },
      { every: 1000, background: true },
    ]);
    clock.advance(1000);
    expect(seen.filter((k) => k === 'tick')).toHaveLength(10);
    expect(seen.filter((k) => k === 'housekeep')).toHaveLength(1);
    stop();
    clock.advance(5000);
    expect(seen).toHaveLength(11);
    expect(clock.activeTimers).toEqual([]);
  });
});
