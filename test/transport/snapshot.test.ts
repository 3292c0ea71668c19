import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotMessage } from '../../raft/types.js';
import type { SnapshotSink, SnapshotSinkFactory } from '../../src/transport/index.js';
import { Harness, snapMessage, waitFor, type TestNode } from './helpers.js';

setFlagsFromString('--expose-gc');
/** V8's gc(), to sample live memory rather than uncollected garbage. */
const gc = runInNewContext('gc') as () => void;
gc();

const h = new Harness();
afterEach(async () => {
  await h.closeAll();
  await waitFor('handles released', () => !process.getActiveResourcesInfo().some((r) => r.startsWith('TCP')));
});

const chunkBytes = 256 * 1024;
const chunkCount = 80; // 20 MiB

const snap: SnapshotMessage = snapMessage(1000, 3);

/** Chunk `i` of the test snapshot: deterministic bytes that also encode their position. */
function chunkAt(i: number): Uint8Array {
  const c = new Uint8Array(chunkBytes);
  for (let j = 0; j < c.length; j += 4096) c[j] = (i * 31 + j) & 0xff;
  c[0] = i;
  return c;
}

/** A lazy source that produces chunks only when pulled; counts what it produced. */
function source(counter: { produced: number }): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < chunkCount; i++) {
        counter.produced += chunkBytes;
        yield chunkAt(i);
      }
    },
  };
}

interface Received {
  bytes: number;
  finished: boolean;
  aborted: string | null;
  hash: ReturnType<typeof createHash>;
}

/** A sink that hashes what it gets, yielding to the event loop on each write like a disk would. */
function hashingSink(state: { streams: Received[] }, failAtBytes = Infinity): SnapshotSinkFactory {
  return (): SnapshotSink => {
    const r: Received = { bytes: 0, finished: false, aborted: null, hash: createHash('sha256') };
    state.streams.push(r);
    return {
      write: async (chunk) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (r.bytes + chunk.byteLength > failAtBytes) throw new Error('disk full');
        r.hash.update(chunk);
        r.bytes += chunk.byteLength;
      },
      finish: async () => {
        r.finished = true;
      },
      abort: (reason) => {
        r.aborted = reason;
      },
    };
  };
}

function expectedHash(): string {
  const hash = createHash('sha256');
  for (let i = 0; i < chunkCount; i++) hash.update(chunkAt(i));
  return hash.digest('hex');
}

async function pair(sink: SnapshotSinkFactory | undefined): Promise<[TestNode, TestNode]> {
  const a = await h.start('a');
  const b = await h.start('b', sink === undefined ? {} : { snapshotSink: sink });
  await h.mesh([a, b]);
  return [a, b];
}

describe('snapshot streaming', () => {
  it('streams 20 MiB in order with backpressure, then delivers the snap message', async () => {
    const state = { streams: [] as Received[] };
    const [a, b] = await pair(hashingSink(state));
    const counter = { produced: 0 };
    gc();
    const base = process.memoryUsage();
    let peakGrowth = 0;
    let inFlightMax = 0;
    const sampler = setInterval(() => {
      // Twice: the first collection's ArrayBuffer sweeping finishes at the start of the second,
      // so dead buffers are no longer counted.
      gc();
      gc();
      const m = process.memoryUsage();
      peakGrowth = Math.max(peakGrowth, m.heapUsed + m.arrayBuffers - (base.heapUsed + base.arrayBuffers));
      inFlightMax = Math.max(inFlightMax, counter.produced - (state.streams[0]?.bytes ?? 0));
    }, 20);
    const ok = await a.t.sendSnapshot('b', snap, source(counter)).finally(() => clearInterval(sampler));
    expect(ok).toBe(true);
    const r = state.streams[0];
    expect(r?.finished).toBe(true);
    expect(r?.bytes).toBe(chunkBytes * chunkCount);
    expect(r?.hash.digest('hex')).toBe(expectedHash());
    await waitFor('snap delivered', () => b.received.length === 1);
    expect(b.received[0]).toStrictEqual(snap);
    // The source is pulled only as fast as the receiver writes: what was produced but not yet
    // written (JS memory plus both kernel socket buffers) and live JS memory stay far below
    // the 20 MiB total.
    const total = chunkBytes * chunkCount;
    expect(inFlightMax).toBeLessThan(total / 2);
    expect(peakGrowth).toBeLessThan(total / 2);
    expect(a.t.stats().snapshotsSent).toBe(1);
    expect(b.t.stats().snapshotsReceived).toBe(1);
  });

  it('resolves false when the receiver aborts, closes the connection, and the peers keep working', async () => {
    const state = { streams: [] as Received[] };
    const [a, b] = await pair(hashingSink(state, 3 * chunkBytes));
    const ok = await a.t.sendSnapshot('b', snap, source({ produced: 0 }));
    expect(ok).toBe(false);
    expect(state.streams[0]?.aborted).toMatch(/disk full/);
    expect(state.streams[0]?.finished).toBe(false);
    expect(b.received).toStrictEqual([]);
    expect(a.t.stats().snapshotsSendFailed).toBe(1);
    // The receiver closed the connection after its nack; the sender redials.
    await waitFor('the sender redialed', () => a.t.stats().reconnects >= 1 && a.t.isConnected('b'));
    a.t.send([{ type: 'timeoutNow', from: 'a', to: 'b', term: 3 }]);
    await waitFor('raft traffic still flows', () => b.received.length === 1);
  });

  it('resolves false when the receiver has no snapshot sink', async () => {
    const [a] = await pair(undefined);
    expect(await a.t.sendSnapshot('b', snap, source({ produced: 0 }))).toBe(false);
  });

  it('resolves false and aborts the sink when the connection drops mid-stream', async () => {
    const state = { streams: [] as Received[] };
    const [a, b] = await pair(hashingSink(state));
    const stalled: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        yield chunkAt(0);
        await waitFor('receiver got the first chunk', () => (state.streams[0]?.bytes ?? 0) > 0);
        await b.t.close();
        yield chunkAt(1);
      },
    };
    expect(await a.t.sendSnapshot('b', snap, stalled)).toBe(false);
    await waitFor('sink aborted', () => state.streams[0]?.aborted !== null);
  });
});
