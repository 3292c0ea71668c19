/**
 * The one error table (src/server/error-map.ts): every RaftError, StorageError and queue code
 * has exactly one row, maps to the catalogue code written out below, and toRaftqError uses
 * only the table (anything else is INTERNAL, with the original kept as cause).
 */
import { describe, expect, it } from 'vitest';
import { RaftError, raftErrorCodes, type RaftErrorCode } from '../raft/errors.js';
import { RaftqError, isErrorCode, type ErrorCode } from '../src/errors.js';
import { QueueError, queueErrorCodes, type QueueErrorCode } from '../src/queue/errors.js';
import { errorTable, toRaftqError } from '../src/server/error-map.js';
import { StorageError, StorageFullError, StorageIoError, storageErrorCodes, type StorageErrorCode } from '../src/storage/errors.js';
import { TestCluster } from './raft/harness.js';

/** The expected API code of each core code (when the error names a leader). */
const expectedRaft: Record<RaftErrorCode, ErrorCode> = {
  NOT_LEADER: 'NOT_LEADER',
  PROPOSAL_DROPPED: 'UNAVAILABLE',
  TRANSFER_IN_PROGRESS: 'UNAVAILABLE',
  CONF_CHANGE_PENDING: 'UNAVAILABLE',
  INVALID_CONF_CHANGE: 'INVALID_ARGUMENT',
  COMPACTED: 'INTERNAL',
  UNAVAILABLE: 'INTERNAL',
  SNAPSHOT_TEMPORARILY_UNAVAILABLE: 'INTERNAL',
};

/** The expected API code of each storage code. */
const expectedStorage: Record<StorageErrorCode, ErrorCode> = {
  DATA_DIR_LOCKED: 'INTERNAL',
  STORAGE_CORRUPT: 'INTERNAL',
  CLUSTER_MISMATCH: 'INTERNAL',
  STORAGE_FORMAT: 'INTERNAL',
  SNAPSHOT_MALFORMED: 'INTERNAL',
  STORAGE_FULL: 'INTERNAL',
  STORAGE_IO: 'INTERNAL',
  LOG_COMPACTED: 'INTERNAL',
};

/** The expected API code of each queue code: the state machine speaks catalogue codes. */
const expectedQueue: Record<QueueErrorCode, ErrorCode> = {
  QUEUE_NOT_FOUND: 'QUEUE_NOT_FOUND',
  QUEUE_EXISTS: 'QUEUE_EXISTS',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  TOO_LARGE: 'TOO_LARGE',
  STALE_RECEIPT: 'STALE_RECEIPT',
  NOT_FOUND: 'NOT_FOUND',
};

function mapped(e: unknown): RaftqError {
  const out = toRaftqError(e);
  expect(out).toBeInstanceOf(RaftqError);
  expect(out.cause, 'the original error is kept as cause').toBe(e);
  return out;
}

describe('the error table', () => {
  it('has exactly one row per code of each source, each to a catalogue code with a one-line reason', () => {
    expect(Object.keys(errorTable.raft).sort()).toEqual([...raftErrorCodes].sort());
    expect(Object.keys(errorTable.storage).sort()).toEqual([...storageErrorCodes].sort());
    expect(Object.keys(errorTable.queue).sort()).toEqual([...queueErrorCodes].sort());
    for (const section of [errorTable.raft, errorTable.storage, errorTable.queue]) {
      for (const [code, row] of Object.entries(section)) {
        expect(isErrorCode(row.code), `${code} maps to a catalogue code`).toBe(true);
        if (row.codeWithoutLeader !== undefined) expect(isErrorCode(row.codeWithoutLeader), code).toBe(true);
        expect(row.reason.length, `${code} has a reason`).toBeGreaterThan(10);
        expect(row.reason, `${code}: one line`).not.toContain('\n');
      }
    }
  });

  it('maps every RaftError code (NOT_LEADER naming no leader is NO_LEADER)', () => {
    for (const code of raftErrorCodes) {
      const withLeader = mapped(new RaftError(code, `core ${code}`, 'n2'));
      expect(withLeader.code, code).toBe(expectedRaft[code]);
      expect(withLeader.message).toBe(`core ${code}`);
      const leaderless = mapped(new RaftError(code, `core ${code}`));
      expect(leaderless.code, `${code} without a leader`).toBe(code === 'NOT_LEADER' ? 'NO_LEADER' : expectedRaft[code]);
    }
  });

  it('maps every StorageError code, whichever subclass carries it', () => {
    for (const code of storageErrorCodes) {
      const out = mapped(new StorageError(code, `storage ${code}`));
      expect(out.code, code).toBe(expectedStorage[code]);
      expect(out.message).toBe(`storage ${code}`);
    }
    expect(mapped(new StorageFullError('/data', new Error('ENOSPC'))).code).toBe(expectedStorage.STORAGE_FULL);
    expect(mapped(new StorageIoError('/data', 'fsync', new Error('EIO'))).code).toBe(expectedStorage.STORAGE_IO);
  });

  it('maps every queue code', () => {
    for (const code of queueErrorCodes) {
      const out = mapped(new QueueError(code, `queue ${code}`));
      expect(out.code, code).toBe(expectedQueue[code]);
      expect(out.message).toBe(`queue ${code}`);
    }
  });

  it('passes a RaftqError through and makes anything else INTERNAL, never dropping it', () => {
    const own = new RaftqError('TIMEOUT', 'late');
    expect(toRaftqError(own)).toBe(own);
    expect(mapped(new Error('boom'))).toMatchObject({ code: 'INTERNAL', message: 'boom' });
    expect(mapped('a string')).toMatchObject({ code: 'INTERNAL', message: 'a string' });
    // Only the table maps: an error that merely carries a catalogue-looking code is unknown.
    const lookalike = Object.assign(new Error('looks coded'), { code: 'QUEUE_NOT_FOUND' });
    expect(mapped(lookalike).code).toBe('INTERNAL');
  });

  it('CONF_CHANGE_PENDING raised by the Raft core maps to UNAVAILABLE (README "Operations": retry)', () => {
    const c = new TestCluster({ learners: 2 });
    c.campaign('n1');
    c.sim('n1').node.proposeConfChange({ type: 'addVoter', nodeId: 'n4' });
    let raised: unknown;
    try {
      c.sim('n1').node.proposeConfChange({ type: 'addVoter', nodeId: 'n5' });
    } catch (e) {
      raised = e;
    }
    expect(raised).toBeInstanceOf(RaftError);
    expect((raised as RaftError).code).toBe('CONF_CHANGE_PENDING');
    expect(mapped(raised).code).toBe('UNAVAILABLE');
  });
});
