/**
 * Membership bookkeeping of the node runtime: where members listen (the address book), how a
 * new member's addresses travel inside its conf change (`ConfChange.context`), and how the
 * book is persisted in the applied state so restarts, snapshots and backups carry it. These are
 * the encodings and pure rules; the one holder of the book is Membership (membership-owner.ts).
 *
 * Rules (README "Operations" has the runbooks):
 * - Every conf change that adds a member carries that member's addresses as JSON in its
 *   context. Every node applying it learns the address, dials the new member and persists the
 *   address book under {@link membersKey} in the same applied-state batch as the change.
 * - The address book is restricted to the current members (voters and learners) each time it
 *   is written; a removed member's address is forgotten with it.
 * - At startup the book is: the persisted book, overridden by the --peers flags for the ids the
 *   flags name (an operator may move a node), restricted to the members of the applied
 *   configuration. A node that knows no membership yet (a joining node before its first
 *   snapshot) keeps every --peers entry so it accepts the leader's connection.
 */
import type { ConfState, NodeId } from '../../raft/types.js';
import { RaftqError } from '../errors.js';
import type { PeerAddress } from '../transport/index.js';
import type { PeerConfig } from './peer-config.js';

/**
 * Applied-state key of the address book. 0x6d ('m') is outside the queue state's 0x71 prefix,
 * so the queue state machine never sees it, and it travels with every snapshot.
 */
export const membersKey: Uint8Array = Uint8Array.of(0x6d, 0x01);

/** A membership change request, as the HTTP API and the CLI name it. */
export type MemberAction = 'add' | 'promote' | 'remove';

/** What a membership change returns once its entry applied on the leader. */
export interface MembershipResult {
  readonly action: MemberAction;
  readonly id: NodeId;
  /** Index of the conf entry. */
  readonly index: number;
  /** The configuration after the change. */
  readonly confState: ConfState;
}

/** One member, as `GET /v1/cluster/members` and `raftq member list` show it. */
export interface MemberInfo {
  readonly id: NodeId;
  readonly role: 'voter' | 'learner';
  readonly peer?: string;
  readonly http?: string;
  readonly client?: string;
  /** Leader's view: highest log index known replicated on the member. */
  readonly match?: number;
  /** Leader's view: probe, replicate or snapshot. */
  readonly state?: string;
  /** Leader's view: heard from within the last election timeout. */
  readonly active?: boolean;
}

/** The parts of the node's status that members() shows; NodeStatus has them. */
export interface MembersStatus {
  readonly id: NodeId;
  readonly role: string;
  readonly leader: NodeId;
  readonly commitIndex: number;
  readonly progress: Readonly<Record<NodeId, { readonly match: number; readonly state: string; readonly active: boolean }>>;
}

/** What `GET /v1/cluster/members` shows of this node's view. */
export interface MembersView {
  readonly leader: NodeId;
  readonly confState: ConfState;
  readonly commitIndex: number;
  readonly members: MemberInfo[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a member's addresses as a conf change context. */
export function encodeMemberContext(p: PeerConfig): string {
  return JSON.stringify(peerJson(p));
}

/** Decodes a conf change context; undefined when absent or not an address (logged by the caller). */
export function decodeMemberContext(context: string | undefined): PeerConfig | undefined {
  if (context === undefined || context === '') return undefined;
  try {
    return parsePeerJson(JSON.parse(context));
  } catch {
    return undefined;
  }
}

/** Encodes the address book for {@link membersKey}. */
export function encodeAddressBook(book: Readonly<Record<NodeId, PeerConfig>>): Uint8Array {
  const o: Record<string, unknown> = {};
  for (const id of Object.keys(book).sort()) o[id] = peerJson(book[id]!);
  return encoder.encode(JSON.stringify(o));
}

/** Decodes the stored address book; entries that do not parse are skipped. */
export function decodeAddressBook(bytes: Uint8Array | undefined): Record<NodeId, PeerConfig> {
  const out: Record<NodeId, PeerConfig> = {};
  if (bytes === undefined) return out;
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(bytes));
  } catch {
    return out;
  }
  if (typeof v !== 'object' || v === null) return out;
  for (const [id, p] of Object.entries(v)) {
    const parsed = parsePeerJson(p);
    if (parsed !== undefined) out[id] = parsed;
  }
  return out;
}

/** Whether `id` is a voter or a learner of `cs`. */
export function isMember(cs: ConfState, id: NodeId): boolean {
  return cs.voters.includes(id) || cs.learners.includes(id);
}

/** The address book restricted to the members of `cs` (self always kept). */
export function restrictToMembers(book: Readonly<Record<NodeId, PeerConfig>>, cs: ConfState, self: NodeId): Record<NodeId, PeerConfig> {
  const out: Record<NodeId, PeerConfig> = {};
  for (const [id, p] of Object.entries(book)) if (id === self || isMember(cs, id)) out[id] = p;
  return out;
}

/** The addresses the transport dials for `book`: every entry but `self`. */
export function transportPeers(book: Readonly<Record<NodeId, PeerConfig>>, self: NodeId): Record<NodeId, PeerAddress> {
  const peers: Record<NodeId, PeerAddress> = {};
  for (const [id, p] of Object.entries(book)) if (id !== self) peers[id] = { host: p.host, port: p.peerPort };
  return peers;
}

