import { decodeConfChange, type ConfChange, type ConfState, type Entry, type HardState, type Message, type MessageType, type Role, type SnapshotMeta, type SoftState } from '../../../raft/index.js';
import type { Ready } from '../../../raft/index.js';
import type { Progress } from '../../../raft/tracker/progress.js';

/**
 * Describes raftq's core objects in the text format of etcd-io/raft's interaction tests
 * (raft.DescribeReady, DescribeMessage, DescribeEntry, Progress.String), so that the expected
 * output recorded by etcd can be compared line by line with what raftq does.
 */

const messageNames: Record<MessageType, string> = {
  app: 'MsgApp',
  appResp: 'MsgAppResp',
  heartbeat: 'MsgHeartbeat',
  heartbeatResp: 'MsgHeartbeatResp',
  vote: 'MsgVote',
  voteResp: 'MsgVoteResp',
  preVote: 'MsgPreVote',
  preVoteResp: 'MsgPreVoteResp',
  snap: 'MsgSnap',
  timeoutNow: 'MsgTimeoutNow',
  readIndex: 'MsgReadIndex',
  readIndexResp: 'MsgReadIndexResp',
  termProbe: 'MsgTermProbe',
  termProbeResp: 'MsgTermProbeResp',
};

/** The etcd name of a message type, e.g. MsgApp. */
export function messageName(t: MessageType): string {
  return messageNames[t];
}

/** The raftq message type of an etcd name, or undefined when raftq has no such message. */
export function messageTypeOf(name: string): MessageType | undefined {
  for (const [t, n] of Object.entries(messageNames)) if (n === name) return t as MessageType;
  return undefined;
}

const roleNames: Record<Role, string> = {
  follower: 'StateFollower',
  preCandidate: 'StatePreCandidate',
  candidate: 'StateCandidate',
  leader: 'StateLeader',
};

/** The etcd name of a role, e.g. StateLeader. */
export function roleName(r: Role): string {
  return roleNames[r];
}

/** etcd prints node ids as numbers and "no node" as 0. */
function id(s: string): string {
  return s === '' ? '0' : s;
}

/** Go's %q of a byte string, for the printable ASCII the scenarios use. */
function quote(data: Uint8Array): string {
  let s = '"';
  for (const b of data) {
    if (b === 0x22 || b === 0x5c) s += '\\' + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\x' + b.toString(16).padStart(2, '0');
  }
  return s + '"';
}

/** etcd's short form of a conf change: v2 (add voter), l2 (add learner), r2 (remove). */
export function describeConfChange(cc: ConfChange): string {
  const op = cc.type === 'addVoter' ? 'v' : cc.type === 'addLearner' ? 'l' : 'r';
  return op + cc.nodeId;
}

/** `term/index EntryType data`, as etcd's DescribeEntry. */
export function describeEntry(e: Entry): string {
  if (e.type === 'conf') return `${e.term}/${e.index} EntryConfChange ${describeConfChange(decodeConfChange(e.data))}`;
  return `${e.term}/${e.index} EntryNormal ${quote(e.data)}`;
}

/** One entry per line, each line ending in a newline. */
export function describeEntries(ents: readonly Entry[]): string {
  return ents.map((e) => describeEntry(e) + '\n').join('');
}

function ids(list: readonly string[]): string {
  return '[' + [...list].sort((a, b) => Number(a) - Number(b)).join(' ') + ']';
}

/** etcd's DescribeConfState (raftq has no joint configurations: the outgoing side is empty). */
export function describeConfState(cs: ConfState): string {
  return `Voters:${ids(cs.voters)} VotersOutgoing:[] Learners:${ids(cs.learners)} LearnersNext:[] AutoLeave:false`;
}

export function describeSnapshot(s: SnapshotMeta): string {
  return `Index:${s.index} Term:${s.term} ConfState:${describeConfState(s.confState)}`;
}

export function describeHardState(hs: HardState): string {
  return `Term:${hs.term}${hs.vote === '' ? '' : ` Vote:${hs.vote}`} Commit:${hs.commit}`;
}

