/**
 * Invariant checks. A failed assertion is a bug in raftq, never an operating condition: it
 * throws an AssertionError that nothing catches, so the node stops instead of diverging.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

/** Throws an AssertionError with `message` unless `condition` holds. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === 'string' ? message : message());
  }
}
