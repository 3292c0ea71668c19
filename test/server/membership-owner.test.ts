/**
 * Membership (src/server/membership-owner.ts), the one owner of the applied configuration, the
 * address book and the pending membership change, driven with a fake Raft core and a fake
 * transport: no sockets, no storage.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyConfChange, encodeConfChange } from '../../raft/conf-change.js';
import { RaftError } from '../../raft/errors.js';
import { NONE, type ConfChange, type ConfState, type Entry, type NodeId } from '../../raft/types.js';
import { RaftqError } from '../../src/errors.js';
import { promoteLagMax, type ReplicationStatus } from '../../src/server/member-change.js';
import { decodeAddressBook, decodeMemberContext, encodeAddressBook, type MemberAction, type MembersStatus } from '../../src/server/membership.js';
import { Membership, type MembershipRaft, type PeerDirectory } from '../../src/server/membership-owner.js';
import type { PeerConfig } from '../../src/server/peer-config.js';
import type { PeerAddress } from '../../src/transport/index.js';
import { captureLogger } from '../transport/helpers.js';

/** A Raft core that proposes conf changes at increasing indexes and never applies them itself. */
class FakeRaft implements MembershipRaft {
  role = 'leader';
  leader: NodeId = 'n1';
  applied = 10;
  pendingConfIndex = 0;
  term = 2;
  nextIndex = 11;
  commit = 10;
  readonly progress = new Map<NodeId, { match: number; recentActive: boolean }>();
  readonly proposed: ConfChange[] = [];
  refuse: Error | undefined;

  constructor(public cs: ConfState) {}

  confState(): ConfState {
    return this.cs;
  }

  status(): ReplicationStatus {
    return { commit: this.commit, progress: this.progress };
  }

  proposeConfChange(cc: ConfChange): { index: number; term: number } {
    if (this.refuse !== undefined) throw this.refuse;
    this.proposed.push(cc);
    this.cs = applyConfChange(this.cs, cc);
    this.pendingConfIndex = this.nextIndex;
    return { index: this.nextIndex++, term: this.term };
  }

  /** The conf entry the last proposal made, as it would commit (in `term`, default its own). */
  lastEntry(term = this.term): Entry {
    const cc = this.proposed[this.proposed.length - 1]!;
    return { index: this.nextIndex - 1, term, type: 'conf', data: encodeConfChange(cc) };
  }
}

/** Records what the transport was told. */
class FakeTransport implements PeerDirectory {
  readonly calls: string[] = [];
  addPeer(id: NodeId, addr: PeerAddress): void {
    this.calls.push(`add ${id} ${addr.host}:${addr.port}`);
  }
  removePeer(id: NodeId): void {
    this.calls.push(`remove ${id}`);
  }
}

const n1: PeerConfig = { host: '10.0.0.1', peerPort: 7001, httpPort: 8001, clientPort: 9001 };
const n2: PeerConfig = { host: '10.0.0.2', peerPort: 7001, httpPort: 8001 };
const n3: PeerConfig = { host: '10.0.0.3', peerPort: 7001 };
const n4: PeerConfig = { host: '10.0.0.4', peerPort: 7001, clientPort: 9001 };

