/**
 * Validation of a membership change request (single-server changes; README "Operations"): the
 * conf change an `add`, `promote` or `remove` asks for, or the INVALID_ARGUMENT / UNAVAILABLE
 * error that says why it makes no sense now. Pure: Membership (membership-owner.ts) hands it
 * the core's newest configuration and the address book.
 */
import type { ConfChange, ConfState, NodeId } from '../../raft/types.js';
import { RaftqError } from '../errors.js';
import { encodeMemberContext, type MemberAction } from './membership.js';
import type { PeerConfig } from './peer-config.js';

/** A learner may be promoted once its log is within this many entries of the commit index. */
export const promoteLagMax = 1000;

/** The commit index and (leader only) each member's replication progress; RawNode.status() has them. */
export interface ReplicationStatus {
  readonly commit: number;
  readonly progress: ReadonlyMap<NodeId, { readonly match: number; readonly recentActive: boolean }>;
}

/** What a change is checked against. */
export interface MemberChangeContext {
  /** The configuration of the newest conf entry in the log. */
  readonly confState: ConfState;
  /** Every address the node knows, by node id. */
  readonly book: Readonly<Record<NodeId, PeerConfig>>;
  /** The members' addresses: a new member may not reuse one. */
  readonly peers: Readonly<Record<NodeId, PeerConfig>>;
  /** Read only for `promote`. */
  readonly status: () => ReplicationStatus;
}

/**
 * The conf change that `action` on `id` asks for: `add` makes a learner (`addr` required unless
 * the book knows it), `promote` makes a caught-up learner a voter, `remove` removes a voter or
 * learner. Throws INVALID_ARGUMENT for a change that makes no sense for `ctx.confState`,
 * UNAVAILABLE for a learner that has not caught up.
 */
export function memberConfChange(action: MemberAction, id: NodeId, addr: PeerConfig | undefined, ctx: MemberChangeContext): ConfChange {
  const cs = ctx.confState;
  const voter = cs.voters.includes(id);
  const learner = cs.learners.includes(id);
  switch (action) {
    case 'add': {
      if (voter) throw new RaftqError('INVALID_ARGUMENT', `${id} is already a voter`);
      if (learner) throw new RaftqError('INVALID_ARGUMENT', `${id} is already a learner; promote it once it has caught up`);
      const a = addr ?? ctx.book[id];
      if (a === undefined) throw new RaftqError('INVALID_ARGUMENT', `the peer address of ${id} is required (peer: "host:port")`);
      for (const [other, p] of Object.entries(ctx.peers)) {
        if (p.host === a.host && p.peerPort === a.peerPort) throw new RaftqError('INVALID_ARGUMENT', `peer address ${a.host}:${a.peerPort} is already used by ${other}`);
      }
      return { type: 'addLearner', nodeId: id, context: encodeMemberContext(a) };
    }
    case 'promote': {
      if (voter) throw new RaftqError('INVALID_ARGUMENT', `${id} is already a voter`);
      if (!learner) throw new RaftqError('INVALID_ARGUMENT', `${id} is not a learner; add it first`);
      const st = ctx.status();
      const pr = st.progress.get(id);
      const lag = st.commit - (pr?.match ?? 0);
      if (pr === undefined || !pr.recentActive || lag > promoteLagMax) {
        throw new RaftqError('UNAVAILABLE', `learner ${id} has not caught up (match ${pr?.match ?? 0}, commit ${st.commit}, ${pr?.recentActive === true ? 'active' : 'not heard from recently'}); retry once it has`);
      }
      const a = ctx.book[id];
      return a !== undefined ? { type: 'addVoter', nodeId: id, context: encodeMemberContext(a) } : { type: 'addVoter', nodeId: id };
    }
    case 'remove':
      if (!voter && !learner) throw new RaftqError('INVALID_ARGUMENT', `${id} is not a member (voters: ${cs.voters.join(', ')}; learners: ${cs.learners.join(', ') || 'none'})`);
      if (voter && cs.voters.length === 1) throw new RaftqError('INVALID_ARGUMENT', `cannot remove the last voter ${id}`);
      return { type: 'removeNode', nodeId: id };
  }
}
