/**
 * `raftq user put|delete|list` and `raftq token create|revoke`: user and token management over
 * the HTTP admin routes (README "Authentication"); they need a token with `admin` on `cluster`
 * (--token / RAFTQ_TOKEN, e.g. the admin token of `raftq cluster --secure`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { callJson, nodeFlagHelp, nodeFlags, nodeOf } from './admin-http.js';
import { UsageError } from './cli-args.js';
import { table } from './queue-commands.js';

const userUsage = `usage: raftq user put NAME [--allow 'RESOURCE=ACTION,...']... [--node HOST:HTTPPORT] [--tls-ca FILE] [--token TOKEN]
       raftq user delete NAME [--node ...]
       raftq user list [--json] [--node ...]

  put      creates user NAME or replaces its permissions. Each --allow grants actions (send,
           receive, consume, admin) on a resource pattern: queue:GLOB, topic:GLOB, group:GLOB
           or cluster, * matching any run of characters. Example:
             raftq user put orders-app --allow 'queue:orders-*=send,receive'
  delete   deletes the user and every token of it.
  list     the users, their permissions and tokens (ids only: secrets are never shown again).

flags:
${nodeFlagHelp}
  --json                 list: print JSON`;

const tokenUsage = `usage: raftq token create USER [--expires-in-ms N] [--node HOST:HTTPPORT] [--tls-ca FILE] [--token TOKEN]
       raftq token revoke USER ID [--node ...]

  create   makes a token for USER and prints it: the only time it is shown (the cluster keeps
           only its sha256). Use it as --token / RAFTQ_TOKEN, Authorization: Bearer, or the
           client library's token option.
  revoke   revokes token ID of USER: it stops authenticating at once.

flags:
${nodeFlagHelp}
  --expires-in-ms N      create: the token expires N milliseconds from now (default: never)`;

function parse(argv: readonly string[], usage: string, extra: NonNullable<ParseArgsConfig['options']>): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const p = parseArgs({ args: [...argv], options: { ...nodeFlags, ...extra, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: p.values as Record<string, string | boolean | string[] | undefined>, positionals: p.positionals };
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e), usage);
  }
}

function nodeOfValues(values: Record<string, string | boolean | string[] | undefined>): ReturnType<typeof nodeOf> {
  const plain: Record<string, string | boolean | undefined> = {};
  for (const k of ['node', 'tls-ca', 'token']) {
    const v = values[k];
    if (typeof v === 'string') plain[k] = v;
  }
  return nodeOf(plain);
}

/** Parses `RESOURCE=ACTION,ACTION` (the server validates patterns and actions). */
export function parseAllow(text: string, usage: string): { resource: string; actions: string[] } {
  const eq = text.lastIndexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new UsageError(`--allow ${JSON.stringify(text)}: expected RESOURCE=ACTION,... (e.g. queue:orders-*=send,receive)`, usage);
  return { resource: text.slice(0, eq), actions: text.slice(eq + 1).split(',').map((a) => a.trim()).filter((a) => a !== '') };
}

interface UsersReply {
  users: Array<{ name: string; permissions: Array<{ resource: string; actions: string[] }>; tokens: Array<{ id: string; expiresAt: number; revoked: boolean }> }>;
}

/** `raftq user put|delete|list`. */
export async function userCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, userUsage, { allow: { type: 'string', multiple: true }, json: { type: 'boolean' } });
  if (values['help'] === true) {
    process.stdout.write(userUsage + '\n');
    return 0;
  }
  const [sub, ...rest] = positionals;
  const node = nodeOfValues(values);
  switch (sub) {
    case 'put': {
      if (rest.length !== 1) throw new UsageError('user put takes one user name', userUsage);
      const allow = values['allow'];
      const permissions = (Array.isArray(allow) ? allow : []).map((a) => parseAllow(a, userUsage));
      const r = await callJson<{ created: boolean }>(node, 'PUT', `/v1/users/${encodeURIComponent(rest[0]!)}`, { permissions });
      out(`${r.created ? 'created' : 'updated'} user ${rest[0]} (${permissions.length} permission${permissions.length === 1 ? '' : 's'})`);
      return 0;
    }
    case 'delete':
      if (rest.length !== 1) throw new UsageError('user delete takes one user name', userUsage);
      await callJson(node, 'DELETE', `/v1/users/${encodeURIComponent(rest[0]!)}`);
      out(`deleted user ${rest[0]}`);
      return 0;
    case 'list': {
      if (rest.length !== 0) throw new UsageError('user list takes no arguments', userUsage);
      const r = await callJson<UsersReply>(node, 'GET', '/v1/users');
      if (values['json'] === true) {
        out(JSON.stringify(r.users, null, 2));
        return 0;
      }
      out(
        table(
          ['USER', 'PERMISSIONS', 'TOKENS'],
          r.users.map((u) => [
            u.name,
            u.permissions.map((p) => `${p.resource}=${p.actions.join(',')}`).join(' ') || '-',
            u.tokens.map((t) => `${t.id}${t.revoked ? '(revoked)' : t.expiresAt !== 0 ? `(expires ${new Date(t.expiresAt).toISOString()})` : ''}`).join(' ') || '-',
          ]),
        ),
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown subcommand ${JSON.stringify(sub ?? '')}: put, delete or list`, userUsage);
  }
}

/** `raftq token create|revoke`. */
export async function tokenCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, tokenUsage, { 'expires-in-ms': { type: 'string' } });
  if (values['help'] === true) {
    process.stdout.write(tokenUsage + '\n');
    return 0;
  }
  const [sub, ...rest] = positionals;
  const node = nodeOfValues(values);
  switch (sub) {
    case 'create': {
      if (rest.length !== 1) throw new UsageError('token create takes one user name', tokenUsage);
      const e = values['expires-in-ms'];
      const expiresInMs = typeof e === 'string' ? Number(e) : undefined;
      if (expiresInMs !== undefined && (!Number.isSafeInteger(expiresInMs) || expiresInMs < 1)) throw new UsageError('--expires-in-ms must be a positive integer', tokenUsage);
      const r = await callJson<{ token: string; id: string; expiresAt: number }>(node, 'POST', `/v1/users/${encodeURIComponent(rest[0]!)}/tokens`, expiresInMs === undefined ? {} : { expiresInMs });
      process.stderr.write(`token ${r.id} for ${rest[0]}${r.expiresAt !== 0 ? `, expires ${new Date(r.expiresAt).toISOString()}` : ''}; shown once:\n`);
      out(r.token);
      return 0;
    }
    case 'revoke':
      if (rest.length !== 2) throw new UsageError('token revoke takes USER and ID', tokenUsage);
      await callJson(node, 'DELETE', `/v1/users/${encodeURIComponent(rest[0]!)}/tokens/${encodeURIComponent(rest[1]!)}`);
      out(`revoked token ${rest[1]} of ${rest[0]}`);
      return 0;
    default:
      throw new UsageError(`unknown subcommand ${JSON.stringify(sub ?? '')}: create or revoke`, tokenUsage);
  }
}

function out(line: string): void {
  process.stdout.write(line + '\n');
}
