/**
 * Group-commit micro benchmark (not a test): synced saves of one entry each versus batches of
 * 64 entries, on a temporary data directory. Every save is one LevelDB batch with sync: true, so
 * saves/s is bounded by fsync latency and entries/s grows with the batch size. A round may
 * also apply its entries (one state write per entry): `+applyBatch` with a separate
 * applyBatch after the save, `+applied` in the save's own batch (what the runtime does); the
 * last case times a snapshot install (staging + switch).
 *
 *   npx tsc -p . && node dist/src/storage/bench-fsync.js [secondsPerCase]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfState, Entry } from '../../raft/types.js';
import { type AppliedChanges, DurableStorage } from './durable-storage.js';
import { encodeSnapshotChunks, type StatePair } from './snapshot-chunks.js';

/** Payload of each entry in bytes: a small queue message. */
const entryDataBytes = 256;
/** Wall time each case runs, in seconds; long enough to smooth fsync jitter. */
const caseDurationSecondsDefault = 3;

/** Install case: pairs of installBytesPerPair bytes, installPairCount of them (64 MiB). */
const installPairCount = 65536;
const installBytesPerPair = 1024;

/** How a round writes the state changes of its entries. */
type ApplyMode = 'none' | 'applyBatch' | 'applied';

interface CaseResult {
  readonly batchEntries: number;
  readonly apply: ApplyMode;
  readonly saves: number;
  readonly entries: number;
  readonly seconds: number;
  readonly syncMsMedian: number;
  readonly syncMsP99: number;
}

async function runCase(batchEntries: number, apply: ApplyMode, durationSeconds: number): Promise<CaseResult> {
  const dir = await mkdtemp(join(tmpdir(), 'raftq-bench-'));
  const storage = await DurableStorage.open(dir, { clusterId: 'bench', nodeId: 'n1' });
  const data = new Uint8Array(entryDataBytes).fill(7);
  const syncMs: number[] = [];
  let next = 1;
  const started = performance.now();
  const deadline = started + durationSeconds * 1000;
  while (performance.now() < deadline) {
    const entries: Entry[] = [];
    for (let i = 0; i < batchEntries; i++) entries.push({ index: next + i, term: 1, type: 'normal', data });
    const t0 = performance.now();
    const changes: AppliedChanges = { writes: entries.map((e) => ({ type: 'put', key: stateKey(e.index), value: data })), appliedIndex: next + batchEntries - 1, confState };
    await storage.save({ entries, hardState: { term: 1, vote: 'n1', commit: next - 1 }, ...(apply === 'applied' ? { applied: changes } : {}) });
    if (apply === 'applyBatch') await storage.applyBatch(changes.writes, changes.appliedIndex, confState);
    syncMs.push(performance.now() - t0);
    next += batchEntries;
  }
  const seconds = (performance.now() - started) / 1000;
  await storage.close();
  await rm(dir, { recursive: true, force: true });
  syncMs.sort((a, b) => a - b);
  return {
    batchEntries,
    apply,
    saves: syncMs.length,
    entries: next - 1,
    seconds,
    syncMsMedian: syncMs[Math.floor(syncMs.length / 2)] ?? 0,
    syncMsP99: syncMs[Math.floor(syncMs.length * 0.99)] ?? 0,
  };
}

const confState: ConfState = { voters: ['n1'], learners: [] };

function stateKey(index: number): Uint8Array {
  return new TextEncoder().encode(`m/${String(index).padStart(12, '0')}`);
}

/** Installs a installPairCount-pair snapshot in 1 MiB chunks; returns the wall time in ms. */
async function runInstall(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'raftq-bench-'));
  const storage = await DurableStorage.open(dir, { clusterId: 'bench', nodeId: 'n1', initialConfState: confState });
  const value = new Uint8Array(installBytesPerPair).fill(3);
  async function* pairs(): AsyncGenerator<StatePair> {
    for (let i = 0; i < installPairCount; i++) yield [stateKey(i), value];
  }
  const started = performance.now();
  await storage.installSnapshot({ index: 1, term: 1, confState }, encodeSnapshotChunks(pairs()));
  const ms = performance.now() - started;
  await storage.close();
  await rm(dir, { recursive: true, force: true });
  return ms;
}

async function main(): Promise<void> {
  const durationSeconds = Number(process.argv[2] ?? caseDurationSecondsDefault);
  console.log(`group-commit benchmark: ${entryDataBytes}-byte entries, ${durationSeconds}s per case, tmpdir ${tmpdir()}`);
  for (const apply of ['none', 'applyBatch', 'applied'] as const) {
    for (const batchEntries of [1, 64]) {
      const r = await runCase(batchEntries, apply, durationSeconds);
      console.log(
        `batch=${String(r.batchEntries).padStart(2)}${(r.apply === 'none' ? '' : `+${r.apply}`).padEnd(12)}  rounds/s=${(r.saves / r.seconds).toFixed(0).padStart(6)}  ` +
          `entries/s=${(r.entries / r.seconds).toFixed(0).padStart(7)}  round ms median=${r.syncMsMedian.toFixed(2)} p99=${r.syncMsP99.toFixed(2)}`,
      );
    }
  }
  const installMs = await runInstall();
  const mib = (installPairCount * installBytesPerPair) / (1024 * 1024);
  console.log(`install ${mib} MiB (${installPairCount} pairs, 1 MiB chunks): ${installMs.toFixed(0)} ms`);
}

await main();
