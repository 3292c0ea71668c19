/**
 * A receiver that holds a snapshot stream forever (its sink never settles) holds every later
 * frame of the connection too. The sender must not wait on it forever: with no ack in time the
 * snapshot sender closes the connection, and a flush of Raft messages that cannot drain closes
 * it as well; either way the receiver's sink is aborted and the dialer redials.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Message, SnapshotMessage } from '../../raft/types.js';
import type { SnapshotSink, SnapshotSinkFactory } from '../../src/transport/index.js';
import { Harness, snapMessage, waitFor, type TestNode } from './helpers.js';

const h = new Harness();
afterEach(async () => {
  await h.closeAll();
});

const snap: SnapshotMessage = snapMessage(50, 2);

interface Stuck {
  opened: number;
  aborted: string | null;
}

/** A sink whose `stage` ('write' or 'finish') never settles (a hung disk). */
function stuckSink(state: Stuck, stage: 'write' | 'finish'): SnapshotSinkFactory {
  return (): SnapshotSink => {
    state.opened += 1;
    const never = new Promise<void>(() => {});
    return {
      write: () => (stage === 'write' ? never : Promise.resolve()),
      finish: () => (stage === 'finish' ? never : Promise.resolve()),
      abort: (reason) => {
        state.aborted = reason;
      },
    };
  };
}

async function* oneChunk(): AsyncGenerator<Uint8Array> {
  yield new Uint8Array(1000).fill(7);
}

async function pair(sink: SnapshotSinkFactory, extra: Parameters<Harness['start']>[1]): Promise<[TestNode, TestNode]> {
  const a = await h.start('a', extra);
  const b = await h.start('b', { snapshotSink: sink });
  await h.mesh([a, b]);
  return [a, b];
}

describe('a receiver that never lets go of a snapshot stream', () => {
  it('the sender closes the connection when no ack comes in time', async () => {
    const state: Stuck = { opened: 0, aborted: null };
    const [a] = await pair(stuckSink(state, 'finish'), { snapshotProgressTimeoutMs: 200 });
    expect(await a.t.sendSnapshot('b', snap, oneChunk())).toBe(false);
    expect(state.opened).toBe(1);
    // Closing is what tells the receiver to abort its sink and release the connection.
    await waitFor('the receiver aborted its sink', () => state.aborted !== null);
    await waitFor('the sender redialed', () => a.t.stats().reconnects >= 1 && a.t.isConnected('b'));
  });

  it('a flush that cannot drain closes the connection after drainTimeoutMs', async () => {
    const state: Stuck = { opened: 0, aborted: null };
    // The snapshot stays stuck in its first chunk write, holding every later frame; the
    // progress timeout is far away so only the drain timeout can end it.
    const [a] = await pair(stuckSink(state, 'write'), { snapshotProgressTimeoutMs: 60_000, drainTimeoutMs: 200 });
    const sending = a.t.sendSnapshot('b', snap, oneChunk());
    await waitFor('the receiver holds the stream', () => state.opened === 1);
    const entry = { term: 2, index: 1, type: 'normal' as const, data: new Uint8Array(1024 * 1024) };
    for (let i = 0; i < 48 && a.t.stats().reconnects === 0; i++) {
      const m: Message = { type: 'app', from: 'a', to: 'b', term: 2, index: i, logTerm: 2, commit: 0, entries: [{ ...entry, index: i + 1 }] };
      a.t.send([m]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor('the stalled connection was closed and redialed', () => a.t.stats().reconnects >= 1 && a.t.isConnected('b'));
    expect(await sending).toBe(false);
    await waitFor('the receiver aborted its sink', () => state.aborted !== null);
  });
});