function setup(cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] }, book: Record<NodeId, PeerConfig> = { n1, n2, n3 }) {
  const raft = new FakeRaft(cs);
  const transport = new FakeTransport();
  const { logger, lines } = captureLogger();
  const kick = vi.fn();
  const m = new Membership({ self: 'n1', dataDir: '/data/n1', raft, transport, logger, book, confState: cs, kick });
  /** Applies the last proposal's entry and settles its round, as the ready loop does. */
  const applyLast = (term?: number) => {
    const e = raft.lastEntry(term);
    const r = m.applyConfEntry(e);
    raft.applied = e.index;
    m.settleApplied([{ index: e.index, term: e.term }]);
    return r;
  };
  return { raft, transport, lines, kick, m, applyLast };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RaftqError);
  return { code: (e as RaftqError).code, message: (e as RaftqError).message };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Membership.change: validation', () => {
  const cases: Array<[string, MemberAction, NodeId, PeerConfig | undefined, string, RegExp]> = [
    ['a bad node id', 'add', 'n 4', n4, 'INVALID_ARGUMENT', /bad node id "n 4"/],
    ['adding a voter', 'add', 'n2', n4, 'INVALID_ARGUMENT', /^n2 is already a voter$/],
    ['adding a learner', 'add', 'l1', n4, 'INVALID_ARGUMENT', /^l1 is already a learner; promote it/],
    ['adding with no known address', 'add', 'n4', undefined, 'INVALID_ARGUMENT', /the peer address of n4 is required/],
    ['adding at a member\'s address', 'add', 'n4', { host: n2.host, peerPort: n2.peerPort }, 'INVALID_ARGUMENT', /peer address 10\.0\.0\.2:7001 is already used by n2/],
    ['promoting a voter', 'promote', 'n3', undefined, 'INVALID_ARGUMENT', /^n3 is already a voter$/],
    ['promoting a non-member', 'promote', 'n9', undefined, 'INVALID_ARGUMENT', /^n9 is not a learner; add it first$/],
    ['promoting a learner with no progress', 'promote', 'l1', undefined, 'UNAVAILABLE', /learner l1 has not caught up \(match 0, commit 10, not heard from recently\)/],
    ['removing a non-member', 'remove', 'n9', undefined, 'INVALID_ARGUMENT', /^n9 is not a member \(voters: n1, n2, n3; learners: l1\)$/],
  ];
  it.each(cases)('refuses %s', async (_what, action, id, addr, code, message) => {
    const { m, raft } = setup({ voters: ['n1', 'n2', 'n3'], learners: ['l1'] }, { n1, n2, n3, l1: n4 });
    const r = await codeOf(m.change(action, id, addr, 1000));
    expect(r.code).toBe(code);
    expect(r.message).toMatch(message);
    expect(raft.proposed).toEqual([]);
  });

  it('refuses to promote a learner that lags or was not heard from, and promotes one that caught up', async () => {
    const { m, raft } = setup({ voters: ['n1'], learners: ['l1'] }, { n1, l1: n4 });
    raft.commit = 5000;
    raft.progress.set('l1', { match: 5000 - promoteLagMax - 1, recentActive: true });
    expect((await codeOf(m.change('promote', 'l1', undefined, 1000))).message).toMatch(/match 3999, commit 5000, active/);
    raft.progress.set('l1', { match: 5000, recentActive: false });
    expect((await codeOf(m.change('promote', 'l1', undefined, 1000))).message).toMatch(/not heard from recently/);
    raft.progress.set('l1', { match: 5000 - promoteLagMax, recentActive: true });
    const promoted = m.change('promote', 'l1', undefined, 1000);
    expect(raft.proposed).toEqual([{ type: 'addVoter', nodeId: 'l1', context: JSON.stringify({ host: n4.host, peerPort: n4.peerPort, clientPort: n4.clientPort }) }]);
    m.failAll(new RaftqError('TIMEOUT', 'test over'));
    await expect(promoted).rejects.toThrow('test over');
  });

  it('refuses to remove the last voter', async () => {
    const { m } = setup({ voters: ['n1'], learners: [] }, { n1 });
    expect(await codeOf(m.change('remove', 'n1', undefined, 1000))).toEqual({ code: 'INVALID_ARGUMENT', message: 'cannot remove the last voter n1' });
  });

  it('off the leader: NOT_LEADER with the leader\'s addresses, NO_LEADER when none is known', async () => {
    const { m, raft } = setup();
    raft.role = 'follower';
    raft.leader = 'n2';
    const e = await m.change('remove', 'n3', undefined, 1000).catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'NOT_LEADER', message: 'n1 is not the leader; ask n2', leader: { id: 'n2', http: '10.0.0.2:8001' } });
    raft.leader = NONE;
    expect(await codeOf(m.change('remove', 'n3', undefined, 1000))).toEqual({ code: 'NO_LEADER', message: 'no leader is known to change the membership' });
  });

  it('maps a refusal of the core through the one error table', async () => {
    const { m, raft } = setup();
    raft.refuse = new RaftError('PROPOSAL_DROPPED', 'leadership transfer in progress');
    const e = await m.change('remove', 'n3', undefined, 1000).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RaftqError);
    expect((e as RaftqError).cause).toBe(raft.refuse);
  });
});

describe('Membership.change: one change at a time', () => {
  it('refuses UNAVAILABLE (CONF_CHANGE_PENDING) while the core has an unapplied conf entry', async () => {
    const { m, raft } = setup();
    raft.pendingConfIndex = 11;
    const e = await m.change('remove', 'n3', undefined, 1000).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RaftqError);
    expect((e as RaftqError).code).toBe('UNAVAILABLE');
    expect((e as RaftqError).message).toBe('another membership change (entry 11) is not applied yet; retry when it is');
    expect(((e as RaftqError).cause as RaftError).code).toBe('CONF_CHANGE_PENDING');
    expect(raft.proposed).toEqual([]);
  });

  it('refuses a second change while this leader waits for the first, even if the core already applied it', async () => {
    const { m, raft, kick } = setup();
    const first = m.change('add', 'n4', n4, 1000);
    expect(kick).toHaveBeenCalledTimes(1);
    raft.applied = raft.pendingConfIndex; // applied in the core, but the round is not settled yet
    const second = await m.change('remove', 'n3', undefined, 1000).catch((err: unknown) => err);
    expect((second as RaftqError).code).toBe('UNAVAILABLE');
    expect(((second as RaftqError).cause as RaftError).code).toBe('CONF_CHANGE_PENDING');
    m.settleApplied([]); // an empty round settles nothing
    m.applyConfEntry(raft.lastEntry());
    m.settleApplied([{ index: 11, term: 2 }]);
    await expect(first).resolves.toMatchObject({ action: 'add', id: 'n4', index: 11 });
  });
});

