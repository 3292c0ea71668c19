import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseArgs } from 'node:util';
import { RaftqError, isErrorCode } from '../errors.js';
import { UsageError } from './cli-args.js';

/** The HTTP address operator commands talk to by default (node 1 of the local cluster). */
export const defaultHttpNode = '127.0.0.1:8001';

/** Flags of the operator commands that talk HTTP to one node. */
export const nodeFlagHelp = `  --node HOST:HTTPPORT   HTTP address of any cluster node [RAFTQ_HTTP_NODE] (default ${defaultHttpNode})
  --tls-ca FILE          the node serves HTTPS: verify it against this CA [RAFTQ_TLS_CA]
  --token TOKEN          Authorization: Bearer TOKEN (nodes with --auth required) [RAFTQ_TOKEN]`;

/** Flags of the operator commands that talk HTTP to one node, for parseOps. */
export const nodeFlags = { node: { type: 'string' }, 'tls-ca': { type: 'string' }, token: { type: 'string' } } as const;

/** The node an operator command talks to: its HTTP address, and the CA when it serves HTTPS. */
export interface AdminNode {
  /** "host:port". */
  readonly address: string;
  /** PEM CA: present means https. */
  readonly ca?: Buffer;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
}

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

/**
 * The node to talk to: --node, RAFTQ_HTTP_NODE, or the default; over https with --tls-ca /
 * RAFTQ_TLS_CA; with the token of --token / RAFTQ_TOKEN.
 */
export function nodeOf(values: Record<string, string | boolean | undefined>): AdminNode {
  const v = values['node'];
  const address = typeof v === 'string' && v !== '' ? v : (process.env['RAFTQ_HTTP_NODE'] ?? defaultHttpNode);
  const flag = values['tls-ca'];
  const caFile = typeof flag === 'string' && flag !== '' ? flag : process.env['RAFTQ_TLS_CA'];
  const t = values['token'];
  const tokenText = typeof t === 'string' && t !== '' ? t : process.env['RAFTQ_TOKEN'];
  const token = tokenText === undefined || tokenText === '' ? {} : { token: tokenText };
  if (caFile === undefined || caFile === '') return { address, ...token };
  try {
    return { address, ca: readFileSync(caFile), ...token };
  } catch (e) {
    throw new RaftqError('INVALID_ARGUMENT', `--tls-ca ${caFile}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * Sends one request to `node` and resolves with the response stream (any status); rejects
 * with UNAVAILABLE when the node cannot be reached (or its certificate is not trusted).
 */
export function requestNode(node: AdminNode, method: string, path: string, body: Buffer | undefined, timeoutMs: number): Promise<IncomingMessage> {
  const url = new URL(`${node.ca !== undefined ? 'https' : 'http'}://${node.address}${path}`);
  const headers: Record<string, string> = body !== undefined ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {};
  if (node.token !== undefined) headers['authorization'] = `Bearer ${node.token}`;
  const options = { method, headers, signal: AbortSignal.timeout(timeoutMs) };
  return new Promise((resolve, reject) => {
    const req = node.ca !== undefined ? httpsRequest(url, { ...options, ca: node.ca }, resolve) : httpRequest(url, options, resolve);
    req.on('error', (e: NodeJS.ErrnoException) => reject(new RaftqError('UNAVAILABLE', `cannot reach ${node.address}: ${e.code ?? e.message}${e.code !== undefined && e.message !== '' ? ` (${e.message})` : ''}`, { cause: e })));
    req.end(body);
  });
}

/** Reads a whole response body as text. */
export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One JSON call to `http://node/path`. Throws RaftqError from the error body (with the leader
 * hint), or UNAVAILABLE when the node cannot be reached.
 */
export async function callJson<T>(target: AdminNode | string, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<T> {
  const node = typeof target === 'string' ? { address: target } : target;
  const res = await requestNode(node, method, path, body !== undefined ? Buffer.from(JSON.stringify(body)) : undefined, timeoutMs);
  let out: (T & { error?: { code?: unknown; message?: unknown; leader?: { id: string; http?: string; client?: string } } }) | undefined;
  try {
    out = JSON.parse(await readText(res)) as typeof out;
  } catch {
    out = undefined;
  }
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300 && out !== undefined) return out;
  const err = out?.error;
  const code = isErrorCode(err?.code) ? err.code : 'INTERNAL';
  throw new RaftqError(code, typeof err?.message === 'string' ? err.message : `HTTP ${status} from ${node.address}`, err?.leader !== undefined ? { leader: err.leader } : {});
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
