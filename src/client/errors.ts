import { RaftqError, isErrorCode, type ErrorCode } from '../errors.js';
import type { WireError, WireNodeRef } from '../proto/client-wire.js';

/**
 * Error codes after which the client retries an operation (with backoff, on another node when
 * the connection is gone): the cluster is electing, overloaded, or the request's outcome is
 * unknown. Every operation of the client is safe to retry — enqueues carry the producer key
 * that the state machine deduplicates; acks, nacks and queue creation are idempotent.
 */
const retryableCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['NOT_LEADER', 'NO_LEADER', 'UNAVAILABLE', 'TIMEOUT']);

/** Whether the client retries after `err`. */
export function isRetryable(err: RaftqError): boolean {
  return retryableCodes.has(err.code);
}

/** The leader a NodeRef names, or undefined for an empty one. */
export function leaderFromWire(ref: WireNodeRef | null | undefined): { id: string; client?: string; http?: string } | undefined {
  if (ref === null || ref === undefined || ref.id === '') return undefined;
  return { id: ref.id, ...(ref.client !== '' ? { client: ref.client } : {}), ...(ref.http !== '' ? { http: ref.http } : {}) };
}

/** A RaftqError from an error response. */
export function errorFromWire(e: WireError): RaftqError {
  const code: ErrorCode = isErrorCode(e.code) ? e.code : 'INTERNAL';
  const message = isErrorCode(e.code) ? e.message : `unknown error code ${JSON.stringify(e.code)} from the server: ${e.message}`;
  const leader = leaderFromWire(e.leader);
  return new RaftqError(code, message, leader !== undefined ? { leader } : {});
}

/** Any thrown value as a RaftqError (programmer errors such as TypeError pass through). */
export function asRaftqError(e: unknown): RaftqError {
  if (e instanceof RaftqError) return e;
  if (e instanceof TypeError || e instanceof RangeError) throw e;
  return new RaftqError('INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
}
