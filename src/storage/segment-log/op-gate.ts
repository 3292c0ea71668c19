/**
 * Orders the segment log's asynchronous operations. Mutations (sync, truncation, compaction,
 * close) run one at a time in call order. Reads run concurrently with each other and with a
 * sync (a sync only adds bytes at the end; reads copy the unwritten tail before awaiting), but
 * never with a destructive mutation: a destructive one waits for the reads called before it,
 * and a read waits for the destructive ones called before it.
 */

/** The scheduler of one SegmentLog's operations. */
export class OpGate {
  #mutationTail: Promise<unknown> = Promise.resolve();
  #destructiveTail: Promise<unknown> = Promise.resolve();
  readonly #reads = new Set<Promise<unknown>>();
  /** Destructive mutations called and not yet settled. Invariant: >= 0. */
  #destructivePending = 0;

  /** True while a destructive mutation is queued or running (appends must wait for it). */
  get destructivePending(): boolean {
    return this.#destructivePending > 0;
  }

  /** Runs `fn` after every mutation called before; `destructive` also waits for earlier reads. */
  mutate<T>(destructive: boolean, fn: () => Promise<T>): Promise<T> {
    const readsBefore = destructive ? [...this.#reads] : [];
    if (destructive) this.#destructivePending++;
    const body = destructive
      ? async (): Promise<T> => {
          try {
            return await fn();
          } finally {
            this.#destructivePending--; // before `run` settles: its caller may append next
          }
        }
      : fn;
    const run = this.#mutationTail.then(() => Promise.allSettled(readsBefore)).then(body);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#mutationTail = settled;
    if (destructive) this.#destructiveTail = settled;
    return run;
  }

  /** Runs `fn` after every destructive mutation called before. */
  read<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#destructiveTail.then(fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#reads.add(settled);
    void settled.then(() => this.#reads.delete(settled));
    return run;
  }
}
