import { parseArgs } from 'node:util';
import { RaftqError, isErrorCode } from '../errors.js';
import { UsageError } from './cli-args.js';

/** The HTTP address operator commands talk to by default (node 1 of the local cluster). */
export const defaultHttpNode = '127.0.0.1:8001';

/** Flags of the operator commands that talk HTTP to one node. */
export const nodeFlagHelp = `  --node HOST:HTTPPORT   HTTP address of any cluster node [RAFTQ_HTTP_NODE] (default ${defaultHttpNode})`;

/** Parses an operator command's argv with node:util parseArgs; usage errors name the usage. */
export function parseOps(
  argv: readonly string[],
  usage: string,
  options: Record<string, { type: 'string' | 'boolean' }>,
  positionals: { min: number; max: number },
): { values: Record<string, string | boolean | undefined>; positionals: string[]; help: boolean } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e), usage);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values['help'] === true) return { values, positionals: parsed.positionals, help: true };
  const n = parsed.positionals.length;
  if (n < positionals.min || n > positionals.max) throw new UsageError(`expected ${positionals.min === positionals.max ? positionals.min : `${positionals.min}-${positionals.max}`} argument(s), got ${n}`, usage);
  return { values, positionals: parsed.positionals, help: false };
}

/** The node to talk to: --node, RAFTQ_HTTP_NODE, or the default. */
export function nodeOf(values: Record<string, string | boolean | undefined>): string {
  const v = values['node'];
  if (typeof v === 'string' && v !== '') return v;
  return process.env['RAFTQ_HTTP_NODE'] ?? defaultHttpNode;
}

/**
 * One JSON call to `http://node/path`. Throws RaftqError from the error body (with the leader
 * hint), or UNAVAILABLE when the node cannot be reached.
 */
export async function callJson<T>(node: string, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`http://${node}${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: unknown } }).cause;
    const why = typeof cause?.code === 'string' ? cause.code : e instanceof Error ? e.message : String(e);
    throw new RaftqError('UNAVAILABLE', `cannot reach ${node}: ${why}`, { cause: e });
  }
  const out = (await res.json().catch(() => undefined)) as (T & { error?: { code?: unknown; message?: unknown; leader?: { id: string; http?: string; client?: string } } }) | undefined;
  if (res.ok && out !== undefined) return out;
  const err = out?.error;
  const code = isErrorCode(err?.code) ? err.code : 'INTERNAL';
  throw new RaftqError(code, typeof err?.message === 'string' ? err.message : `HTTP ${res.status} from ${node}`, err?.leader !== undefined ? { leader: err.leader } : {});
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
