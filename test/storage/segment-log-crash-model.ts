/**
 * The crash model check of the segment log: runs a sequence of commands (append, sync,
 * truncate, compact, reset, crash, crash inside a sync or a reset) against a SegmentLog on a SimDisk and an
 * in-memory model, and after every crash and reopen checks:
 * - every record whose sync resolved before the crash, and that was not truncated or
 *   compacted since, is there with the same term and payload;
 * - every record there was appended at that index at some time (nothing unexpected, no
 *   garbage, no torn record);
 * - opening after a pure power loss never reports corruption;
 * - after a reset(nextIndex) resolved (and no compaction since), the first index is nextIndex;
 *   a crash inside a reset reopens the old log (its synced records) or the empty new one.
 * Returns the first violation found, or null.
 */
import fc from 'fast-check';
import type { SegmentRecord } from '../../src/storage/segment-log/record-format.js';
import { SegmentLog, type UnsafeSegmentLogMode } from '../../src/storage/segment-log/segment-log.js';
import { simDir, simDisk } from './segment-log-helpers.js';
import type { SimDisk } from './sim-disk.js';

/** One step of a scenario. Fractions pick a point in the log's current range. */
export type CrashCommand =
  | { readonly type: 'append'; readonly count: number; readonly termBump: boolean; readonly payloadBytes: number }
  | { readonly type: 'sync' }
  | { readonly type: 'syncCrash'; readonly afterMutations: number }
  | { readonly type: 'truncate'; readonly fraction: number }
  | { readonly type: 'compact'; readonly fraction: number }
  | { readonly type: 'reset'; readonly gap: number }
  | { readonly type: 'resetCrash'; readonly gap: number; readonly afterMutations: number }
  | { readonly type: 'crash' };

/** The scenario generator: mostly appends and syncs, some truncations, compactions and crashes. */
export const crashCommands: fc.Arbitrary<CrashCommand[]> = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ type: fc.constant('append' as const), count: fc.integer({ min: 1, max: 6 }), termBump: fc.boolean(), payloadBytes: fc.integer({ min: 0, max: 120 }) }) },
    { weight: 5, arbitrary: fc.constant({ type: 'sync' as const }) },
    { weight: 2, arbitrary: fc.record({ type: fc.constant('syncCrash' as const), afterMutations: fc.integer({ min: 0, max: 5 }) }) },
    { weight: 2, arbitrary: fc.record({ type: fc.constant('truncate' as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('compact' as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }) },
    { weight: 1, arbitrary: fc.constant({ type: 'crash' as const }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('reset' as const), gap: fc.integer({ min: 0, max: 30 }) }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('resetCrash' as const), gap: fc.integer({ min: 0, max: 30 }), afterMutations: fc.integer({ min: 0, max: 8 }) }) },
  ),
  { minLength: 1, maxLength: 60, size: 'max' },
);

/** How the scenario's disk and log are set up. */
export interface CrashSetup {
  readonly diskSeed: number;
  readonly tornWrites: boolean;
  /** Unsynced truncations may survive a crash (SimDisk option). */
  readonly truncationsMayPersist?: boolean;
  readonly unsafe?: UnsafeSegmentLogMode;
}

const logOptions = { segmentBytesMax: 1000, indexIntervalBytes: 64 };

function keyOf(r: SegmentRecord): string {
  return `${r.term}|${new TextDecoder().decode(r.payload)}`;
}

/** What the scenarios exercised, so a test can check it covered the cases it claims to. */
export interface CrashStats {
  /** Reopens after a power loss with at least one synced record to check. */
  checkedReopens: number;
  /** Syncs that a crash interrupted. */
  interruptedSyncs: number;
  /** Reopens that cut a torn tail. */
  tornTails: number;
  /** Reopens that found more than one segment. */
  multiSegmentReopens: number;
  /** Resets that a crash interrupted. */
  interruptedResets: number;
}

/** Fresh, zeroed statistics. */
export function crashStats(): CrashStats {
  return { checkedReopens: 0, interruptedSyncs: 0, tornTails: 0, multiSegmentReopens: 0, interruptedResets: 0 };
}

