/**
 * Converts Raft messages (raft/types.ts `Message`) to and from the RaftMessage of peer.proto.
 * Encoding trusts its input (it comes from the Raft core) and asserts; decoding distrusts its
 * input (it comes from the network) and throws FrameError with a stable code, never anything
 * else.
 */
import { assert } from '../../raft/assert.js';
import type { ConfState, Entry, EntryType, Message, SnapshotMeta } from '../../raft/types.js';
import { FrameError } from './errors.js';
import { EntryTypeWire, RaftMessageType, toObjectOptions } from './schema.js';
import {
  isWireObject,
  readArray,
  readBool,
  readBytes,
  readMessage,
  readNodeIds,
  readRequiredString,
  readU32,
  readU64,
  type WireObject,
} from './wire-read.js';

/** Encodes one Raft message as a standalone RaftMessage protobuf. */
export function encodeRaftMessage(msg: Message): Uint8Array {
  return RaftMessageType.encode(raftMessageToWire(msg)).finish();
}

/** Decodes one standalone RaftMessage protobuf; throws FrameError on any invalid input. */
export function decodeRaftMessage(bytes: Uint8Array): Message {
  let obj: WireObject;
  try {
    obj = RaftMessageType.toObject(RaftMessageType.decode(bytes), toObjectOptions);
  } catch (err) {
    throw new FrameError('MALFORMED_FRAME', 'RaftMessage is not valid protobuf', { cause: err });
  }
  return raftMessageFromWire(obj);
}

/** The protobufjs plain object for `msg`, for embedding in a RaftBatch or SnapshotChunk. */
export function raftMessageToWire(msg: Message): WireObject {
  assert(msg.from !== '' && msg.to !== '', () => `message ${msg.type} without from/to`);
  const envelope = { from: msg.from, to: msg.to, term: u64(msg.term) };
  switch (msg.type) {
    case 'app':
      return {
        ...envelope,
        app: {
          index: u64(msg.index),
          log_term: u64(msg.logTerm),
          entries: msg.entries.map(entryToWire),
          commit: u64(msg.commit),
        },
      };
    case 'appResp':
      return {
        ...envelope,
        app_resp: { index: u64(msg.index), reject: msg.reject, reject_hint: u64(msg.rejectHint), log_term: u64(msg.logTerm), recovering: msg.recovering === true },
      };
    case 'heartbeat':
      return { ...envelope, heartbeat: { commit: u64(msg.commit), context: msg.context } };
    case 'heartbeatResp':
      return { ...envelope, heartbeat_resp: { context: msg.context, recovering: msg.recovering === true } };
    case 'vote':
    case 'preVote': {
      const body = { index: u64(msg.index), log_term: u64(msg.logTerm), transfer: msg.transfer };
      return msg.type === 'vote' ? { ...envelope, vote: body } : { ...envelope, pre_vote: body };
    }
    case 'voteResp':
      return { ...envelope, vote_resp: { reject: msg.reject } };
    case 'preVoteResp':
      return { ...envelope, pre_vote_resp: { reject: msg.reject } };
    case 'snap':
      return { ...envelope, snap: { meta: snapshotMetaToWire(msg.snapshot) } };
    case 'timeoutNow':
      return { ...envelope, timeout_now: {} };
    case 'readIndex':
      return { ...envelope, read_index: { context: msg.context } };
    case 'readIndexResp':
      return { ...envelope, read_index_resp: { context: msg.context, index: u64(msg.index), reject: msg.reject } };
    case 'termProbe':
      return { ...envelope, term_probe: {} };
    case 'termProbeResp':
      return { ...envelope, term_probe_resp: {} };
  }
}

