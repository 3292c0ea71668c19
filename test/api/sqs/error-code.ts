import { SqsError } from '../../../src/api/sqs/sqs-errors.js';

/** The SqsError code `f` throws, 'ok' when it returns; any other error is rethrown. */
export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SqsError) return e.code;
    throw e;
  }
  return 'ok';
}
