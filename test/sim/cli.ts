import { defaultSimOptions, runSimulation, simProfiles, type SimOptions } from './simulator.js';

/**
 * `npm run sim -- --seeds N [--from S] [--nodes 3|5] [--profile default|figure8|amnesia] [--unprotected-wipes]`: runs N seeds
 * starting at S, shows progress, and prints every failing seed with the command that replays it.
 */
async function main(argv: readonly string[]): Promise<number> {
  let seeds = 100;
  let from = 1;
  let nodes: number | undefined;
  let verbose = false;
  let profile = 'default';
  let unprotectedWipes = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const num = (name: string): number => {
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n < 0) {
        process.stderr.write(`error: ${name} needs a non-negative integer, got ${v ?? 'nothing'}\n`);
        process.exit(2);
      }
      i++;
      return n;
    };
    if (a === '--seeds') seeds = num('--seeds');
    else if (a === '--from') from = num('--from');
    else if (a === '--nodes') nodes = num('--nodes');
    else if (a === '--profile') {
      if (v === undefined || simProfiles[v] === undefined) {
        process.stderr.write(`error: --profile must be one of ${Object.keys(simProfiles).join(', ')}, got ${v ?? 'nothing'}\n`);
        return 2;
      }
      profile = v;
      i++;
    } else if (a === '--seed') {
      from = num('--seed');
      seeds = 1;
      verbose = true;
    } else if (a === '--unprotected-wipes') {
      unprotectedWipes = true;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run sim -- [--seeds N] [--from S] [--seed S] [--nodes 3|5] [--profile default|figure8|amnesia] [--unprotected-wipes]\n');
      return 0;
    } else {
      process.stderr.write(`error: unknown flag ${a} (try --help)\n`);
      return 2;
    }
  }
  const started = Date.now();
  const failures: number[] = [];
  let events = 0;
  let crashes = 0;
  let wipes = 0;
  let snapshots = 0;
  for (let s = from; s < from + seeds; s++) {
    const overrides: Partial<SimOptions> = { ...simProfiles[profile], ...(nodes !== undefined ? { nodeCount: nodes } : {}), ...(unprotectedWipes ? { unprotectedWipes } : {}) };
    const r = await runSimulation(defaultSimOptions(s, overrides));
    events += r.stats.events;
    crashes += r.stats.crashes;
    wipes += r.stats.wipes;
    snapshots += r.stats.snapshotsSent;
    if (verbose) process.stdout.write(`${JSON.stringify(r.stats)}\n`);
    if (!r.ok) {
      failures.push(s);
      process.stdout.write(`\nseed ${s} FAILED: ${r.failure}\n  replay: npm run sim -- --seed ${s} --profile ${profile}${unprotectedWipes ? ' --unprotected-wipes' : ''}${nodes !== undefined ? ` --nodes ${nodes}` : ''}\n`);
    }
    const done = s - from + 1;
    if (done % 100 === 0 || done === seeds) {
      const secs = (Date.now() - started) / 1000;
      process.stdout.write(`\r${done}/${seeds} seeds, ${failures.length} failed, ${secs.toFixed(1)} s`);
    }
  }
  const secs = (Date.now() - started) / 1000;
  process.stdout.write(`\n${seeds} seeds from ${from}: ${seeds - failures.length} passed, ${failures.length} failed in ${secs.toFixed(1)} s (${events} events, ${crashes} crashes, ${wipes} storage wipes, ${snapshots} snapshots sent)\n`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
