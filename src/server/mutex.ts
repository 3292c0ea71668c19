/**
 * A FIFO async mutex. The ready loop and a snapshot install hold it, so the core never sees the
 * stored state change under it.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #held = false;

  /** Runs `fn` once every earlier holder has released. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => (release = r));
    await prev;
    this.#held = true;
    try {
      return await fn();
    } finally {
      this.#held = false;
      release();
    }
  }

  /** Whether some holder is running now. */
  get held(): boolean {
    return this.#held;
  }
}
