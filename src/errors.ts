/**
 * The one catalogue of error codes a raftq client can see, with their HTTP statuses. Every
 * code is documented in README.md ("Error codes"); test/errors.test.ts keeps the two in sync.
 */
export const errorCatalogue = {
  NOT_LEADER: { status: 421, description: 'This node is not the leader; the error names the leader to retry at.' },
  NO_LEADER: { status: 503, description: 'The cluster has no leader right now (election in progress or no quorum); retry with backoff.' },
  QUEUE_NOT_FOUND: { status: 404, description: 'The queue does not exist.' },
  QUEUE_EXISTS: { status: 409, description: 'A queue with this name exists with different attributes.' },
  INVALID_ARGUMENT: { status: 400, description: 'The request is malformed: bad JSON, wrong types, out-of-range values, bad names.' },
  TOO_LARGE: { status: 413, description: 'The request or message body exceeds its size limit.' },
  STALE_RECEIPT: { status: 409, description: 'The receipt belongs to an earlier delivery; the message was delivered again since.' },
  UNAUTHENTICATED: { status: 401, description: 'Authentication is required and the request carries no token, or an unknown, revoked or expired one.' },
  FORBIDDEN: { status: 403, description: 'The authenticated principal lacks the permission for this action on this resource; the error names both.' },
  NOT_FOUND: { status: 404, description: 'No such route, user or token.' },
  UNAVAILABLE: { status: 503, description: 'The node is overloaded, shutting down, or lost leadership while the request was in flight; retry.' },
  TIMEOUT: { status: 504, description: 'The request did not complete in time; its outcome is unknown (retry with an idempotency key).' },
  INTERNAL: { status: 500, description: 'A bug or an unexpected failure inside raftq.' },
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof errorCatalogue;

/** Every code, in catalogue order. */
export const errorCodes = Object.keys(errorCatalogue) as ErrorCode[];

/** An error a client can act on: a stable `code`, a message, and for NOT_LEADER the leader. */
export class RaftqError extends Error {
  override readonly name = 'RaftqError';
  /** For NOT_LEADER / responses: the leader's node id and client address, when known. */
  readonly leader: { id: string; http?: string; client?: string } | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { cause?: unknown; leader?: { id: string; http?: string; client?: string } } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.leader = options.leader;
  }

  /** The HTTP status for this error's code. */
  get status(): number {
    return errorCatalogue[this.code].status;
  }
}

/** Whether `code` is a catalogued error code. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorCatalogue, code);
}
