import { parseArgs } from 'node:util';
import { RaftqError } from '../errors.js';

/** Bad command-line usage: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'INVALID_ARGUMENT';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** One flag of a command. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
}

/** A command's command line: its flags, how many positionals, and its help text. */
export interface CommandSpec {
  readonly usage: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  readonly positionals: { readonly min: number; readonly max: number };
}

/** Flags every client command takes. */
export const globalFlags: Readonly<Record<string, FlagSpec>> = {
  nodes: { type: 'string' },
  timeout: { type: 'string' },
  'tls-ca': { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** Help lines for the global flags. */
export const globalFlagsHelp = `global flags:
  --nodes HOST:PORT,...   binary client addresses of the cluster [RAFTQ_NODES]
                          (default 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003)
  --timeout MS            how long to keep retrying an unreachable or leaderless cluster (default 5000)
  --tls-ca FILE           connect with TLS, verifying the nodes against this CA [RAFTQ_TLS_CA]
                          (a secure local cluster's is data/tls/ca.pem)
  --token TOKEN           authenticate with this token (nodes run with --auth required) [RAFTQ_TOKEN]
                          (a secure local cluster's admin token is in data/admin.token)
  -h, --help              this help`;

/** Parsed command line. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
  /** --help was given: print the usage and exit 0. */
  readonly help: boolean;
}

/** Parses `argv` against `spec` (plus the global flags); throws UsageError. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  let parsed: { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: { ...globalFlags, ...spec.flags }, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/s, '') : String(e), spec.usage);
  }
  const help = parsed.values['help'] === true;
  if (!help) {
    const n = parsed.positionals.length;
    if (n < spec.positionals.min) throw new UsageError(`missing argument${spec.positionals.min - n > 1 ? 's' : ''}`, spec.usage);
    if (n > spec.positionals.max) throw new UsageError(`unexpected argument "${parsed.positionals[spec.positionals.max]}"`, spec.usage);
  }
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals, help };
}

/** The string value of flag `name`, if given. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** The integer value of flag `name` within [min, max], or `fallback`; throws UsageError. */
export function intFlag(args: ParsedArgs, spec: CommandSpec, name: string, fallback: number, min: number, max: number): number {
  const v = stringFlag(args, name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} must be an integer, got "${v}"`, spec.usage);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be within ${min}..${max}, got ${n}`, spec.usage);
  return n;
}

/** An optional integer flag (undefined when not given). */
export function optionalIntFlag(args: ParsedArgs, spec: CommandSpec, name: string, min: number, max: number): number | undefined {
  return stringFlag(args, name) === undefined ? undefined : intFlag(args, spec, name, 0, min, max);
}

/** The cluster's client addresses: --nodes, else RAFTQ_NODES, else the local cluster. */
export function nodesOf(args: ParsedArgs, spec: CommandSpec, env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = stringFlag(args, 'nodes') ?? env['RAFTQ_NODES'] ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003';
  const nodes = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (nodes.length === 0) throw new UsageError('--nodes needs at least one host:port', spec.usage);
  for (const n of nodes) {
    if (!/^(?:\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(n) || Number(n.slice(n.lastIndexOf(':') + 1)) > 65535 || Number(n.slice(n.lastIndexOf(':') + 1)) < 1) {
      throw new UsageError(`--nodes: "${n}" is not host:port`, spec.usage);
    }
  }
  return nodes;
}

/** The token of --token, else RAFTQ_TOKEN, if any. */
export function tokenOf(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = stringFlag(args, 'token') ?? env['RAFTQ_TOKEN'];
  return v === undefined || v === '' ? undefined : v;
}

/** The CA file of --tls-ca, else RAFTQ_TLS_CA, if any: the cluster serves TLS. */
export function tlsCaOf(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = stringFlag(args, 'tls-ca') ?? env['RAFTQ_TLS_CA'];
  return v === undefined || v === '' ? undefined : v;
}

/** A queue name argument: non-empty (the server checks the rest). */
export function queueArg(args: ParsedArgs, spec: CommandSpec, index = 0): string {
  const q = args.positionals[index];
  if (q === undefined || q === '') throw new UsageError('missing QUEUE', spec.usage);
  return q;
}

/** Whether `e` is bad usage (exit code 2). */
export function isUsageError(e: unknown): boolean {
  return e instanceof UsageError || (e instanceof RaftqError && e.code === 'INVALID_ARGUMENT');
}
