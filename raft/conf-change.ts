import { RaftError } from './errors.js';
import type { ConfChange, ConfState, NodeId } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a membership change as the data of a `conf` entry. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(cc.context === undefined ? { type: cc.type, nodeId: cc.nodeId } : { type: cc.type, nodeId: cc.nodeId, context: cc.context }));
}

/** Decodes the data of a `conf` entry. Throws RaftError INVALID_CONF_CHANGE on bad bytes. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(data));
  } catch {
    throw new RaftError('INVALID_CONF_CHANGE', 'conf change is not valid JSON');
  }
  if (typeof v !== 'object' || v === null) throw new RaftError('INVALID_CONF_CHANGE', 'conf change is not an object');
  const o = v as { type?: unknown; nodeId?: unknown; context?: unknown };
  if (typeof o.nodeId !== 'string' || o.nodeId === '') throw new RaftError('INVALID_CONF_CHANGE', 'conf change has no nodeId');
  if (o.type !== 'addVoter' && o.type !== 'addLearner' && o.type !== 'removeNode') {
    throw new RaftError('INVALID_CONF_CHANGE', `unknown conf change type ${String(o.type)}`);
  }
  if (o.context !== undefined && typeof o.context !== 'string') throw new RaftError('INVALID_CONF_CHANGE', 'conf change context is not a string');
  return o.context === undefined ? { type: o.type, nodeId: o.nodeId } : { type: o.type, nodeId: o.nodeId, context: o.context };
}

/**
 * Checks that `cc` is a valid single-server change of `cs`; throws INVALID_CONF_CHANGE.
 * Only one server is added or removed at a time, so any two majorities of consecutive
 * configurations overlap (Raft thesis §4.1).
 */
export function validateConfChange(cs: ConfState, cc: ConfChange): void {
  const isVoter = cs.voters.includes(cc.nodeId);
  const isLearner = cs.learners.includes(cc.nodeId);
  switch (cc.type) {
    case 'addVoter':
      if (isVoter) throw new RaftError('INVALID_CONF_CHANGE', `${cc.nodeId} is already a voter`);
      return;
    case 'addLearner':
      if (isLearner) throw new RaftError('INVALID_CONF_CHANGE', `${cc.nodeId} is already a learner`);
      if (isVoter) throw new RaftError('INVALID_CONF_CHANGE', `${cc.nodeId} is a voter; remove it before adding it as a learner`);
      return;
    case 'removeNode':
      if (!isVoter && !isLearner) throw new RaftError('INVALID_CONF_CHANGE', `${cc.nodeId} is not a member`);
      if (isVoter && cs.voters.length === 1) throw new RaftError('INVALID_CONF_CHANGE', `cannot remove the last voter ${cc.nodeId}`);
      return;
  }
}

/**
 * The configuration after `cc` (its `context` is ignored). Pure: the core and the application both use it, so the
 * membership the application persists is exactly the one the core runs with. A change that is
 * no longer valid (it raced another) leaves the configuration unchanged.
 */
export function applyConfChange(cs: ConfState, cc: ConfChange): ConfState {
  try {
    validateConfChange(cs, cc);
  } catch {
    return cs;
  }
  const without = (ids: readonly NodeId[]): NodeId[] => ids.filter((id) => id !== cc.nodeId);
  switch (cc.type) {
    case 'addVoter':
      return { voters: [...cs.voters, cc.nodeId].sort(), learners: without(cs.learners) };
    case 'addLearner':
      return { voters: [...cs.voters], learners: [...cs.learners, cc.nodeId].sort() };
    case 'removeNode':
      return { voters: without(cs.voters), learners: without(cs.learners) };
  }
}
