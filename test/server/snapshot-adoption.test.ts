/**
 * SnapshotAdoption (src/server/snapshot-adoption.ts), driven with fakes: the pause around an
 * install's end (held messages, the lock, the kick) and the order of the adoption steps.
 */
import { describe, expect, it } from 'vitest';
import type { Message, SnapshotMessage } from '../../raft/types.js';
import { membersKey } from '../../src/server/membership.js';
import { Mutex } from '../../src/server/mutex.js';
import { SnapshotAdoption } from '../../src/server/snapshot-adoption.js';
import type { AppStateReader } from '../../src/server/application.js';

const book = Uint8Array.of(1, 2, 3);

function setup() {
  const calls: string[] = [];
  const lock = new Mutex();
  const storage: AppStateReader = {
    firstIndex: () => 1,
    lastIndex: () => 0,
    entries: () => [],
    get: (key) => {
      calls.push('storage.get');
      return Promise.resolve(Buffer.from(key).equals(Buffer.from(membersKey)) ? book : undefined);
    },
    getMany: () => Promise.reject(new Error('not used')),
    iterate: () => {
      throw new Error('not used');
    },
  };
  const adoption = new SnapshotAdoption({
    lock,
    step: (m) => void calls.push(`step ${m.from}`),
    kick: () => void calls.push('kick'),
    storage,
    stamper: { noteReceived: () => void calls.push('noteReceived') },
    app: { reload: (r) => (calls.push(`app.reload ${r === storage}`), Promise.resolve()) },
    clusterClock: { load: (r) => (calls.push(`clock.load ${r === storage}`), Promise.resolve()) },
    membership: { adoptSnapshot: (snap, stored) => void calls.push(`membership.adoptSnapshot ${snap.index} ${stored === book}`) },
    proposer: { adoptSnapshot: (index) => void calls.push(`proposer.adoptSnapshot ${index}`) },
  });
  return { adoption, calls, lock };
}

const msg = (from: string): Message => ({ type: 'heartbeat', from, to: 'n1', term: 2 }) as unknown as Message;

describe('SnapshotAdoption', () => {
  it('steps messages at once unless an install holds the pause; held ones are stepped in order after it, then the loop is kicked', async () => {
    const { adoption, calls, lock } = setup();
    expect(adoption.hold(msg('n2'))).toBe(false);
    expect(adoption.paused).toBe(false);
    await adoption.runPaused(async () => {
      expect(lock.held).toBe(true);
      expect(adoption.paused).toBe(true);
      expect(adoption.hold(msg('n2'))).toBe(true);
      expect(adoption.hold(msg('n3'))).toBe(true);
      calls.push('install');
      await Promise.resolve();
    });
    expect(adoption.paused).toBe(false);
    expect(calls).toEqual(['install', 'step n2', 'step n3', 'kick']);
  });

  it('releases the held messages and the pause when the install fails', async () => {
    const { adoption, calls } = setup();
    await expect(
      adoption.runPaused(async () => {
        adoption.hold(msg('n2'));
        throw new Error('install failed');
      }),
    ).rejects.toThrow('install failed');
    expect(adoption.paused).toBe(false);
    expect(calls).toEqual(['step n2', 'kick']);
  });

  it('waits for the ready-loop lock', async () => {
    const { adoption, calls, lock } = setup();
    let release!: () => void;
    const busy = lock.run(() => new Promise<void>((r) => (release = r)));
    const run = adoption.runPaused(async () => void calls.push('install'));
    await Promise.resolve();
    expect(calls).toEqual([]);
    release();
    await busy;
    await run;
    expect(calls).toEqual(['install', 'kick']);
  });

  it('adopts in order: stamps, application, cluster time, membership with the stored book, proposer', async () => {
    const { adoption, calls } = setup();
    const snap = { type: 'snap', from: 'n2', to: 'n1', term: 3, snapshot: { index: 42, term: 3, confState: { voters: ['n1', 'n2'], learners: [] } } } as unknown as SnapshotMessage;
    await adoption.adopt(snap);
    expect(calls).toEqual(['noteReceived', 'app.reload true', 'clock.load true', 'storage.get', 'membership.adoptSnapshot 42 true', 'proposer.adoptSnapshot 42']);
  });
});
