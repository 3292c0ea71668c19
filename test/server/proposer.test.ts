/**
 * Proposer (src/server/proposer.ts), the one owner of a node's client proposals, driven with a
 * fake Raft core and a fake application under fake timers: no sockets, no storage. Each test
 * plays the ready loop's part by hand (flush, settleApplied, adoptSnapshot, failAll).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RaftError } from '../../raft/errors.js';
import { RaftqError } from '../../src/errors.js';
import type { ClockStamp } from '../../src/server/cluster-clock.js';
import { decodeEntry } from '../../src/server/entry-envelope.js';
import { Proposer, type ProposerApp, type ProposerRaft } from '../../src/server/proposer.js';

/** A Raft core that appends batches at increasing indexes and never commits them itself. */
class FakeRaft implements ProposerRaft {
  role = 'leader';
  term = 3;
  nextIndex = 21;
  refuse: Error | undefined;
  /** Every batch appended, as the payloads and stamps of its entries. */
  readonly batches: Array<Array<{ payload: string; stamp: unknown }>> = [];

  proposeBatch(datas: readonly Uint8Array[]): { index: number; term: number } {
    if (this.refuse !== undefined) throw this.refuse;
    this.batches.push(datas.map((d) => ({ payload: text(decodeEntry(d).payload), stamp: decodeEntry(d).stamp })));
    const first = { index: this.nextIndex, term: this.term };
    this.nextIndex += datas.length;
    return first;
  }
}

/** Accepts every payload but "bad", decoding it to an object apply could reuse. */
class FakeApp implements ProposerApp {
  validate(payload: Uint8Array): unknown {
    const s = text(payload);
    if (s === 'bad') throw new RaftqError('INVALID_ARGUMENT', 'bad command');
    return { cmd: s };
  }
}

const stamp: ClockStamp = { elapsedMs: 5, wallMs: 1_700_000_000_000 };
const timeoutMs = 1000;

function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

function setup(proposalsMax = 100) {
  const raft = new FakeRaft();
  const kick = vi.fn();
  const proposed = vi.fn();
  const stamper = { stamp: vi.fn((_term: number) => stamp) };
  const proposer = new Proposer<string>({
    raft,
    app: new FakeApp(),
    stamper,
    proposalsMax,
    commandBytesMax: 64,
    leaderHint: () => ({ leader: { id: 'n2', http: '10.0.0.2:8001' } }),
    kick,
    now: () => Date.now(),
    metrics: { proposed },
  });
  /** Proposes `s` with the default deadline; the outcome as a string, for ordering checks. */
  const propose = (s: string, ms = timeoutMs) =>
    proposer.propose(bytes(s), Date.now() + ms).then(
      (r) => `ok ${r}`,
      (e: RaftqError) => `${e.code} ${e.message}`,
    );
  return { raft, kick, proposed, stamper, proposer, propose };
}