export function describeSoftState(ss: SoftState): string {
  return `Lead:${id(ss.leader)} State:${roleName(ss.role)}`;
}

/** etcd's DescribeMessage: `from->to Type Term:t Log:logTerm/index [Rejected (Hint: h)] [Commit:c] [Entries:[...]]`. */
export function describeMessage(m: Message): string {
  let logTerm = 0;
  let index = 0;
  let reject = false;
  let hint = 0;
  let commit = 0;
  let entries: readonly Entry[] = [];
  let snapshot: SnapshotMeta | undefined;
  switch (m.type) {
    case 'app':
      logTerm = m.logTerm;
      index = m.index;
      commit = m.commit;
      entries = m.entries;
      break;
    case 'appResp':
      logTerm = m.logTerm;
      index = m.index;
      reject = m.reject;
      hint = m.rejectHint;
      break;
    case 'heartbeat':
      commit = m.commit;
      break;
    case 'vote':
    case 'preVote':
      logTerm = m.logTerm;
      index = m.index;
      break;
    case 'voteResp':
    case 'preVoteResp':
      reject = m.reject;
      break;
    case 'readIndexResp':
      index = m.index;
      reject = m.reject;
      break;
    case 'snap':
      snapshot = m.snapshot;
      break;
    case 'heartbeatResp':
    case 'timeoutNow':
    case 'readIndex':
    case 'termProbe':
    case 'termProbeResp':
      break;
  }
  let s = `${id(m.from)}->${id(m.to)} ${messageName(m.type)} Term:${m.term} Log:${logTerm}/${index}`;
  if (reject) s += ` Rejected (Hint: ${hint})`;
  if (commit !== 0) s += ` Commit:${commit}`;
  if (entries.length === 1) s += ` Entries:[${describeEntry(entries[0]!)}]`;
  else if (entries.length > 1) s += ' Entries:[' + entries.map((e) => '\n  ' + describeEntry(e)).join('') + '\n]';
  if (snapshot !== undefined) s += `\n  Snapshot: ${describeSnapshot(snapshot)}`;
  return s;
}

/** etcd's DescribeReady. */
export function describeReady(rd: Ready): string {
  let b = '';
  if (rd.softState !== undefined) b += describeSoftState(rd.softState) + '\n';
  if (rd.hardState !== undefined) b += `HardState ${describeHardState(rd.hardState)}\n`;
  if (rd.readStates.length > 0) b += `ReadStates [${rd.readStates.map((r) => `{${r.index} ${quote(r.context)}}`).join(' ')}]\n`;
  if (rd.entries.length > 0) b += 'Entries:\n' + describeEntries(rd.entries);
  if (rd.snapshot !== undefined) b += `Snapshot ${describeSnapshot(rd.snapshot)}\n`;
  if (rd.committedEntries.length > 0) b += 'CommittedEntries:\n' + describeEntries(rd.committedEntries);
  if (rd.messages.length > 0) b += 'Messages:\n' + rd.messages.map((m) => describeMessage(m) + '\n').join('');
  return b === '' ? '<empty Ready>' : `Ready MustSync=${rd.mustSync}:\n${b}`;
}

const progressStateNames = { probe: 'StateProbe', replicate: 'StateReplicate', snapshot: 'StateSnapshot' } as const;

/** etcd's Progress.String: `StateReplicate match=11 next=12 [learner] [paused] [pendingSnap=n] [inactive] [inflight=n[full]]`. */
export function describeProgress(pr: Progress): string {
  let s = `${progressStateNames[pr.state]} match=${pr.match} next=${pr.next}`;
  if (pr.isLearner) s += ' learner';
  if (pr.isPaused()) s += ' paused';
  if (pr.pendingSnapshot > 0) s += ` pendingSnap=${pr.pendingSnapshot}`;
  if (!pr.recentActive) s += ' inactive';
  const n = pr.inflights.count();
  if (n > 0) s += ` inflight=${n}${pr.inflights.full() ? '[full]' : ''}`;
  return s;
}