describe('Membership: waiters', () => {
  it('resolves a change with the new configuration once its entry applied in its term, and logs it', async () => {
    const { m, raft, lines, applyLast } = setup();
    const p = m.change('add', 'n4', n4, 1000);
    expect(lines.some((l) => l['msg'] === 'proposed membership change' && l['index'] === 11 && l['term'] === 2)).toBe(true);
    applyLast();
    const cs = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };
    await expect(p).resolves.toEqual({ action: 'add', id: 'n4', index: 11, confState: cs });
    expect(m.confState).toEqual(cs);
    expect(raft.proposed[0]?.type).toBe('addLearner');
    expect(decodeMemberContext(raft.proposed[0]?.context)).toEqual(n4);
  });

  it('fails a change UNAVAILABLE when another term\'s entry applied at its index', async () => {
    const { m, applyLast } = setup();
    const p = m.change('remove', 'n3', undefined, 1000);
    applyLast(3);
    expect(await codeOf(p)).toEqual({ code: 'UNAVAILABLE', message: 'leadership changed: the membership change at index 11 was not applied; retry' });
  });

  it('fails a change TIMEOUT at its deadline and lets the next one through', async () => {
    vi.useFakeTimers();
    const { m, raft } = setup();
    const p = codeOf(m.change('remove', 'n3', undefined, 500));
    vi.advanceTimersByTime(499);
    raft.applied = raft.pendingConfIndex;
    expect((await codeOf(m.change('remove', 'n2', undefined, 500))).code).toBe('UNAVAILABLE');
    vi.advanceTimersByTime(1);
    expect(await p).toEqual({ code: 'TIMEOUT', message: 'membership change at 11 did not apply within 500 ms; its outcome is unknown (see GET /v1/cluster/members)' });
    const next = m.change('remove', 'n2', undefined, 500);
    expect(raft.proposed.map((c) => c.nodeId)).toEqual(['n3', 'n2']);
    m.failAll(new RaftqError('TIMEOUT', 'shut down'));
    await expect(next).rejects.toThrow('shut down');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('failAll rejects every waiting change with the given error and forgets it', async () => {
    const { m, raft, applyLast } = setup();
    const p = m.change('add', 'n4', n4, 1000);
    const err = new RaftqError('TIMEOUT', 'node shut down before the membership change applied; outcome unknown');
    m.failAll(err);
    await expect(p).rejects.toBe(err);
    applyLast(); // its entry applying later resolves nothing
    raft.applied = raft.pendingConfIndex;
    const next = m.change('remove', 'n4', undefined, 1000);
    expect(raft.proposed).toHaveLength(2);
    m.failAll(err);
    await expect(next).rejects.toBe(err);
  });

  it('a snapshot through the change\'s index fails it TIMEOUT; one below it leaves it waiting', async () => {
    const { m, applyLast } = setup();
    const p = m.change('add', 'n4', n4, 1000);
    m.adoptSnapshot({ index: 10, confState: { voters: ['n1', 'n2', 'n3'], learners: [] } }, undefined);
    m.adoptSnapshot({ index: 11, confState: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } }, encodeAddressBook({ n1, n2, n3, n4 }));
    expect(await codeOf(p)).toEqual({ code: 'TIMEOUT', message: 'a snapshot replaced the log before the membership change applied; outcome unknown' });
    expect(() => applyLast()).not.toThrow();
  });
});

