import type { ErrorCode } from '../errors.js';

/**
 * The codes the queue state machine produces, as a QueueError (validation) or an ErrorResult
 * (apply time). They are codes of the one catalogue, src/errors.ts, which this module imports
 * (a downward import: src/errors.ts is a leaf shared by every layer); the node runtime maps
 * them to the codes a client sees through its error table (src/server/error-map.ts).
 */
export const queueErrorCodes = ['QUEUE_NOT_FOUND', 'QUEUE_EXISTS', 'INVALID_ARGUMENT', 'TOO_LARGE', 'STALE_RECEIPT', 'NOT_FOUND'] as const satisfies readonly ErrorCode[];

/** A code the queue state machine produces (one of queueErrorCodes). */
export type QueueErrorCode = (typeof queueErrorCodes)[number];

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
