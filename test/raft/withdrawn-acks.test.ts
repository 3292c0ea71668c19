/**
 * An acknowledgement waits in the core until its Ready is persisted; if the entries it names
 * are cut from the log before that (an append of a newer term, a snapshot), it must not leave:
 * a leader of the old term could count it toward committing entries this node never stored.
 * Found by the simulator (seed 8745) once the etcd-scenario fixes changed message timing.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStorage, RawNode, seededRng, type Entry, type Message } from '../../raft/index.js';

const voters = { voters: ['n1', 'n2', 'n3'], learners: [] };
const ent = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });

function acks(msgs: readonly Message[]): Array<{ to: string; term: number; index: number }> {
  return msgs.flatMap((m) => (m.type === 'appResp' && !m.reject ? [{ to: m.to, term: m.term, index: m.index }] : []));
}

describe('acknowledgements of entries cut before they were persisted', () => {
  it('an append of a newer term that truncates the unstable log withdraws the ack of the cut entries', () => {
    const n2 = new RawNode({ id: 'n2', storage: new MemoryStorage(voters), electionTicks: 10, heartbeatTicks: 1, rng: seededRng(1) });
    // Leader n1 of term 1 sends 1..3; n2 queues "I hold 3" (sent once the Ready is persisted).
    n2.step({ type: 'app', from: 'n1', to: 'n2', term: 1, index: 0, logTerm: 0, entries: [ent(1, 1), ent(2, 1), ent(3, 1)], commit: 0 });
    // Before that Ready is taken, leader n3 of term 2 replaces 2..3 with its own entry 2.
    n2.step({ type: 'app', from: 'n3', to: 'n2', term: 2, index: 1, logTerm: 1, entries: [ent(2, 2)], commit: 0 });
    const rd = n2.ready();
    expect(rd.entries.map((e) => `${e.index}@${e.term}`)).toEqual(['1@1', '2@2']);
    // Only acks of what this Ready persists may leave.
    expect(acks(rd.messages)).toEqual([{ to: 'n3', term: 2, index: 2 }]);
  });

  it('a snapshot restore withdraws the ack of unstable entries past the snapshot', () => {
    const n2 = new RawNode({ id: 'n2', storage: new MemoryStorage(voters), electionTicks: 10, heartbeatTicks: 1, rng: seededRng(1) });
    n2.step({ type: 'app', from: 'n1', to: 'n2', term: 1, index: 0, logTerm: 0, entries: [ent(1, 1), ent(2, 1), ent(3, 1)], commit: 0 });
    n2.step({ type: 'snap', from: 'n3', to: 'n2', term: 2, snapshot: { index: 2, term: 2, confState: voters } });
    const rd = n2.ready();
    expect(rd.snapshot?.index).toBe(2);
    expect(acks(rd.messages).filter((a) => a.index > 2)).toEqual([]);
  });
});
