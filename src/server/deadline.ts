/**
 * One pending-with-deadline helper for the runtime's waiting requests (forwarded requests,
 * proposals, membership changes, linearizable reads, applied-index waits): each used to wrap a
 * timer and a resolve/reject pair by hand, with cleanups that had begun to differ.
 */

/** How a pending request is settled; either way its deadline is cleared. */
export interface Settle<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (err: Error) => void;
}

/**
 * A request that waits for its completion or its deadline, whichever comes first. `file`
 * receives the request's Settle and keeps it where the completion will find it (it may settle
 * at once, e.g. when the request cannot be sent). At `timeoutMs` (negative counts as 0) `expire`
 * runs: it unfiles the request and returns the error the promise rejects with. The timer never
 * holds the process open and is cleared when the request settles.
 */
export function pendingWithDeadline<T>(timeoutMs: number, file: (settle: Settle<T>) => void, expire: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(expire()), Math.max(0, timeoutMs));
    timer.unref();
    file({
      resolve: (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      reject: (err) => {
        clearTimeout(timer);
        reject(err);
      },
    });
  });
}