describe('Membership: the address book', () => {
  const leaderStatus = (progress: MembersStatus['progress'] = {}): MembersStatus => ({ id: 'n1', role: 'leader', leader: 'n1', commitIndex: 12, progress });

  it('an added member is persisted, dialed once its round settles, and listed', async () => {
    const { m, transport, applyLast } = setup();
    const p = m.change('add', 'n4', n4, 1000);
    const { write, memberAdded } = applyLast();
    await p;
    expect(memberAdded).toBe(true);
    expect(write.type).toBe('put');
    expect(decodeAddressBook(write.type === 'put' ? write.value : undefined)).toEqual({ n1, n2, n3, n4 });
    expect(transport.calls).toEqual(['add n4 10.0.0.4:7001']);
    expect(m.peers).toEqual({ n1, n2, n3, n4 });
    expect(m.members(leaderStatus({ n1: { match: 12, state: 'replicate', active: false }, n4: { match: 3, state: 'snapshot', active: true } })).members).toEqual([
      { id: 'n1', role: 'voter', peer: '10.0.0.1:7001', http: '10.0.0.1:8001', client: '10.0.0.1:9001', match: 12, state: 'replicate', active: true },
      { id: 'n2', role: 'voter', peer: '10.0.0.2:7001', http: '10.0.0.2:8001' },
      { id: 'n3', role: 'voter', peer: '10.0.0.3:7001' },
      { id: 'n4', role: 'learner', peer: '10.0.0.4:7001', client: '10.0.0.4:9001', match: 3, state: 'snapshot', active: true },
    ]);
  });

  it('a removed member is forgotten, persisted without it and dropped from the transport', async () => {
    const { m, transport, applyLast } = setup();
    const p = m.change('remove', 'n3', undefined, 1000);
    const { write, memberAdded } = applyLast();
    await p;
    expect(memberAdded).toBe(false);
    expect(decodeAddressBook(write.type === 'put' ? write.value : undefined)).toEqual({ n1, n2 });
    expect(transport.calls).toEqual(['remove n3']);
    expect(m.peers).toEqual({ n1, n2 });
    expect(m.members({ id: 'n1', role: 'follower', leader: 'n2', commitIndex: 12, progress: {} })).toEqual({
      leader: 'n2',
      confState: { voters: ['n1', 'n2'], learners: [] },
      commitIndex: 12,
      members: [
        { id: 'n1', role: 'voter', peer: '10.0.0.1:7001', http: '10.0.0.1:8001', client: '10.0.0.1:9001' },
        { id: 'n2', role: 'voter', peer: '10.0.0.2:7001', http: '10.0.0.2:8001' },
      ],
    });
  });

  it('a conf entry applied onto no membership is INTERNAL and changes nothing', () => {
    const { m, raft } = setup({ voters: [], learners: [] }, { n1, n2 });
    raft.proposed.push({ type: 'addLearner', nodeId: 'n4' });
    expect(() => m.applyConfEntry(raft.lastEntry())).toThrow(/knows no membership; a joining node must install a snapshot first\. Wipe \/data\/n1 and join again\./);
    expect(m.confState).toEqual({ voters: [], learners: [] });
  });

  it('a snapshot brings its configuration and stored addresses; members without an address are warned about', () => {
    const { m, transport, lines } = setup({ voters: [], learners: [] }, { n1, n2 });
    expect(m.peers).toEqual({ n1, n2 });
    m.adoptSnapshot({ index: 40, confState: { voters: ['n2', 'n3', 'n5'], learners: ['n1'] } }, encodeAddressBook({ n2: { ...n2, peerPort: 7002 }, n3 }));
    expect(m.confState).toEqual({ voters: ['n2', 'n3', 'n5'], learners: ['n1'] });
    expect(m.peers).toEqual({ n1, n2: { ...n2, peerPort: 7002 }, n3 });
    expect(transport.calls).toEqual(['add n2 10.0.0.2:7002', 'add n3 10.0.0.3:7001']);
    expect(lines.filter((l) => l['msg'] === 'member has no known address: pass it in --peers').map((l) => l['peer'])).toEqual(['n5']);
  });

  it('nodes(): every dialed node with its addresses, the leader\'s progress and the connection', () => {
    const { m } = setup({ voters: ['n1', 'n2'], learners: ['n3'] });
    const st = { id: 'n1', confState: { voters: ['n1', 'n2'], learners: ['n3'] }, progress: { n1: { match: 7, state: 'replicate' } }, peersConnected: { n2: true } };
    expect(m.nodes(st)).toEqual([
      { id: 'n1', voter: true, peer: '10.0.0.1:7001', http: '10.0.0.1:8001', client: '10.0.0.1:9001', match: 7, state: 'replicate' },
      { id: 'n2', voter: true, peer: '10.0.0.2:7001', http: '10.0.0.2:8001', connected: true },
      { id: 'n3', voter: false, peer: '10.0.0.3:7001', connected: false },
    ]);
  });

  it('the leader hint names the leader with its client-facing addresses', () => {
    const { m, raft } = setup();
    expect(m.leaderHint()).toEqual({ leader: { id: 'n1', http: '10.0.0.1:8001', client: '10.0.0.1:9001' } });
    raft.leader = 'n3';
    expect(m.leaderHint()).toEqual({ leader: { id: 'n3' } });
    raft.leader = NONE;
    expect(m.leaderHint()).toEqual({});
  });
});