/** The Raft message for a decoded RaftMessage plain object; throws FrameError when invalid. */
export function raftMessageFromWire(obj: WireObject): Message {
  const from = readRequiredString(obj, 'from');
  const to = readRequiredString(obj, 'to');
  const term = readU64(obj, 'term');
  const env = { from, to, term };
  const body = obj['body'];
  if (typeof body !== 'string') throw new FrameError('UNKNOWN_MESSAGE_TYPE', 'RaftMessage has no known body');
  const b = readMessage(obj, body);
  switch (body) {
    case 'app':
      return {
        ...env,
        type: 'app',
        index: readU64(b, 'index'),
        logTerm: readU64(b, 'log_term'),
        entries: readArray(b, 'entries').map(entryFromWire),
        commit: readU64(b, 'commit'),
      };
    case 'app_resp':
      return {
        ...env,
        type: 'appResp',
        index: readU64(b, 'index'),
        reject: readBool(b, 'reject'),
        rejectHint: readU64(b, 'reject_hint'),
        logTerm: readU64(b, 'log_term'),
        ...recoveringOf(b),
      };
    case 'heartbeat':
      return { ...env, type: 'heartbeat', commit: readU64(b, 'commit'), context: readBytes(b, 'context') };
    case 'heartbeat_resp':
      return { ...env, type: 'heartbeatResp', context: readBytes(b, 'context'), ...recoveringOf(b) };
    case 'vote':
    case 'pre_vote':
      return {
        ...env,
        type: body === 'vote' ? 'vote' : 'preVote',
        index: readU64(b, 'index'),
        logTerm: readU64(b, 'log_term'),
        transfer: readBool(b, 'transfer'),
      };
    case 'vote_resp':
    case 'pre_vote_resp':
      return { ...env, type: body === 'vote_resp' ? 'voteResp' : 'preVoteResp', reject: readBool(b, 'reject') };
    case 'snap':
      return { ...env, type: 'snap', snapshot: snapshotMetaFromWire(readMessage(b, 'meta')) };
    case 'timeout_now':
      return { ...env, type: 'timeoutNow' };
    case 'read_index':
      return { ...env, type: 'readIndex', context: readBytes(b, 'context') };
    case 'read_index_resp':
      return {
        ...env,
        type: 'readIndexResp',
        context: readBytes(b, 'context'),
        index: readU64(b, 'index'),
        reject: readBool(b, 'reject'),
      };
    case 'term_probe':
      return { ...env, type: 'termProbe' };
    case 'term_probe_resp':
      return { ...env, type: 'termProbeResp' };
    default:
      throw new FrameError('UNKNOWN_MESSAGE_TYPE', `RaftMessage body ${body} is not known`);
  }
}

/** The optional recovering flag of a response body (set only when true, as the core sends it). */
function recoveringOf(b: WireObject): { recovering?: true } {
  return readBool(b, 'recovering') ? { recovering: true } : {};
}

/** A number for a uint64 field. Raft numbers are never negative or fractional: assert it. */
function u64(n: number): number {
  assert(Number.isSafeInteger(n) && n >= 0, () => `uint64 field holds ${n}`);
  return n;
}

function entryToWire(e: Entry): WireObject {
  return { term: u64(e.term), index: u64(e.index), type: EntryTypeWire[e.type], data: e.data };
}

function entryFromWire(v: unknown): Entry {
  if (!isWireObject(v)) throw new FrameError('INVALID_FIELD', 'entry is not a message');
  const term = readU64(v, 'term');
  const index = readU64(v, 'index');
  if (term < 1 || index < 1) throw new FrameError('INVALID_FIELD', `entry has term ${term} index ${index} (both must be >= 1)`);
  return { term, index, type: entryTypeFromWire(readU32(v, 'type')), data: readBytes(v, 'data') };
}

function entryTypeFromWire(n: number): EntryType {
  if (n === EntryTypeWire.normal) return 'normal';
  if (n === EntryTypeWire.conf) return 'conf';
  if (n === EntryTypeWire.unspecified) throw new FrameError('MISSING_FIELD', 'entry type is missing');
  throw new FrameError('INVALID_FIELD', `entry type ${n} is not known`);
}

function snapshotMetaToWire(m: SnapshotMeta): WireObject {
  return {
    index: u64(m.index),
    term: u64(m.term),
    conf_state: { voters: [...m.confState.voters], learners: [...m.confState.learners] },
  };
}

function snapshotMetaFromWire(obj: WireObject): SnapshotMeta {
  return { index: readU64(obj, 'index'), term: readU64(obj, 'term'), confState: confStateFromWire(readMessage(obj, 'conf_state')) };
}

function confStateFromWire(obj: WireObject): ConfState {
  const voters = readNodeIds(obj, 'voters');
  const learners = readNodeIds(obj, 'learners');
  const voterSet = new Set(voters);
  if (learners.some((l) => voterSet.has(l))) throw new FrameError('INVALID_FIELD', 'conf state voters and learners overlap');
  return { voters, learners };
}