/** The members of `cs` with their addresses in `book` and, when `st` is a leader's, replication progress (match, state, active). */
export function membersView(cs: ConfState, book: Readonly<Record<NodeId, PeerConfig>>, st: MembersStatus): MembersView {
  const members = [...cs.voters, ...cs.learners].map((id): MemberInfo => {
    const p = book[id];
    const pr = st.progress[id];
    return {
      id,
      role: cs.voters.includes(id) ? 'voter' : 'learner',
      ...(p !== undefined ? { peer: `${p.host}:${p.peerPort}` } : {}),
      ...(p?.httpPort !== undefined ? { http: `${p.host}:${p.httpPort}` } : {}),
      ...(p?.clientPort !== undefined ? { client: `${p.host}:${p.clientPort}` } : {}),
      ...(st.role === 'leader' && pr !== undefined ? { match: pr.match, state: pr.state, active: id === st.id || pr.active } : {}),
    };
  });
  return { leader: st.leader, confState: cs, commitIndex: st.commitIndex, members };
}

/** One node of the cluster, as `GET /v1/cluster` and the binary API's cluster status show it. */
export interface ClusterNode {
  readonly id: NodeId;
  readonly voter: boolean;
  readonly peer: string;
  readonly http?: string;
  readonly client?: string;
  /** Leader's view: highest log index known replicated on the node. */
  readonly match?: number;
  /** Leader's view: probe, replicate or snapshot. */
  readonly state?: string;
  /** Whether this node's transport is connected to it (absent for the node itself). */
  readonly connected?: boolean;
}

/** The parts of the node's status that clusterNodes() shows; NodeStatus has them. */
export interface ClusterStatus {
  readonly id: NodeId;
  readonly confState: ConfState;
  readonly progress: Readonly<Record<NodeId, { readonly match: number; readonly state: string }>>;
  readonly peersConnected: Readonly<Record<NodeId, boolean>>;
}

/** Every node of `peers` (the members' addresses, self included) with what `st` knows of it. */
export function clusterNodes(peers: Readonly<Record<NodeId, PeerConfig>>, st: ClusterStatus): ClusterNode[] {
  return Object.entries(peers).map(([id, p]) => {
    const pr = st.progress[id];
    return {
      id,
      voter: st.confState.voters.includes(id),
      peer: `${p.host}:${p.peerPort}`,
      ...(p.httpPort !== undefined ? { http: `${p.host}:${p.httpPort}` } : {}),
      ...(p.clientPort !== undefined ? { client: `${p.host}:${p.clientPort}` } : {}),
      ...(pr !== undefined ? { match: pr.match, state: pr.state } : {}),
      ...(id !== st.id ? { connected: st.peersConnected[id] ?? false } : {}),
    };
  });
}

/**
 * The address book at startup: the persisted one (`stored`), overridden by the --peers flags
 * (`flags`) for the ids they name, restricted to the members of `cs`, the stored configuration;
 * a node with no membership yet (joining) keeps every --peers entry.
 */
export function startupAddressBook(flags: Readonly<Record<NodeId, PeerConfig>>, cs: ConfState, stored: Readonly<Record<NodeId, PeerConfig>>, self: NodeId): Record<NodeId, PeerConfig> {
  const all = { ...stored, ...flags };
  if (cs.voters.length === 0) return all;
  return restrictToMembers(all, cs, self);
}

/**
 * Parses `host:port` (or a bare port, taking `defaultHost`) of a request. Throws
 * INVALID_ARGUMENT naming `what`.
 */
export function parseHostPort(v: unknown, what: string, defaultHost?: string): { host: string; port: number } {
  const bad = (): RaftqError => new RaftqError('INVALID_ARGUMENT', `${what} must be HOST:PORT${defaultHost !== undefined ? ' or a port' : ''}, got ${JSON.stringify(v)}`);
  let host: string | undefined;
  let portText: string;
  if (typeof v === 'number') portText = String(v);
  else if (typeof v === 'string') {
    const i = v.lastIndexOf(':');
    if (i < 0) portText = v;
    else {
      host = v.slice(0, i);
      portText = v.slice(i + 1);
      if (host === '') throw bad();
    }
  } else throw bad();
  host ??= defaultHost;
  if (host === undefined || !/^\d{1,5}$/.test(portText)) throw bad();
  const port = Number(portText);
  if (port < 1 || port > 65535) throw bad();
  return { host, port };
}

function peerJson(p: PeerConfig): Record<string, unknown> {
  return { host: p.host, peerPort: p.peerPort, ...(p.clientPort !== undefined ? { clientPort: p.clientPort } : {}), ...(p.httpPort !== undefined ? { httpPort: p.httpPort } : {}) };
}

function parsePeerJson(v: unknown): PeerConfig | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const port = (x: unknown): number | undefined => (typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 65535 ? x : undefined);
  const host = o['host'];
  const peerPort = port(o['peerPort']);
  if (typeof host !== 'string' || host === '' || peerPort === undefined) return undefined;
  const clientPort = port(o['clientPort']);
  const httpPort = port(o['httpPort']);
  return { host, peerPort, ...(clientPort !== undefined ? { clientPort } : {}), ...(httpPort !== undefined ? { httpPort } : {}) };
}
