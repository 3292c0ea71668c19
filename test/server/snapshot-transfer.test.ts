/**
 * SnapshotTransfer between a leader and a follower over real PeerTransports and LevelDB
 * storages: a follower whose installs fail while staging (an injected EIO) fails the stream at
 * once, its connection is closed, the leader retries after a growing backoff, and the install
 * eventually succeeds; a second install while one is running is refused cleanly.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawNode } from '../../raft/raw-node.js';
import { seededRng } from '../../raft/rng.js';
import type { ConfState, NodeId, SnapshotMessage } from '../../raft/types.js';
import { RaftqError } from '../../src/errors.js';
import { SnapshotTransfer, type SnapshotStore, type SnapshotTransferHost } from '../../src/server/snapshot-transfer.js';
import type { DurableStorage } from '../../src/storage/durable-storage.js';
import { openTest } from '../storage/durable-harness.js';
import { bytes, entries, makeTempDir, removeDir, utf8 } from '../storage/helpers.js';
import { Harness, captureLogger, seededRng as transportRng, waitFor, type LogLine, type TestNode } from '../transport/helpers.js';

const cs: ConfState = { voters: ['a', 'b'], learners: [] };
/** One value just over the 1 MiB chunk bound, between small ones: three chunks. */
const bigValue = new Uint8Array(1_048_577).map((_, i) => i % 253);

const h = new Harness();
let dirs: string[] = [];
let storages: DurableStorage[] = [];
let transfers: SnapshotTransfer[] = [];
let stopped = false;

beforeEach(async () => {
  dirs = [await makeTempDir(), await makeTempDir()];
  storages = [];
  transfers = [];
  stopped = false;
});
afterEach(async () => {
  stopped = true;
  await h.closeAll();
  for (const s of storages) await s.close();
  for (const d of dirs) await removeDir(d);
});

/** The leader's storage: entries 1..3 of term 2, applied state with small pairs around bigValue. */
async function leaderStorage(): Promise<DurableStorage> {
  const s = await openTest(dirs[0]!, cs);
  storages.push(s);
  await s.save({ entries: entries(1, 3, () => 2), hardState: { term: 2, vote: 'a', commit: 3 } });
  const writes = [];
  for (let i = 0; i < 200; i++) writes.push({ type: 'put' as const, key: utf8(`a/${String(i).padStart(4, '0')}`), value: new Uint8Array(4000).fill(i) });
  writes.push({ type: 'put' as const, key: utf8('m/big'), value: bigValue });
  for (let i = 0; i < 10; i++) writes.push({ type: 'put' as const, key: utf8(`z/${i}`), value: utf8(`small-${i}`) });
  await s.applyBatch(writes, 3, cs);
  return s;
}

async function followerStorage(): Promise<DurableStorage> {
  const s = await openTest(dirs[1]!, cs);
  storages.push(s);
  return s;
}

/** An error like the one LevelDB gives when the disk fails under a write. */
function eio(): Error {
  return Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
}

/** `s`, whose first `failures` installs fail with EIO after staging their first chunk. */
function failingInstalls(s: DurableStorage, state: { failures: number; installs: number }): SnapshotStore {
  return {
    liveAppliedIndex: () => s.liveAppliedIndex(),
    openSnapshotReader: (o) => s.openSnapshotReader(o),
    installSnapshot: (meta, chunks) => {
      state.installs += 1;
      if (state.failures <= 0) return s.installSnapshot(meta, chunks);
      state.failures -= 1;
      return s.installSnapshot(meta, failAfterFirst(chunks));
    },
  };
}

async function* failAfterFirst(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const c of chunks) {
    if (n++ >= 1) throw eio();
    yield c;
  }
}

interface Side {
  readonly transfer: SnapshotTransfer;
  readonly lines: LogLine[];
  readonly reports: boolean[];
  adopted: number;
}

/** A SnapshotTransfer for node `id` over `store`, with a core of its own on `storage`. */
function side(id: NodeId, node: TestNode, storage: DurableStorage, store: SnapshotStore, onReport: (ok: boolean) => void = () => {}): Side {
  const { logger, lines } = captureLogger();
  const raw = new RawNode({ id, storage, electionTicks: 10, heartbeatTicks: 1, applied: storage.appliedIndex(), rng: seededRng(7) });
  const s: Side = { transfer: undefined as unknown as SnapshotTransfer, lines, reports: [], adopted: 0 };
  const host: SnapshotTransferHost = {
    raw,
    storage: store,
    logger,
    rng: transportRng(42),
    sendSnapshot: (to, msg, chunks) => node.t.sendSnapshot(to, msg, chunks),
    reportSnapshot: (_to, ok) => {
      s.reports.push(ok);
      onReport(ok);
    },
    runPaused: (fn) => fn(),
    adopt: async () => {
      s.adopted += 1;
    },
    onFatal: (err) => {
      throw err;
    },
    isStopped: () => stopped,
  };
  const transfer = new SnapshotTransfer(host);
  Object.assign(s, { transfer });
  transfers.push(transfer);
  return s;
}

