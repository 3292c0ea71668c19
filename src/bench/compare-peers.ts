/**
 * The peer systems of the comparison (etcd and NATS JetStream from peers-up.sh, RabbitMQ from
 * rabbit-up.sh, in ../shared/bench): bring a cluster up and wait until it takes writes, stop it,
 * and run one of the shared load scripts, returning the JSON line it printed.
 */
import { join } from 'node:path';
import { RaftqError } from '../errors.js';
import { failureOf, lastJsonObject, runCommand } from './compare-procs.js';

/** A peer cluster kind: etcd + NATS together (peers-up.sh), or RabbitMQ (rabbit-up.sh). */
export type PeerKind = 'peers' | 'rabbit';

/** Peer clusters brought up and not yet stopped (data directories), for an interrupted run. */
export const activePeerDirs = new Set<string>();

/** Attempts of a readiness probe after an up-script, 2 s apart. */
const readyAttempts = 20;

/**
 * Starts a peer cluster in `dir` (which the up-script wipes) and waits until a short write load
 * succeeds on every system it holds. Throws a RaftqError with the script's complaint.
 */
export async function peersUp(shared: string, kind: PeerKind, dir: string): Promise<void> {
  activePeerDirs.add(dir);
  const script = kind === 'peers' ? 'peers-up.sh' : 'rabbit-up.sh';
  const r = await runCommand('bash', [join(shared, script), dir], { cwd: shared, timeoutMs: 300_000 });
  if (r.code !== 0) throw new RaftqError('UNAVAILABLE', `${script} failed: ${failureOf(r)}`);
  const probes: Array<[string, string[]]> = kind === 'peers' ? [['peers.mjs', ['etcd', '2', '1', '64']], ['peers.mjs', ['nats', '2', '1', '64']]] : [['rabbit.mjs', ['2', '1', '64']]];
  for (const [file, args] of probes) {
    let last = '';
    let ready = false;
    for (let i = 0; i < readyAttempts && !ready; i++) {
      const p = await runCommand(process.execPath, [join(shared, file), ...args], { cwd: shared, timeoutMs: 60_000 });
      const out = lastJsonObject(p.stdout);
      ready = p.code === 0 && typeof out?.['ops'] === 'number' && out['ops'] > 0;
      if (!ready) {
        last = out !== undefined ? `ops ${String(out['ops'])}, errors ${String(out['errors'])}` : failureOf(p);
        await new Promise((res) => setTimeout(res, 2000));
      }
    }
    if (!ready) throw new RaftqError('UNAVAILABLE', `${file} ${args[0]} never succeeded after ${script} (${last})`);
  }
}

/** Stops a peer cluster with stop.sh (which removes `dir`); never throws. */
export async function peersDown(shared: string, dir: string): Promise<void> {
  await runCommand('bash', [join(shared, 'stop.sh'), dir], { cwd: shared, timeoutMs: 180_000 });
  activePeerDirs.delete(dir);
}

/**
 * Runs `node SCRIPT ARGS` in the shared folder and returns the JSON object it printed last;
 * throws a RaftqError when it failed or printed none.
 */
export async function runPeerScript(shared: string, file: string, args: readonly string[], o: { label: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<Record<string, unknown>> {
  const r = await runCommand(process.execPath, [join(shared, file), ...args], { cwd: shared, timeoutMs: o.timeoutMs, label: o.label, ...(o.env !== undefined ? { env: o.env } : {}) });
  const out = lastJsonObject(r.stdout);
  if (r.code !== 0 || out === undefined) throw new RaftqError('INTERNAL', `${file} ${args.join(' ')}: ${failureOf(r)}`);
  return out;
}
