/**
 * raftq's error codes as SQS errors: the one place an op-layer failure becomes what an SQS
 * client expects. Retryable cluster states (no leader, overload, timeout) become 5xx
 * ServiceUnavailable, which every AWS SDK retries.
 */
import type { ErrorCode } from '../../errors.js';
import { toRaftqError } from '../../server/error-map.js';
import { SqsError } from './sqs-errors.js';

const byCode: Record<ErrorCode, { code: string; status?: number }> = {
  QUEUE_NOT_FOUND: { code: 'QueueDoesNotExist' },
  QUEUE_EXISTS: { code: 'QueueNameExists' },
  INVALID_ARGUMENT: { code: 'InvalidParameterValue' },
  TOO_LARGE: { code: 'InvalidParameterValue' },
  STALE_RECEIPT: { code: 'ReceiptHandleIsInvalid' },
  NOT_FOUND: { code: 'InvalidAction' },
  UNAUTHENTICATED: { code: 'InvalidClientTokenId', status: 403 },
  FORBIDDEN: { code: 'AccessDenied', status: 403 },
  NOT_LEADER: { code: 'ServiceUnavailable', status: 503 },
  NO_LEADER: { code: 'ServiceUnavailable', status: 503 },
  UNAVAILABLE: { code: 'ServiceUnavailable', status: 503 },
  TIMEOUT: { code: 'ServiceUnavailable', status: 503 },
  INTERNAL: { code: 'InternalFailure', status: 500 },
};

/** The SQS error for any failure of an SQS action (an SqsError passes through). */
export function toSqsError(e: unknown): SqsError {
  if (e instanceof SqsError) return e;
  const err = toRaftqError(e);
  const m = byCode[err.code];
  const message = err.code === 'QUEUE_NOT_FOUND' ? 'The specified queue does not exist.' : err.message;
  return new SqsError(m.code, message, m.status);
}

/** The Failed entry of a batch result for entry `id`, which failed with `e`. */
export function failedEntry(id: string, e: unknown): Record<string, unknown> {
  const err = toSqsError(e);
  return { Id: id, SenderFault: err.fault === 'Sender', Code: err.code, Message: err.message };
}
