import { RaftqError } from '../errors.js';
import type { MemberInfo } from '../server/membership.js';
import { callJson, nodeFlagHelp, nodeFlags, nodeOf, parseOps, sleep, type AdminNode } from './admin-http.js';
import { UsageError } from './cli-args.js';
import { table } from './queue-commands.js';

const usage = `usage: raftq member add ID HOST:PEERPORT[:CLIENTPORT:HTTPPORT] [--node HOST:HTTPPORT] [--tls-ca FILE] [--timeout MS]
       raftq member remove ID [--node HOST:HTTPPORT] [--tls-ca FILE]
       raftq member list [--node HOST:HTTPPORT] [--tls-ca FILE] [--json]

Single-server membership changes (README "Operations"):
  add      adds ID as a learner (it replicates but does not vote), waits until it has caught
           up with the leader, then promotes it to voter, printing progress. Start the new
           node first with \`raftq server --join --node-id ID --peers <current members and ID>\`.
           Safe to run again after an interruption: an existing learner is only promoted.
  remove   removes a voter or learner. Remove a failed node before adding its replacement.
  list     the members, their addresses and (from the leader) replication progress.

flags:
${nodeFlagHelp}
  --timeout MS           how long add waits for the learner to catch up (default 120000)
  --json                 list: print JSON`;

/** What GET /v1/cluster/members answers. */
interface MembersReply {
  readonly node: string;
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly confState: { voters: string[]; learners: string[] };
  readonly members: MemberInfo[];
  readonly local?: boolean;
}

/** `raftq member add|remove|list`. */
export async function memberCommand(argv: readonly string[]): Promise<number> {
  const args = parseOps(argv, usage, { ...nodeFlags, timeout: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 3 });
  if (args.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const [sub, ...rest] = args.positionals;
  const node = nodeOf(args.values);
  switch (sub) {
    case 'list':
      if (rest.length !== 0) throw new UsageError('member list takes no arguments', usage);
      return list(node, args.values['json'] === true);
    case 'remove': {
      if (rest.length !== 1) throw new UsageError('member remove takes one node id', usage);
      const id = rest[0]!;
      const r = await callJson<{ index: number; confState: { voters: string[]; learners: string[] } }>(node, 'POST', '/v1/cluster/members', { action: 'remove', id });
      out(`removed ${id} (entry ${r.index}); voters: ${r.confState.voters.join(', ')}; learners: ${r.confState.learners.join(', ') || 'none'}`);
      return 0;
    }
    case 'add': {
      if (rest.length !== 2) throw new UsageError('member add takes ID and HOST:PEERPORT[:CLIENTPORT:HTTPPORT]', usage);
      const timeoutText = args.values['timeout'];
      const timeoutMs = typeof timeoutText === 'string' ? Number(timeoutText) : 120_000;
      if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new UsageError('--timeout must be a number of milliseconds', usage);
      return add(node, rest[0]!, rest[1]!, timeoutMs);
    }
    default:
      throw new UsageError(sub === undefined ? 'missing subcommand: add, remove or list' : `unknown subcommand "${sub}"`, usage);
  }
}

function out(line: string): void {
  process.stdout.write(line + '\n');
}

async function list(node: AdminNode, json: boolean): Promise<number> {
  const m = await callJson<MembersReply>(node, 'GET', '/v1/cluster/members');
  if (json) {
    out(JSON.stringify(m));
    return 0;
  }
  out(
    table(
      ['NODE', 'ROLE', 'PEER', 'CLIENT', 'HTTP', 'MATCH', 'STATE'],
      m.members.map((x) => [x.id + (x.id === m.leader ? '*' : ''), x.role, x.peer ?? '-', x.client ?? '-', x.http ?? '-', x.match === undefined ? '-' : String(x.match), x.state ?? '-']),
    ),
  );
  out(`leader: ${m.leader ?? 'none'} (term ${m.term}), commit index ${m.commitIndex}${m.local === true ? ' (leader unreachable: this is ' + m.node + "'s view)" : ''}`);
  return 0;
}

/** Parses HOST:PEERPORT[:CLIENTPORT:HTTPPORT] into the request fields. */
function parseAddress(text: string): { peer: string; client?: string; http?: string } {
  const m = /^([^:]+):(\d+)(?::(\d+):(\d+))?$/.exec(text);
  if (m === null) throw new UsageError(`"${text}" is not HOST:PEERPORT[:CLIENTPORT:HTTPPORT]`, usage);
  const [, host, peer, client, http] = m;
  return { peer: `${host}:${peer}`, ...(client !== undefined ? { client: `${host}:${client}` } : {}), ...(http !== undefined ? { http: `${host}:${http}` } : {}) };
}

/** Retries `fn` while the cluster is electing or the change is not possible yet. */
async function retrying<T>(until: number, what: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      const retriable = e instanceof RaftqError && (e.code === 'NO_LEADER' || e.code === 'NOT_LEADER' || e.code === 'UNAVAILABLE');
      if (!retriable || Date.now() >= until) throw e;
      out(`  ${what}: ${e.code}: ${e.message}; retrying`);
      await sleep(500);
    }
  }
}

async function add(node: AdminNode, id: string, address: string, timeoutMs: number): Promise<number> {
  const addr = parseAddress(address);
  const until = Date.now() + timeoutMs;
  const before = await callJson<MembersReply>(node, 'GET', '/v1/cluster/members');
  const existing = before.members.find((x) => x.id === id);
  if (existing?.role === 'voter') throw new RaftqError('INVALID_ARGUMENT', `${id} is already a voter`);
  if (existing === undefined) {
    const r = await retrying(until, 'add', () => callJson<{ index: number }>(node, 'POST', '/v1/cluster/members', { action: 'add', id, ...addr }));
    out(`added ${id} as a learner (entry ${r.index}); waiting for it to catch up`);
  } else {
    out(`${id} is already a learner; waiting for it to catch up`);
  }
  let last = '';
  for (;;) {
    const m = await retrying(until, 'status', () => callJson<MembersReply>(node, 'GET', '/v1/cluster/members'));
    const me = m.members.find((x) => x.id === id);
    if (me === undefined) throw new RaftqError('INVALID_ARGUMENT', `${id} is no longer a member (removed meanwhile?)`);
    const match = me.match ?? 0;
    const line = `  ${id}: match ${match} of commit ${m.commitIndex} (${me.state ?? 'unknown'}${me.active === false ? ', not heard from' : ''})`;
    if (line !== last) {
      out(line);
      last = line;
    }
    if (m.local !== true && me.active === true && me.state === 'replicate' && m.commitIndex - match <= 100) break;
    if (Date.now() >= until) {
      throw new RaftqError('TIMEOUT', `${id} did not catch up within ${timeoutMs} ms; it stays a learner (is \`raftq server --join --node-id ${id}\` running and reachable at ${addr.peer}?). Run the command again to keep waiting, or \`raftq member remove ${id}\``);
    }
    await sleep(300);
  }
  const r = await retrying(until, 'promote', () => callJson<{ index: number; confState: { voters: string[] } }>(node, 'POST', '/v1/cluster/members', { action: 'promote', id }));
  out(`promoted ${id} to voter (entry ${r.index}); voters: ${r.confState.voters.join(', ')}`);
  return 0;
}
