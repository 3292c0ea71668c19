/**
 * What the bench scenarios learn about the cluster's nodes over HTTP: each node's own
 * `GET /v1/cluster` (role, leader, pid and RSS of the answering process), found from the
 * binary client's cluster() (member addresses).
 */
import { networkInterfaces } from 'node:os';
import type { Client } from '../client/client.js';
import { parseAddress } from '../client/connection.js';
import { RaftqError } from '../errors.js';
import { callJson } from './admin-http.js';
import { sleepMs } from './bench-stats.js';

/** One node's answer to GET /v1/cluster (the fields the benchmarks use). */
export interface NodeView {
  readonly id: string;
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
  /** The answering process. */
  readonly pid: number;
  readonly rssBytes: number;
  /** The HTTP address it was asked at. */
  readonly http: string;
}

interface ClusterJson {
  readonly id: string;
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
  readonly pid?: number;
  readonly rssBytes?: number;
}

/** The HTTP addresses of the cluster's members, from the binary client's cluster(). */
export async function httpAddresses(admin: Client): Promise<Array<{ id: string; http: string }>> {
  const st = await admin.cluster();
  const out: Array<{ id: string; http: string }> = [];
  for (const n of st.nodes) if (n.http !== undefined) out.push({ id: n.id, http: n.http });
  if (out.length === 0) throw new RaftqError('UNAVAILABLE', 'no cluster member has an HTTP address: the benchmark needs GET /v1/cluster');
  return out;
}

/** GET /v1/cluster of the node at `http`. */
export async function nodeView(http: string, timeoutMs = 2000): Promise<NodeView> {
  const j = await callJson<ClusterJson>(http, 'GET', '/v1/cluster', undefined, timeoutMs);
  return { id: j.id, role: j.role, leader: j.leader, term: j.term, pid: j.pid ?? 0, rssBytes: j.rssBytes ?? 0, http };
}

/** Each member's own view, or the error that reaching it gave. */
export async function nodeViews(addresses: ReadonlyArray<{ id: string; http: string }>, timeoutMs = 2000): Promise<Array<{ id: string; http: string; view?: NodeView; error?: string }>> {
  return Promise.all(
    addresses.map(async (a) => {
      try {
        return { ...a, view: await nodeView(a.http, timeoutMs) };
      } catch (e) {
        return { ...a, error: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
}

/**
 * The leader as it reports itself (role leader, and its id is the leader its own view names),
 * polled for up to `timeoutMs`; throws NO_LEADER when none appears.
 */
export async function findLeader(addresses: ReadonlyArray<{ id: string; http: string }>, timeoutMs = 10_000): Promise<NodeView> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const views = await nodeViews(addresses, 1000);
    const leaders = views.flatMap((v) => (v.view !== undefined && v.view.role === 'leader' && v.view.leader === v.view.id ? [v.view] : []));
    // Two self-declared leaders (an old one that has not heard of a newer term): the higher term wins.
    const leader = leaders.sort((a, b) => b.term - a.term)[0];
    if (leader !== undefined) return leader;
    if (Date.now() > deadline) throw new RaftqError('NO_LEADER', `no node reported itself leader within ${timeoutMs} ms (${attempt + 1} polls)`);
    await sleepMs(100);
  }
}

/**
 * Whether `address` (host:port) names this machine: a loopback name or address, or an address
 * of one of its interfaces. Signalling a node's pid only makes sense then.
 */
export function isLocalAddress(address: string): boolean {
  const host = parseAddress(address).host.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || host.startsWith('127.')) return true;
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.address === host) return true;
  return false;
}