/** Runs `commands` and returns the first violation of the crash property, or null. */
export async function findCrashViolation(commands: readonly CrashCommand[], setup: CrashSetup, stats: CrashStats = crashStats()): Promise<string | null> {
  const disk: SimDisk = simDisk({ seed: setup.diskSeed, tornWrites: setup.tornWrites, truncationsMayPersist: setup.truncationsMayPersist ?? false });
  const open = (): Promise<SegmentLog> => SegmentLog.open(simDir, disk, { ...logOptions, ...(setup.unsafe === undefined ? {} : { unsafe: setup.unsafe }) });
  /** Every version ever appended at each index. */
  const versions = new Map<number, Set<string>>();
  /** The model of the log's content. */
  let current = new Map<number, string>();
  /** Records a resolved sync promised. */
  let required = new Map<number, string>();
  /** The first index a resolved reset promised (until a compaction may move it). */
  let requiredFirst: number | undefined;
  /** The next index of a reset a crash interrupted: the reopened log may be empty there instead. */
  let resetInFlight: number | undefined;
  let term = 1;
  let appends = 0;
  let log = await open();

  const crashAndCheck = async (step: number): Promise<string | null> => {
    disk.crash();
    disk.reboot();
    try {
      log = await open();
    } catch (err) {
      return `step ${step}: open after a power loss failed: ${String(err)}`;
    }
    if (required.size > 0) stats.checkedReopens++;
    if (log.recovery.tornTail !== null) stats.tornTails++;
    if (log.recovery.segments > 1) stats.multiSegmentReopens++;
    const found = await log.entries(log.firstIndex(), log.lastIndex() + 1);
    const byIndex = new Map(found.map((r) => [r.index, keyOf(r)]));
    const resetDone = resetInFlight !== undefined && found.length === 0 && log.firstIndex() === resetInFlight;
    if (resetDone) requiredFirst = resetInFlight;
    resetInFlight = undefined;
    if (resetDone) required = new Map();
    if (requiredFirst !== undefined && log.firstIndex() !== requiredFirst) return `step ${step}: reset to ${requiredFirst} reopened with first index ${log.firstIndex()}`;
    for (const [index, key] of required) {
      if (byIndex.get(index) !== key) return `step ${step}: synced record ${index} (${key}) is ${byIndex.has(index) ? `now ${byIndex.get(index)}` : 'missing'} after a power loss`;
    }
    for (const [index, key] of byIndex) {
      if (!versions.get(index)?.has(key)) return `step ${step}: record ${index} (${key}) was never appended`;
    }
    current = byIndex;
    required = new Map(byIndex);
    return null;
  };

  for (const [step, cmd] of commands.entries()) {
    let violation: string | null = null;
    switch (cmd.type) {
      case 'append': {
        if (cmd.termBump) term++;
        const batch: SegmentRecord[] = [];
        for (let k = 0; k < cmd.count; k++) {
          const index = log.lastIndex() + 1 + k;
          const text = `${index}#${appends++}`.padEnd(cmd.payloadBytes, '.');
          batch.push({ index, term, payload: new TextEncoder().encode(text) });
        }
        log.append(batch);
        for (const r of batch) {
          current.set(r.index, keyOf(r));
          if (!versions.has(r.index)) versions.set(r.index, new Set());
          versions.get(r.index)!.add(keyOf(r));
        }
        break;
      }
      case 'sync':
        await log.sync();
        required = new Map(current);
        break;
      case 'syncCrash': {
        disk.scheduleCrash(cmd.afterMutations);
        try {
          await log.sync();
          required = new Map(current);
        } catch {
          stats.interruptedSyncs++; // crashed inside the sync: nothing it covered was promised
        }
        violation = await crashAndCheck(step);
        break;
      }
      case 'truncate': {
        const from = log.firstIndex() + Math.floor(cmd.fraction * (log.lastIndex() - log.firstIndex() + 1.999));
        await log.truncateSuffix(from);
        for (const m of [current, required]) for (const i of [...m.keys()]) if (i >= from) m.delete(i);
        break;
      }
      case 'compact': {
        const upTo = log.firstIndex() - 1 + Math.floor(cmd.fraction * (log.lastIndex() - log.firstIndex() + 2));
        const first = await log.compactPrefix(upTo);
        if (first > upTo + 1 && first !== log.firstIndex()) return `step ${step}: compaction to ${upTo} moved the first index to ${first}`;
        for (const m of [current, required]) for (const i of [...m.keys()]) if (i < first) m.delete(i);
        requiredFirst = undefined;
        break;
      }
      case 'reset': {
        const next = log.lastIndex() + 1 + cmd.gap;
        await log.reset(next);
        current = new Map();
        required = new Map();
        requiredFirst = next;
        break;
      }
      case 'resetCrash': {
        const next = log.lastIndex() + 1 + cmd.gap;
        disk.scheduleCrash(cmd.afterMutations);
        try {
          await log.reset(next);
          required = new Map();
          requiredFirst = next;
        } catch {
          stats.interruptedResets++; // crashed inside the reset: the old log or the new one
          resetInFlight = next;
        }
        violation = await crashAndCheck(step);
        break;
      }
      case 'crash':
        violation = await crashAndCheck(step);
        break;
    }
    if (violation !== null) return violation;
    if (current.size !== log.lastIndex() - log.firstIndex() + 1) return `step ${step}: the log holds ${log.firstIndex()}..${log.lastIndex()}, the model ${current.size} records`;
  }
  return crashAndCheck(commands.length);
}

/** The seed of the randomized crash tests: RAFTQ_SEED replays one, else a fixed one. */
export function crashSeed(): number {
  const env = process.env['RAFTQ_SEED'];
  return env === undefined || env === '' ? 20261207 : Number(env);
}
