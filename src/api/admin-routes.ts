/**
 * Operator endpoints of the HTTP API (README "Operations"):
 *
 * - `GET /v1/cluster/members`: the members (voters, learners) with their addresses and, from
 *   the leader, replication progress. A follower forwards to the leader (falls back to its own
 *   view when the leader is unreachable, marked `"local": true`).
 * - `POST /v1/cluster/members {action:'add'|'promote'|'remove', id, peer?, http?, client?}`:
 *   one single-server membership change, answered once the conf entry applied on the leader.
 *   A follower forwards it to the leader once (`raftq-forwarded`), so a stale view answers
 *   NOT_LEADER with the leader hint instead of looping.
 * - `GET /v1/backup`: a consistent snapshot of the applied state in the backup file format
 *   (server/backup.ts), read after a linearizable barrier so it holds every write
 *   acknowledged before the request arrived.
 *
 * These handlers own the response (the backup streams), so HttpApi hands them the raw request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RaftqError, isErrorCode } from '../errors.js';
import { encodeBackup, type BackupHeader } from '../server/backup.js';
import { toRaftqError } from '../server/error-map.js';
import { parseHostPort, type MemberAction } from '../server/membership.js';
import type { NodeRuntime } from '../server/node-runtime.js';
import type { PeerConfig } from '../server/peer-config.js';
import { membersView } from './cluster-view.js';
import { readJsonBody } from './http-body.js';
import { requestJson } from './node-http.js';
import { object } from './request-schemas.js';

/** What the admin routes need of the node. */
export type AdminNode = Pick<NodeRuntime<unknown, unknown>, 'config' | 'status' | 'leader' | 'changeMembership' | 'members' | 'linearizableRead' | 'storage'>;

