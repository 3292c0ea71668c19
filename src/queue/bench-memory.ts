/**
 * Memory benchmark (not a test): applies N enqueue entries of one 1 KiB message each through
 * the queue state machine, committing the writes to a LevelDB in a temp dir in batches of 1000
 * entries (as the runtime would), each batch with the cold-tier copies of its bodies, as if the
 * log were compacted right behind it (log-bodies.ts: the worst case for LevelDB), and reports
 * RSS, heap and apply throughput. Then it reloads
 * the state machine from the LevelDB (load(), as after a restart) and reports the same.
 *
 *   npx tsc -p . && node --expose-gc dist/src/queue/bench-memory.js [messages=1000000] [--keep]
 *
 * Goal: RSS < 400 MB with a 1,000,000 x 1 KiB backlog, because payloads live on disk.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { decodeCommand, encodeCommand } from './codec.js';
import type { Command } from './commands.js';
import { QueueError } from './errors.js';
import { seqOf } from './ids.js';
import { allStatePrefix } from './keys.js';
import { coldBodyWrites, readBodies, type EnqueueLog } from './log-bodies.js';
import { QueueStateMachine } from './state-machine.js';
import { WriteBatch, type StateReader } from './state-store.js';

/** Entries per LevelDB batch: the runtime applies committed entries in batches of this order. */
const entriesPerBatch = 1000;
const bodyBytes = 1024;

type Db = Level<Uint8Array, Uint8Array>;

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Highest RSS sampled (every 50 ms) since the last memory() report. */
let peakRssBytes = 0;
const sampler = setInterval(() => {
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
}, 50);

function memory(): string {
  const peak = Math.max(peakRssBytes, process.memoryUsage.rss());
  peakRssBytes = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return `rss ${mb(m.rss)} (peak ${mb(peak)}) heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}`;
}

function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  end[end.length - 1]!++;
  return end;
}

/** A StateReader over a LevelDB. */
function levelReader(db: Db): StateReader {
  return {
    get: async (key) => (await db.get(key)) ?? undefined,
    iterate: (prefix) => db.iterator({ gte: prefix, lt: prefixEnd(prefix) }),
  };
}

async function main(): Promise<void> {
  const total = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1_000_000);
  const keep = process.argv.includes('--keep');
  const dir = await mkdtemp(join(tmpdir(), 'raftq-bench-'));
  console.log(`bench-memory: ${total} x ${bodyBytes} B enqueues, LevelDB at ${dir}`);
  console.log(`start: ${memory()}`);
  let db: Db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();

  const sm = new QueueStateMachine();
  let index = 0;
  const stamp0 = Date.now();
  const setup = new WriteBatch();
  sm.apply({ type: 'createQueue', queue: 'bench' }, { index: ++index, nowMs: stamp0 }, setup);
  await db.batch(setup.ops);

  const body = new Uint8Array(bodyBytes).fill(0x61);
  const started = performance.now();
  let applyMs = 0;
  let batch = new WriteBatch();
  // The entries of the batch being built: their bodies are copied into the batch when it is stored.
  let log = new Map<number, Extract<Command, { type: 'enqueue' }>>();
  const batchLog: EnqueueLog = { enqueuedAt: (i) => log.get(i)?.messages };
  for (let n = 1; n <= total; n++) {
    // Every message differs (first 8 bytes), as a real producer's would.
    body[0] = n & 0xff;
    body[1] = (n >>> 8) & 0xff;
    body[2] = (n >>> 16) & 0xff;
    const cmd: Command = { type: 'enqueue', queue: 'bench', messages: [{ body }] };
    const data = encodeCommand(cmd);
    const t = performance.now();
    const decoded = decodeCommand(data);
    if (decoded instanceof QueueError) throw decoded;
    const r = sm.apply(decoded, { index: ++index, nowMs: stamp0 + Math.floor(n / 1000) }, batch);
    applyMs += performance.now() - t;
    if (!r.ok || r.type !== 'enqueue' || decoded.type !== 'enqueue') throw new Error(`enqueue failed`);
    log.set(index, decoded);
    if (n % entriesPerBatch === 0 || n === total) {
      const indexes = [...log.keys()];
      // Every message of the batch is live (nothing is received): copy them all.
      const live = (lo: number, hi: number, fn: (seq: number, enqueuedAtMs: number) => void): void =>
        log.forEach((_, i) => {
          const seq = seqOf(i, 0);
          if (seq >= lo && seq < hi) fn(seq, stamp0);
        });
      coldBodyWrites(live, indexes[0]!, indexes[indexes.length - 1]!, Infinity, batchLog, batch);
      log = new Map();
      await db.batch(batch.ops);
      batch = new WriteBatch();
    }
    if (n % 100_000 === 0 || n === total) {
      const s = (performance.now() - started) / 1000;
      console.log(
        `${n} entries  ${(n / s).toFixed(0)} entries/s end-to-end  ${(n / (applyMs / 1000)).toFixed(0)} entries/s decode+apply  ${memory()}`,
      );
    }
  }
  const stats = sm.getQueue('bench')!.stats;
  console.log(`after enqueue: visible ${stats.visible}  ${memory()}`);

  const reader = levelReader(db);
  const t = performance.now();
  const receive = new WriteBatch();
  const r = sm.apply({ type: 'receive', queue: 'bench', max: 10 }, { index: ++index, nowMs: stamp0 + total }, receive);
  await db.batch(receive.ops);
  if (!r.ok || r.type !== 'receive') throw new Error('receive failed');
  const got = await readBodies(reader, batchLog, r.messages);
  console.log(`receive 10 + readMessages: ${got.length} bodies of ${got[0]?.body.length} B in ${(performance.now() - t).toFixed(1)} ms`);

  await db.close();
  db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const loadStarted = performance.now();
  const loaded = await QueueStateMachine.load(levelReader(db));
  const loadMs = performance.now() - loadStarted;
  const loadedStats = loaded.getQueue('bench')!.stats;
  console.log(`load(): ${loadedStats.visible} visible + ${loadedStats.inFlight} in flight in ${(loadMs / 1000).toFixed(1)} s  ${memory()}`);
  let keys = 0;
  for await (const _ of db.keys({ gte: allStatePrefix(), lt: prefixEnd(allStatePrefix()) })) keys++;
  console.log(`keyspace: ${keys} keys (full key scan, like a snapshot)  ${memory()}`);
  await db.close();
  if (!keep) await rm(dir, { recursive: true, force: true });
  clearInterval(sampler);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
