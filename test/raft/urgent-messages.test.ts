/**
 * RawNode.takeUrgentMessages: heartbeats and heartbeat responses leave while a Ready is still
 * being persisted (a slow fsync must not silence a leader into an election), but never with a
 * term that is not durable yet.
 */
import { describe, expect, it } from 'vitest';
import { RawNode } from '../../raft/raw-node.js';
import { seededRng } from '../../raft/rng.js';
import { MemoryStorage } from '../../raft/storage.js';
import type { Message } from '../../raft/types.js';

const voters = { voters: ['n1', 'n2', 'n3'], learners: [] };

function node(id: string): RawNode {
  return new RawNode({ id, storage: new MemoryStorage(voters), electionTicks: 10, heartbeatTicks: 1, rng: seededRng(7) });
}

function persist(n: RawNode, storage: MemoryStorage): void {
  const rd = n.ready();
  if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
  storage.append(rd.entries);
  n.advance(rd);
}

describe('urgent messages while a Ready is outstanding', () => {
  it('a leader hands out heartbeats of its persisted term; its next Ready no longer holds them', () => {
    const storage = new MemoryStorage(voters);
    const n1 = new RawNode({ id: 'n1', storage, electionTicks: 10, heartbeatTicks: 1, rng: seededRng(7) });
    n1.campaign(); // PreVote: a pre-candidate first
    n1.step({ type: 'preVoteResp', from: 'n2', to: 'n1', term: 1, reject: false });
    persist(n1, storage); // term 1 and the vote are durable
    n1.step({ type: 'voteResp', from: 'n2', to: 'n1', term: 1, reject: false });
    expect(n1.role).toBe('leader');
    const outstanding = n1.ready(); // the leader's first entry, being persisted
    n1.tick();
    const urgent = n1.takeUrgentMessages();
    expect(urgent.map((m) => `${m.type}->${m.to}@${m.term}`).sort()).toEqual(['heartbeat->n2@1', 'heartbeat->n3@1']);
    expect(n1.takeUrgentMessages()).toEqual([]);
    storage.append(outstanding.entries);
    n1.advance(outstanding);
    const next: readonly Message[] = n1.hasReady() ? n1.ready().messages : [];
    expect(next.filter((m) => m.type === 'heartbeat')).toEqual([]);
  });

  it('a follower keeps a heartbeat response of a term it has not persisted for its Ready', () => {
    const n2 = node('n2');
    n2.step({ type: 'heartbeat', from: 'n1', to: 'n2', term: 3, commit: 0, context: new Uint8Array(0) });
    expect(n2.takeUrgentMessages()).toEqual([]); // term 3 is not durable yet
    const rd = n2.ready();
    expect(rd.hardState?.term).toBe(3);
    expect(rd.messages.map((m) => m.type)).toEqual(['heartbeatResp']);
    n2.advance(rd);
    n2.step({ type: 'heartbeat', from: 'n1', to: 'n2', term: 3, commit: 0, context: new Uint8Array(0) });
    expect(n2.takeUrgentMessages().map((m) => `${m.type}@${m.term}`)).toEqual(['heartbeatResp@3']);
  });
});