/** An admin route: its metrics name and handler (which writes the whole response). */
export interface AdminRoute {
  readonly name: string;
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** The admin route for `method path`, or undefined when the path is not an admin path. */
export function adminRoute(node: AdminNode, bodyBytesMax: number, method: string, path: string, ca?: Buffer): AdminRoute | undefined {
  if (path === '/v1/cluster/members') {
    if (method === 'GET') return { name: 'members', serve: (req, res) => json(res, () => listMembers(node, req, ca)) };
    if (method === 'POST') return { name: 'changeMembers', serve: (req, res) => json(res, () => changeMembers(node, req, bodyBytesMax, ca)) };
    return { name: 'members', serve: (_req, res) => json(res, () => Promise.reject(new RaftqError('INVALID_ARGUMENT', `method ${method} is not allowed on ${path}`))) };
  }
  if (path === '/v1/backup') {
    if (method === 'GET') return { name: 'backup', serve: (_req, res) => backup(node, res) };
    return { name: 'backup', serve: (_req, res) => json(res, () => Promise.reject(new RaftqError('INVALID_ARGUMENT', `method ${method} is not allowed on ${path}`))) };
  }
  return undefined;
}

async function json(res: ServerResponse, fn: () => Promise<unknown>): Promise<void> {
  let body: unknown;
  try {
    body = await fn();
  } catch (e) {
    const err = toRaftqError(e);
    res.statusCode = err.status;
    const error: Record<string, unknown> = { code: err.code, message: err.message };
    if (err.leader !== undefined) error['leader'] = err.leader;
    body = { error };
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

async function listMembers(node: AdminNode, req: IncomingMessage, ca: Buffer | undefined): Promise<unknown> {
  const s = node.status();
  const leader = node.leader();
  if (s.role !== 'leader' && req.headers['raftq-forwarded'] === undefined && leader?.http !== undefined) {
    try {
      return await forward(node, leader, 'GET', '/v1/cluster/members', undefined, ca, req.headers.authorization);
    } catch {
      // Leader unreachable: answer with this node's view.
    }
  }
  const v = membersView(node);
  return { ...v, leader: v.leader ?? null, ...(v.role !== 'leader' ? { local: true } : {}) };
}

async function changeMembers(node: AdminNode, req: IncomingMessage, bodyBytesMax: number, ca: Buffer | undefined): Promise<unknown> {
  const o = object(await readJsonBody(req, bodyBytesMax), 'request', ['action', 'id', 'peer', 'http', 'client']);
  const action = o['action'];
  if (action !== 'add' && action !== 'promote' && action !== 'remove') throw new RaftqError('INVALID_ARGUMENT', 'action must be "add", "promote" or "remove"');
  const id = o['id'];
  if (typeof id !== 'string' || id === '') throw new RaftqError('INVALID_ARGUMENT', 'id (a node id) is required');
  let addr: PeerConfig | undefined;
  if (o['peer'] !== undefined) {
    if (action !== 'add') throw new RaftqError('INVALID_ARGUMENT', 'peer is only accepted with action "add"');
    const peer = parseHostPort(o['peer'], 'peer');
    const http = o['http'] === undefined ? undefined : parseHostPort(o['http'], 'http', peer.host);
    const client = o['client'] === undefined ? undefined : parseHostPort(o['client'], 'client', peer.host);
    if (http !== undefined && http.host !== peer.host) throw new RaftqError('INVALID_ARGUMENT', 'http must be on the peer address\'s host');
    if (client !== undefined && client.host !== peer.host) throw new RaftqError('INVALID_ARGUMENT', 'client must be on the peer address\'s host');
    addr = { host: peer.host, peerPort: peer.port, ...(client !== undefined ? { clientPort: client.port } : {}), ...(http !== undefined ? { httpPort: http.port } : {}) };
  } else if (o['http'] !== undefined || o['client'] !== undefined) {
    throw new RaftqError('INVALID_ARGUMENT', 'http and client need peer');
  }
  const s = node.status();
  const leader = node.leader();
  if (s.role !== 'leader' && req.headers['raftq-forwarded'] === undefined && leader?.http !== undefined) {
    return forward(node, leader, 'POST', '/v1/cluster/members', o, ca, req.headers.authorization);
  }
  const r = await node.changeMembership(action satisfies MemberAction, id, addr);
  return { action: r.action, id: r.id, index: r.index, confState: r.confState };
}

/**
 * Sends the request to the leader's HTTP address once (https verified against `ca` when the
 * cluster serves TLS), with the caller's Authorization header, which the leader checks again;
 * maps its error body back to a RaftqError.
 */
async function forward(node: AdminNode, leader: { id: string; http?: string; client?: string }, method: string, path: string, body: unknown, ca: Buffer | undefined, authorization: string | undefined): Promise<unknown> {
  let res: { status: number; body: unknown };
  try {
    res = await requestJson({
      address: leader.http ?? '',
      method,
      path,
      headers: { 'raftq-forwarded': node.config.nodeId, ...(authorization !== undefined ? { authorization } : {}) },
      body,
      ...(ca !== undefined ? { ca } : {}),
      signal: AbortSignal.timeout(node.config.requestTimeoutMs + 2000),
    });
  } catch (e) {
    throw new RaftqError('UNAVAILABLE', `could not forward to the leader ${leader.id} at ${leader.http}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, leader });
  }
  const out = res.body as { error?: { code?: unknown; message?: unknown; leader?: { id: string; http?: string; client?: string } } };
  if (res.status >= 200 && res.status < 300) return out;
  const code = isErrorCode(out.error?.code) ? out.error.code : 'INTERNAL';
  const message = typeof out.error?.message === 'string' ? out.error.message : `leader answered HTTP ${res.status}`;
  throw new RaftqError(code, message, out.error?.leader !== undefined ? { leader: out.error.leader } : {});
}

/**
 * Streams a backup. Errors before the first byte get a JSON error response; a failure while
 * streaming destroys the connection, so the client sees a truncated file (its trailer check
 * fails) instead of a short file that looks complete.
 */
async function backup(node: AdminNode, res: ServerResponse): Promise<void> {
  let reader: Awaited<ReturnType<AdminNode['storage']['openSnapshotReader']>>;
  try {
    await node.linearizableRead();
    reader = await node.storage.openSnapshotReader();
  } catch (e) {
    await json(res, () => Promise.reject(e));
    return;
  }
  const header: BackupHeader = {
    format: 1,
    clusterId: node.config.clusterId,
    nodeId: node.config.nodeId,
    index: reader.meta.index,
    term: reader.meta.term,
    confState: reader.meta.confState,
    createdAtMs: Date.now(),
  };
  res.setHeader('content-type', 'application/vnd.raftq.backup');
  res.setHeader('raftq-backup-index', String(header.index));
  try {
    await pipeline(Readable.from(encodeBackup(header, reader.chunks())), res);
  } catch {
    res.destroy();
  } finally {
    await reader.close();
  }
}
