/**
 * Child processes of the comparison script: commands run to completion with a timeout (their
 * stderr forwarded with a prefix, their stdout captured), paths of the repository and of the
 * shared peer benchmark, and the last JSON object a command printed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RaftqError } from '../errors.js';

/** How a command ended. */
export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly elapsedMs: number;
}

/** Options of runCommand. */
export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** SIGKILL after this long (default 10 minutes). */
  readonly timeoutMs?: number;
  /** Prefix of the forwarded stderr lines; stderr is not forwarded when undefined. */
  readonly label?: string;
}

/** The live children of runCommand, killed by killAllCommands() (an interrupted comparison). */
const live = new Set<ReturnType<typeof spawn>>();

/** Runs `cmd args` to completion; never rejects (a spawn failure is code null, stderr the reason). */
export function runCommand(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<CommandResult> {
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn(cmd, [...args], { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let partial = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 600_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      if (stderr.length < 1_000_000) stderr += text;
      if (o.label === undefined) return;
      // Forward whole lines; a TTY progress line (\r-rewritten) becomes one line per update.
      const lines = (partial + text).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim() !== '') process.stderr.write(`  [${o.label}] ${l.replace(/\x1b\[K/g, '')}\n`);
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = ''): void => {
      clearTimeout(timer);
      live.delete(child);
      if (o.label !== undefined && partial.trim() !== '') process.stderr.write(`  [${o.label}] ${partial}\n`);
      done({ code, signal, stdout, stderr: stderr + extra, timedOut, elapsedMs: Date.now() - t0 });
    };
    child.once('error', (e) => finish(null, null, `spawn ${cmd}: ${e.message}`));
    child.once('close', (code, signal) => finish(code, signal));
  });
}

/** SIGKILLs every command still running (for an interrupted comparison). */
export function killAllCommands(): void {
  for (const c of live) c.kill('SIGKILL');
}

/** The last line of `stdout` that is a JSON object, parsed; undefined when there is none. */
export function lastJsonObject(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (!l.startsWith('{')) continue;
    try {
      const v: unknown = JSON.parse(l);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

/** Why a command failed, in one short line: the timeout, or its exit and the end of its stderr. */
export function failureOf(r: CommandResult): string {
  if (r.timedOut) return `timed out after ${Math.round(r.elapsedMs / 1000)} s`;
  const tail = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('['))
    .slice(-2)
    .join(' / ');
  return `${r.signal !== null ? `killed by ${r.signal}` : `exit ${r.code}`}${tail !== '' ? `: ${tail}` : ''}`;
}

/** The repository root: the nearest ancestor of this module holding package.json and tsconfig.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 32; depth++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new RaftqError('INTERNAL', `repository root not found above ${fileURLToPath(import.meta.url)}`);
}

/** The compiled `raftq` CLI. */
export function cliMain(): string {
  return join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
}

/** Files the shared peer benchmark must hold. */
const sharedFiles = ['peers-up.sh', 'rabbit-up.sh', 'stop.sh', 'peers.mjs', 'rabbit.mjs', 'consume.mjs', 'failover.mjs', 'node_modules'];

/**
 * The shared peer benchmark folder, ../shared/bench from the repository root; throws a
 * RaftqError naming what is missing (and how to skip the peers) when it is incomplete.
 */
export function sharedBenchDir(): string {
  const dir = resolve(repoRoot(), '..', 'shared', 'bench');
  const missing = sharedFiles.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new RaftqError(
      'UNAVAILABLE',
      `the shared peer benchmark is not at ${dir} (missing ${missing.join(', ')}); it must sit at ../shared/bench next to the repository` +
        ` (node_modules: cd ${dir} && npm install), or run with --skip-peers --skip-rabbit`,
    );
  }
  return dir;
}

/** This environment without RAFTQ_* settings, so a child uses only the flags it is given. */
export function hermeticEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RAFTQ_')) env[k] = v;
  return { ...env, ...extra };
}
