/**
 * The one builder of the cluster view (`GET /v1/cluster`, binary ClusterStatus) and of the
 * members view (`GET /v1/cluster/members`). Each returns a typed view in which an unknown
 * leader is `undefined`; each protocol renders that its documented way: HTTP JSON as `null`,
 * the binary protocol (a proto3 string) as `''`.
 */
import type { MemberInfo } from '../server/membership.js';
import type { NodeRuntime, NodeStatus } from '../server/node-runtime.js';

/** What the views are built from. */
export type ViewNode = Pick<NodeRuntime<unknown, unknown>, 'status' | 'config' | 'members'>;

/** One configured node as the answering node sees it. */
export interface ClusterNodeView {
  readonly id: string;
  readonly voter: boolean;
  /** Peer address, host:port. */
  readonly peer: string;
  /** HTTP address, when configured. */
  readonly http?: string;
  /** Binary client address, when configured. */
  readonly client?: string;
  /** Leader only: replication progress of this node. */
  readonly match?: number;
  readonly state?: string;
  /** Whether the answering node's connection to this node is up (absent for itself). */
  readonly connected?: boolean;
}

/** The answering node's view of the cluster. */
export interface ClusterView {
  readonly id: string;
  readonly role: string;
  /** The leader this node knows; undefined when none is known. */
  readonly leader: string | undefined;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly nodes: readonly ClusterNodeView[];
}

/** The membership as the answering node sees it. */
export interface MembersView {
  readonly node: string;
  readonly role: string;
  /** The leader this node knows; undefined when none is known. */
  readonly leader: string | undefined;
  readonly term: number;
  readonly commitIndex: number;
  readonly confState: NodeStatus['confState'];
  readonly members: readonly MemberInfo[];
}

/** Builds the cluster view from the node's status and configured peers. */
export function clusterView(node: ViewNode): ClusterView {
  const s = node.status();
  const nodes = Object.entries(node.config.peers).map(([id, p]): ClusterNodeView => {
    const pr = s.progress[id];
    return {
      id,
      voter: s.confState.voters.includes(id),
      peer: `${p.host}:${p.peerPort}`,
      ...(p.httpPort !== undefined ? { http: `${p.host}:${p.httpPort}` } : {}),
      ...(p.clientPort !== undefined ? { client: `${p.host}:${p.clientPort}` } : {}),
      ...(pr !== undefined ? { match: pr.match, state: pr.state } : {}),
      ...(id !== s.id ? { connected: s.peersConnected[id] ?? false } : {}),
    };
  });
  return {
    id: s.id,
    role: s.role,
    leader: s.leader === '' ? undefined : s.leader,
    term: s.term,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    lastIndex: s.lastIndex,
    snapshotIndex: s.snapshotIndex,
    nodes,
  };
}

/** Builds the members view from the node's membership (with progress on the leader). */
export function membersView(node: ViewNode): MembersView {
  const s = node.status();
  const m = node.members();
  return { node: s.id, role: s.role, leader: m.leader === '' ? undefined : m.leader, term: s.term, commitIndex: m.commitIndex, confState: m.confState, members: m.members };
}