describe('Proposer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('queues requests until the flush, then appends them all in one batch and resolves each when its entry applies', async () => {
    const { raft, kick, proposed, stamper, proposer, propose } = setup();
    const a = propose('a');
    const b = propose('b');
    const c = propose('c');
    expect(kick).toHaveBeenCalledTimes(3);
    expect(raft.batches).toEqual([]);
    expect(proposer.queued).toBe(3);
    proposer.flush();
    expect(raft.batches).toEqual([['a', 'b', 'c'].map((payload) => ({ payload, stamp }))]);
    expect(stamper.stamp).toHaveBeenCalledExactlyOnceWith(3);
    expect(proposed).toHaveBeenCalledExactlyOnceWith(3);
    expect(proposer.queued).toBe(0);
    expect(proposer.inFlight).toBe(3);
    // What validate decoded travels to apply, for our own entries only.
    expect(proposer.decodedAt(22, 3)).toEqual({ cmd: 'b' });
    expect(proposer.decodedAt(22, 2)).toBeUndefined();
    // A flush with nothing queued appends nothing.
    proposer.flush();
    expect(raft.batches).toHaveLength(1);
    proposer.settleApplied(
      [21, 22, 23].map((index) => ({ index, term: 3 })),
      new Map([
        [21, 'ra'],
        [22, 'rb'],
        [23, 'rc'],
      ]),
    );
    expect(await Promise.all([a, b, c])).toEqual(['ok ra', 'ok rb', 'ok rc']);
    expect(proposer.inFlight).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails the whole batch NOT_LEADER, with the leader hint, when leadership moved before the flush', async () => {
    const { raft, proposed, proposer, propose } = setup();
    const a = proposer.propose(bytes('a'), Date.now() + timeoutMs);
    const b = propose('b');
    raft.role = 'follower';
    proposer.flush();
    const err = await a.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RaftqError);
    expect(err).toMatchObject({ code: 'NOT_LEADER', message: 'leadership changed before the request was proposed', leader: { id: 'n2', http: '10.0.0.2:8001' } });
    expect(await b).toBe('NOT_LEADER leadership changed before the request was proposed');
    expect(raft.batches).toEqual([]);
    expect(proposed).not.toHaveBeenCalled();
    expect(proposer.queued + proposer.inFlight).toBe(0);
  });

  it('fails the batch with the mapped error when the core refuses it', async () => {
    const { raft, proposer, propose } = setup();
    const a = propose('a');
    raft.refuse = new RaftError('PROPOSAL_DROPPED', 'leadership transfer in progress');
    proposer.flush();
    expect(await a).toBe('UNAVAILABLE leadership transfer in progress');
    expect(proposer.inFlight).toBe(0);
  });

  it('refuses what the application refuses, before queueing it', async () => {
    const { kick, proposer, propose } = setup();
    expect(await propose('bad')).toBe('INVALID_ARGUMENT bad command');
    expect(kick).not.toHaveBeenCalled();
    expect(proposer.queued).toBe(0);
  });

  it('refuses UNAVAILABLE at proposalsMax, counting queued and in-flight requests of the newest term', async () => {
    const { raft, proposer, propose } = setup(3);
    void propose('a');
    void propose('b');
    proposer.flush();
    void propose('c');
    expect(proposer.queued + proposer.inFlight).toBe(3);
    expect(await propose('d')).toBe('UNAVAILABLE overloaded: 3 proposals in flight');
    // One applies: room for one more.
    proposer.settleApplied([{ index: 21, term: 3 }], new Map([[21, 'ra']]));
    const e = propose('e');
    expect(await propose('f')).toBe('UNAVAILABLE overloaded: 3 proposals in flight');
    // Re-elected in a newer term: the older term's proposals are no longer this leader's load.
    raft.term = 5;
    proposer.flush();
    expect(proposer.inFlight).toBe(2);
    void propose('g');
    expect(proposer.queued).toBe(1);
    proposer.failAll();
    expect(await e).toBe('TIMEOUT node shut down before the request completed; outcome unknown');
  });

  it('fails a queued request TIMEOUT at its deadline; it leaves the queue and is never appended', async () => {
    const { raft, proposer, propose } = setup();
    const a = propose('a', 100);
    const b = propose('b', 300);
    vi.advanceTimersByTime(99);
    expect(proposer.queued).toBe(2);
    vi.advanceTimersByTime(1);
    expect(await a).toBe('TIMEOUT request timed out; its outcome is unknown');
    expect(proposer.queued).toBe(1);
    proposer.flush();
    expect(raft.batches.map((batch) => batch.map((x) => x.payload))).toEqual([['b']]);
    proposer.settleApplied([{ index: 21, term: 3 }], new Map([[21, 'rb']]));
    expect(await b).toBe('ok rb');
  });

  it('fails an appended request TIMEOUT at its deadline and forgets it at its index: its entry may still apply', async () => {
    const { proposer, propose } = setup();
    const a = propose('a', 100);
    proposer.flush();
    expect(proposer.inFlight).toBe(1);
    vi.advanceTimersByTime(100);
    expect(await a).toBe('TIMEOUT request timed out; its outcome is unknown');
    expect(proposer.inFlight).toBe(0);
    // Its entry applies later: nothing is left to answer, and nothing throws.
    expect(proposer.decodedAt(21, 3)).toBeUndefined();
    proposer.settleApplied([{ index: 21, term: 3 }], new Map([[21, 'late']]));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails UNAVAILABLE when another term\'s entry applies at its index (not applied: safe to retry)', async () => {
    const { proposer, propose } = setup();
    const a = propose('a');
    const b = propose('b');
    proposer.flush();
    // Another leader's entries won indexes 21 (a command) and 22 (a no-op or conf entry: no result).
    proposer.settleApplied(
      [
        { index: 21, term: 4 },
        { index: 22, term: 4 },
      ],
      new Map([[21, 'theirs']]),
    );
    expect(await a).toBe('UNAVAILABLE leadership changed: another entry applied at index 21; the request was not applied; retry');
    expect(await b).toBe('UNAVAILABLE leadership changed: another entry applied at index 22; the request was not applied; retry');
    expect(proposer.inFlight).toBe(0);
  });

  it('fails TIMEOUT (outcome unknown) the proposals a snapshot covers; later ones keep waiting', async () => {
    const { proposer, propose } = setup();
    const a = propose('a');
    const b = propose('b');
    proposer.flush();
    proposer.adoptSnapshot(21);
    expect(await a).toBe('TIMEOUT a snapshot replaced the log before the request applied; outcome unknown');
    expect(proposer.inFlight).toBe(1);
    proposer.settleApplied([{ index: 22, term: 3 }], new Map([[22, 'rb']]));
    expect(await b).toBe('ok rb');
  });

  it('on failAll, fails queued requests UNAVAILABLE (never proposed) and appended ones TIMEOUT (outcome unknown)', async () => {
    const { raft, proposer, propose } = setup();
    const a = propose('a');
    proposer.flush();
    const b = propose('b');
    proposer.failAll();
    expect(await a).toBe('TIMEOUT node shut down before the request completed; outcome unknown');
    expect(await b).toBe('UNAVAILABLE node is shutting down');
    expect(proposer.queued + proposer.inFlight).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    proposer.flush();
    expect(raft.batches).toHaveLength(1);
  });

  it('refuses TOO_LARGE a command above the largest one log entry carries', () => {
    const { proposer } = setup();
    expect(() => proposer.checkSize(new Uint8Array(64))).not.toThrow();
    expect(() => proposer.checkSize(new Uint8Array(65))).toThrow(expect.objectContaining({ code: 'TOO_LARGE', message: 'request of 65 bytes exceeds 64 bytes, the most one replicated log entry can carry' }));
  });
});
