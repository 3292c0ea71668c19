import { connect, type Client } from '../src/client/index.js';
import { DefiniteError, type EnqueueOptions, type ReceivedMessage, type WorkloadClient } from './workload-client.js';

/**
 * Codes after which the operation certainly did not take effect, even though the client library
 * retries internally: validation refusals. Anything else (TIMEOUT, UNAVAILABLE or NO_LEADER
 * after an internal retry, a lost connection) leaves the outcome unknown.
 */
const definiteCodes = new Set(['INVALID_ARGUMENT', 'QUEUE_NOT_FOUND', 'QUEUE_EXISTS', 'TOO_LARGE', 'STALE_RECEIPT']);

function classify(e: unknown): never {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && definiteCodes.has(code)) throw new DefiniteError(code, e instanceof Error ? e.message : code);
  throw e;
}

/**
 * A WorkloadClient over the raftq client library (binary protocol): leader discovery, retries
 * with backoff, and the idempotent producer are the library's own, exactly as users get them.
 */
export class LibraryWorkloadClient implements WorkloadClient {
  readonly idempotencyKeys = true;
  readonly #client: Promise<Client>;

  constructor(nodes: readonly string[], opTimeoutMs: number) {
    this.#client = connect({ nodes: [...nodes], requestTimeoutMs: opTimeoutMs, retryTimeoutMs: opTimeoutMs });
    this.#client.catch(() => {}); // surfaced by the first operation instead
  }

  async createQueue(name: string, attributes: Record<string, unknown>): Promise<void> {
    const c = await this.#client;
    await c.createQueue(name, attributes).catch(classify);
  }

  async enqueue(queue: string, body: string, opts: EnqueueOptions = {}): Promise<{ id: string }> {
    const c = await this.#client;
    const res = await c.send(queue, body, opts).catch(classify);
    return { id: res.id };
  }

  async receive(queue: string, max: number, visibilityTimeoutMs: number, waitMs: number): Promise<ReceivedMessage[]> {
    const c = await this.#client;
    const ms = await c.receive(queue, { max, visibilityTimeoutMs, waitMs }).catch(classify);
    return ms.map((m) => ({ id: m.id, body: m.text(), receipt: m.receipt, receiveCount: m.receiveCount, ...(m.groupId !== '' ? { groupId: m.groupId } : {}) }));
  }

  async ack(queue: string, receipt: string): Promise<void> {
    const c = await this.#client;
    await c.ack(queue, receipt).catch(classify);
  }

  async nack(queue: string, receipt: string): Promise<void> {
    const c = await this.#client;
    await c.nack(queue, receipt).catch(classify);
  }

  async stats(queue: string): Promise<{ visible: number; inFlight: number; delayed: number }> {
    const c = await this.#client;
    const q = await c.getQueue(queue);
    return { visible: q.stats.visible, inFlight: q.stats.inFlight, delayed: q.stats.delayed };
  }

  async close(): Promise<void> {
    const c = await this.#client.catch(() => undefined);
    await c?.close();
  }
}
