/**
 * Group-commit micro benchmark (not a test): synced saves of one entry each versus batches of
 * 64 entries, on a temporary data directory. Every save is one LevelDB batch with sync: true, so
 * saves/s is bounded by fsync latency and entries/s grows with the batch size.
 *
 *   npx tsc -p . && node dist/src/storage/bench-fsync.js [secondsPerCase]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../../raft/types.js';
import { DurableStorage } from './durable-storage.js';

/** Payload of each entry in bytes: a small queue message. */
const entryDataBytes = 256;
/** Wall time each case runs, in seconds; long enough to smooth fsync jitter. */
const caseDurationSecondsDefault = 3;

interface CaseResult {
  readonly batchEntries: number;
  readonly saves: number;
  readonly entries: number;
  readonly seconds: number;
  readonly syncMsMedian: number;
  readonly syncMsP99: number;
}

async function runCase(batchEntries: number, durationSeconds: number): Promise<CaseResult> {
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
    const result = await storage.save({ entries, hardState: { term: 1, vote: 'n1', commit: next - 1 } });
    syncMs.push(result.syncMs);
    next += batchEntries;
  }
  const seconds = (performance.now() - started) / 1000;
  await storage.close();
  await rm(dir, { recursive: true, force: true });
  syncMs.sort((a, b) => a - b);
  return {
    batchEntries,
    saves: syncMs.length,
    entries: next - 1,
    seconds,
    syncMsMedian: syncMs[Math.floor(syncMs.length / 2)] ?? 0,
    syncMsP99: syncMs[Math.floor(syncMs.length * 0.99)] ?? 0,
  };
}

async function main(): Promise<void> {
  const durationSeconds = Number(process.argv[2] ?? caseDurationSecondsDefault);
  console.log(`group-commit benchmark: ${entryDataBytes}-byte entries, ${durationSeconds}s per case, tmpdir ${tmpdir()}`);
  for (const batchEntries of [1, 64]) {
    const r = await runCase(batchEntries, durationSeconds);
    console.log(
      `batch=${String(r.batchEntries).padStart(2)}  saves/s=${(r.saves / r.seconds).toFixed(0).padStart(6)}  ` +
        `entries/s=${(r.entries / r.seconds).toFixed(0).padStart(7)}  sync ms median=${r.syncMsMedian.toFixed(2)} p99=${r.syncMsP99.toFixed(2)}`,
    );
  }
}

await main();
