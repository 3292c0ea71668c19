/**
 * A single-producer single-consumer async queue of byte chunks with a bound of one chunk in
 * waiting: push() resolves only when the consumer took the chunk, so a snapshot streaming from
 * a socket into storage never piles up in memory.
 */
export class ChunkQueue implements AsyncIterable<Uint8Array> {
  #items: Uint8Array[] = [];
  #ended = false;
  #error: Error | undefined;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;

  /** Hands over a chunk; resolves once the consumer took it (or the queue failed). */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    this.#items.push(chunk);
    this.#wake();
    while (this.#items.length > 0 && this.#error === undefined) {
      await new Promise<void>((r) => (this.#wakeProducer = r));
    }
    if (this.#error !== undefined) throw this.#error;
  }

  /** No more chunks. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** Fails the stream: the consumer's iteration throws `err`, and so does a pending or later push. */
  fail(err: Error): void {
    this.#error ??= err;
    this.#wake();
    this.#wakeProducerNow();
  }

  #wake(): void {
    const c = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    c?.();
  }

  #wakeProducerNow(): void {
    const p = this.#wakeProducer;
    this.#wakeProducer = undefined;
    p?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      const item = this.#items.shift();
      if (item !== undefined) {
        this.#wakeProducerNow();
        yield item;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((r) => (this.#wakeConsumer = r));
    }
  }
}