const snap: SnapshotMessage = {
  type: 'snap',
  from: 'a',
  to: 'b',
  term: 2,
  snapshot: { index: 3, term: 2, confState: cs },
};

describe('SnapshotTransfer', () => {
  it('a failed install fails the stream and closes the connection; the leader retries with backoff until it succeeds', async () => {
    const ls = await leaderStorage();
    const fs = await followerStorage();
    const faults = { failures: 2, installs: 0 };
    let follower: Side | undefined;
    const a = await h.start('a');
    const b = await h.start('b', { snapshotSink: (from, msg) => follower!.transfer.openSink(from, msg) });
    follower = side('b', b, fs, failingInstalls(fs, faults));
    // The core sends the snapshot again after each failure report (once a heartbeat answers).
    const leader: Side = side('a', a, ls, ls, (ok) => {
      if (!ok) void leader.transfer.send(snap);
    });
    await h.mesh([a, b]);

    void leader.transfer.send(snap);
    await waitFor('the install to succeed', () => leader.reports.includes(true), 20_000);

    expect(leader.reports.at(-1)).toBe(true);
    expect(leader.reports.filter((ok) => !ok).length).toBeGreaterThanOrEqual(2);
    expect(faults.installs).toBeGreaterThanOrEqual(3);
    // Each failure was reported by the installer and failed the stream: the receiver nacked it
    // and closed the connection, so the sender redialed.
    const failed = follower.lines.filter((l) => l.msg === 'snapshot install failed');
    expect(failed.length).toBe(2);
    expect(String((failed[0]!['err'] as { message: string }).message)).toMatch(/EIO/);
    expect(a.t.stats().reconnects).toBeGreaterThanOrEqual(2);
    expect(a.t.stats().snapshotsSendFailed).toBeGreaterThanOrEqual(2);
    // The retries backed off: each delay's range starts where the previous one's ended.
    const delays = leader.lines.filter((l) => l.msg === 'snapshot stream finished' && l['ok'] === false).map((l) => l['retryInMs'] as number);
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThan(delays[i - 1]!);
    // The follower holds the leader's state, the big value byte for byte.
    expect(follower.adopted).toBe(1);
    expect(fs.appliedIndex()).toBe(3);
    expect(bytes(await fs.get(utf8('m/big')))).toEqual(bytes(bigValue));
    expect(bytes(await fs.get(utf8('z/9')))).toEqual(bytes(utf8('small-9')));
  });

  it('refuses a second install while one is running, and accepts one once it ended', async () => {
    const fs = await followerStorage();
    const b = await h.start('b');
    const follower = side('b', b, fs, fs);
    const first = follower.transfer.openSink('a', snap);
    expect(follower.transfer.installing).toBe(true);
    let refusal: unknown;
    try {
      follower.transfer.openSink('a', { ...snap, snapshot: { ...snap.snapshot, index: 4 } });
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(RaftqError);
    expect(refusal).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/install of 3 from a is still running/) });

    first.abort('sender went away');
    await waitFor('the first install to unwind', () => !follower.transfer.installing);
    const second = follower.transfer.openSink('a', snap);
    await second.finish();
    expect(follower.adopted).toBe(1);
    expect(fs.appliedIndex()).toBe(3);
  });

  it('a write after a failed install rejects instead of waiting forever', async () => {
    const fs = await followerStorage();
    const b = await h.start('b');
    const follower = side('b', b, fs, failingInstalls(fs, { failures: 1, installs: 0 }));
    const sink = follower.transfer.openSink('a', snap);
    const reader = await (await leaderStorage()).openSnapshotReader();
    const chunk = (await reader.chunks()[Symbol.asyncIterator]().next()).value as Uint8Array;
    await reader.close();
    await sink.write(chunk);
    // The installer takes the second chunk, then its staging fails: every later write and the
    // finish reject with the staging error (on the old code the next write waited forever).
    await sink.write(chunk);
    await expect(sink.write(chunk)).rejects.toThrow(/EIO/);
    await expect(sink.write(chunk)).rejects.toThrow(/EIO/);
    await expect(sink.finish()).rejects.toThrow(/EIO/);
    await waitFor('the install to unwind', () => !follower.transfer.installing);
  });
});
