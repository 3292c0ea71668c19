/**
 * The one builder of the cluster view (`GET /v1/cluster`, binary ClusterStatus) and of the
 * members view (`GET /v1/cluster/members`). Each returns a typed view in which an unknown
 * leader is `undefined`; each protocol renders that its documented way: HTTP JSON as `null`,
 * the binary protocol (a proto3 string) as `''`.
 */
import type { ClusterNode, MemberInfo } from '../server/membership.js';
import type { NodeRuntime, NodeStatus } from '../server/node-runtime.js';

/** What the cluster view is built from. */
export type ClusterViewNode = Pick<NodeRuntime<unknown, unknown>, 'status' | 'clusterNodes'>;

/** What the members view is built from. */
export type MembersViewNode = Pick<NodeRuntime<unknown, unknown>, 'status' | 'members'>;

/** One configured node as the answering node sees it (membership.ts builds the list). */
export type ClusterNodeView = ClusterNode;

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

/** Builds the cluster view from the node's status and its members' addresses. */
export function clusterView(node: ClusterViewNode): ClusterView {
  const s = node.status();
  const nodes = node.clusterNodes(s);
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
export function membersView(node: MembersViewNode): MembersView {
  const s = node.status();
  const m = node.members();
  return { node: s.id, role: s.role, leader: m.leader === '' ? undefined : m.leader, term: s.term, commitIndex: m.commitIndex, confState: m.confState, members: m.members };
}
