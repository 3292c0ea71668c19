import { RaftqError } from '../errors.js';
import type { NodeRuntime } from '../server/node-runtime.js';

/** What a leadership transfer needs of the node runtime. */
export type TransferNode = Pick<NodeRuntime<unknown, unknown>, 'config' | 'status' | 'leader' | 'transferLeadership'>;

/**
 * Hands leadership to node `to` and waits until this node sees `to` lead. Must run on the
 * leader: elsewhere it throws NOT_LEADER naming the leader (or NO_LEADER). Resolves with the new
 * leader's id; throws UNAVAILABLE when the transfer did not complete within `waitMs` (Raft
 * aborts a transfer that takes longer than an election timeout, for example when `to` is down).
 */
export async function transferLeadershipAndWait(node: TransferNode, to: string, waitMs = transferWaitMs(node)): Promise<string> {
  if (!Object.hasOwn(node.config.peers, to)) {
    throw new RaftqError('INVALID_ARGUMENT', `unknown node "${to}" (members: ${Object.keys(node.config.peers).join(', ')})`);
  }
  const before = node.status();
  if (before.leader === to) return to;
  if (before.role !== 'leader') {
    const leader = node.leader();
    if (leader === undefined) throw new RaftqError('NO_LEADER', 'no leader is known to transfer leadership from');
    throw new RaftqError('NOT_LEADER', `${before.id} is not the leader; ask ${leader.id}`, { leader });
  }
  node.transferLeadership(to);
  const until = Date.now() + waitMs;
  for (;;) {
    const s = node.status();
    if (s.leader === to && s.role !== 'leader') return to;
    if (Date.now() >= until) {
      throw new RaftqError('UNAVAILABLE', `leadership transfer to ${to} did not complete within ${waitMs} ms (leader now: ${s.leader || 'none'}); is ${to} up and caught up?`);
    }
    await new Promise((r) => setTimeout(r, node.config.tickMs));
  }
}

/**
 * Twice the longest election timeout plus a second: Raft gives a transfer one election timeout
 * (electionTicks, jittered up to twice that) before aborting it, and the new leader needs a
 * heartbeat to reach this node.
 */
function transferWaitMs(node: TransferNode): number {
  return node.config.electionTicks * node.config.tickMs * 2 + 1000;
}
