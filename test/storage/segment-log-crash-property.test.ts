/**
 * Power-loss property of the segment log on SimDisk (the model: segment-log-crash-model.ts),
 * with and without torn writes, and its negative controls: a log that skips the fdatasync, or
 * the directory fsync after creating a segment, must be caught by the same property, which
 * proves the property can fail. Deterministic: RAFTQ_SEED=<n> replays a run (the seed is
 * printed on failure), RAFTQ_RUNS=<n> changes the number of scenarios.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CrashSetup, type CrashStats, crashCommands, crashSeed, crashStats, findCrashViolation } from './segment-log-crash-model.js';

const runs = Number(process.env['RAFTQ_RUNS'] ?? 150);

/** A violation of the crash property (as opposed to any other exception). */
class CrashPropertyViolation extends Error {}

function crashProperty(setup: Omit<CrashSetup, 'diskSeed'>, stats: CrashStats) {
  return fc.asyncProperty(crashCommands, fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (commands, diskSeed) => {
    const violation = await findCrashViolation(commands, { ...setup, diskSeed }, stats);
    if (violation !== null) throw new CrashPropertyViolation(violation);
  });
}

/** Asserts the property for `runs` scenarios from `seed`; the error names the seed to replay. Returns what it exercised. */
async function checkProperty(seed: number, setup: Omit<CrashSetup, 'diskSeed'>): Promise<CrashStats> {
  const stats = crashStats();
  const property = crashProperty(setup, stats);
  const result = await fc.check(property, { seed, numRuns: runs });
  if (result.failed) {
    throw new Error(`crash property violated (replay: RAFTQ_SEED=${seed}; fast-check path ${result.counterexamplePath}): ${String(result.errorInstance)}\ncommands: ${JSON.stringify(result.counterexample)}`);
  }
  return stats;
}

/** The violation the property finds for `seed` (a CrashPropertyViolation, not any other exception), if any. */
async function violationFound(seed: number, setup: Omit<CrashSetup, 'diskSeed'>): Promise<unknown> {
  const result = await fc.check(crashProperty(setup, crashStats()), { seed, numRuns: runs });
  return result.failed ? result.errorInstance : undefined;
}

describe('segment log power-loss property (SimDisk)', () => {
  it('keeps every synced record and invents none, across crashes (also inside syncs and resets)', async () => {
    const stats = await checkProperty(crashSeed(), { tornWrites: false });
    expect(stats.checkedReopens).toBeGreaterThan(runs / 2);
    expect(stats.interruptedSyncs).toBeGreaterThan(10);
    expect(stats.multiSegmentReopens).toBeGreaterThan(10);
    expect(stats.interruptedResets).toBeGreaterThan(10);
  });

  it('the same with torn writes: unsynced tails survive as seeded prefixes', async () => {
    const stats = await checkProperty(crashSeed() + 1, { tornWrites: true });
    expect(stats.tornTails).toBeGreaterThan(5);
    expect(stats.interruptedSyncs).toBeGreaterThan(10);
  });

  it('the same when unsynced truncations may survive a crash without the writes after them', async () => {
    const stats = await checkProperty(crashSeed() + 2, { tornWrites: false, truncationsMayPersist: true });
    expect(stats.checkedReopens).toBeGreaterThan(runs / 2);
  });

  describe('negative controls: the property catches a log that breaks the contract', () => {
    const seeds = [1, 2, 3];
    it.each(seeds)('skipping fdatasync is caught (seed %i)', async (seed) => {
      expect(await violationFound(seed, { tornWrites: false, unsafe: 'skip-fdatasync' })).toBeInstanceOf(CrashPropertyViolation);
    });
    it.each(seeds)('skipping the directory fsync after creating a segment is caught (seed %i)', async (seed) => {
      expect(await violationFound(seed, { tornWrites: false, unsafe: 'skip-dir-fsync' })).toBeInstanceOf(CrashPropertyViolation);
    });
  });
});
