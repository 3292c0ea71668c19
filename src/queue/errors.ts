/**
 * Stable error codes of the queue service, exactly as DESIGN.md lists them. The queue state
 * machine itself only produces QUEUE_NOT_FOUND, QUEUE_EXISTS, INVALID_ARGUMENT, TOO_LARGE and
 * STALE_RECEIPT; the others belong to the node runtime and API and are listed so that one type
 * covers every code a client can see. A later issue merges this into a global src/errors.ts.
 */
export type QueueErrorCode =
  | 'NOT_LEADER'
  | 'NO_LEADER'
  | 'QUEUE_NOT_FOUND'
  | 'QUEUE_EXISTS'
  | 'INVALID_ARGUMENT'
  | 'TOO_LARGE'
  | 'STALE_RECEIPT'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'INTERNAL';

/** Every code in QueueErrorCode, for exhaustive tests and catalogues. */
export const queueErrorCodes: readonly QueueErrorCode[] = [
  'NOT_LEADER',
  'NO_LEADER',
  'QUEUE_NOT_FOUND',
  'QUEUE_EXISTS',
  'INVALID_ARGUMENT',
  'TOO_LARGE',
  'STALE_RECEIPT',
  'UNAVAILABLE',
  'TIMEOUT',
  'INTERNAL',
];

/** An operating error of the queue service (bad input or state), carrying a stable `code`. */
export class QueueError extends Error {
  override readonly name = 'QueueError';
  constructor(
    readonly code: QueueErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Shorthand for an INVALID_ARGUMENT error. */
export function invalidArgument(message: string): QueueError {
  return new QueueError('INVALID_ARGUMENT', message);
}
