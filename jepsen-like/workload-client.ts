/**
 * What a workload needs from a raftq client, so the harness can drive either the client
 * library or plain HTTP. Every call either resolves (the operation happened), rejects with a
 * `definite` error (it did not happen), or rejects otherwise (outcome unknown).
 */
export interface WorkloadClient {
  /**
   * Whether enqueue honours `idempotencyKey` (a retry under one key is one message). SQS has
   * no such key for standard queues; FIFO dedup ids are honoured by every client.
   */
  readonly idempotencyKeys: boolean;
  createQueue(name: string, attributes: Record<string, unknown>): Promise<void>;
  /**
   * Enqueues one message. `idempotencyKey` deduplicates the whole enqueue (any queue),
   * `dedupId` the message (FIFO queues). Resolves with the message id: on a dedup hit, the
   * original message's.
   */
  enqueue(queue: string, body: string, opts?: EnqueueOptions): Promise<{ id: string }>;
  receive(queue: string, max: number, visibilityTimeoutMs: number, waitMs: number): Promise<ReceivedMessage[]>;
  ack(queue: string, receipt: string): Promise<void>;
  nack(queue: string, receipt: string): Promise<void>;
  stats(queue: string): Promise<{ visible: number; inFlight: number; delayed: number }>;
  close(): Promise<void>;
}

/** Options of WorkloadClient.enqueue. */
export interface EnqueueOptions {
  readonly groupId?: string;
  readonly dedupId?: string;
  readonly idempotencyKey?: string;
}

/** A message as a receive returned it. */
export interface ReceivedMessage {
  readonly id: string;
  readonly body: string;
  readonly receipt: string;
  readonly receiveCount: number;
  readonly groupId?: string;
}

/** An error whose operation definitely did not take effect. */
export class DefiniteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Codes that mean the request was refused before it could take effect. */
const definiteCodes = new Set(['INVALID_ARGUMENT', 'QUEUE_NOT_FOUND', 'QUEUE_EXISTS', 'TOO_LARGE', 'STALE_RECEIPT', 'NO_LEADER', 'NOT_LEADER', 'UNAVAILABLE', 'NOT_FOUND']);

/**
 * A WorkloadClient over the HTTP API: tries the node that last answered, moves to the leader
 * named in NOT_LEADER errors or `raftq-leader` headers, and to the next node on connection
 * failures, within one operation's deadline. Enqueues carry an Idempotency-Key so a retry
 * inside one operation can never enqueue twice.
 */
export class HttpWorkloadClient implements WorkloadClient {
  readonly idempotencyKeys = true;
  readonly #nodes: string[];
  #current = 0;
  readonly #opTimeoutMs: number;
  readonly #clientId: string;
  #seq = 0;

  constructor(nodes: readonly string[], opTimeoutMs: number, clientId: string) {
    this.#nodes = [...nodes];
    this.#opTimeoutMs = opTimeoutMs;
    this.#clientId = clientId;
  }

  async createQueue(name: string, attributes: Record<string, unknown>): Promise<void> {
    await this.#call('PUT', `/v1/queues/${encodeURIComponent(name)}`, attributes);
  }

  async enqueue(queue: string, body: string, opts: EnqueueOptions = {}): Promise<{ id: string }> {
    const { idempotencyKey, ...message } = opts;
    const res = (await this.#call('POST', `/v1/queues/${encodeURIComponent(queue)}/messages`, { body, ...message }, { 'idempotency-key': idempotencyKey ?? `${this.#clientId}-${++this.#seq}` })) as { id: string };
    return { id: res.id };
  }

  async receive(queue: string, max: number, visibilityTimeoutMs: number, waitMs: number): Promise<ReceivedMessage[]> {
    const res = (await this.#call('POST', `/v1/queues/${encodeURIComponent(queue)}/receive`, { max, visibilityTimeoutMs, waitMs }, {}, waitMs)) as {
      messages: ReceivedMessage[];
    };
    return res.messages;
  }

  async ack(queue: string, receipt: string): Promise<void> {
    await this.#call('POST', `/v1/queues/${encodeURIComponent(queue)}/ack`, { receipt });
  }

  async nack(queue: string, receipt: string): Promise<void> {
    await this.#call('POST', `/v1/queues/${encodeURIComponent(queue)}/nack`, { receipt, delayMs: 0 });
  }

  async stats(queue: string): Promise<{ visible: number; inFlight: number; delayed: number }> {
    const res = (await this.#call('GET', `/v1/queues/${encodeURIComponent(queue)}`)) as { stats: { visible: number; inFlight: number; delayed: number } };
    return res.stats;
  }

  async close(): Promise<void> {}

  /**
   * One logical operation: retried across nodes on connection errors and NOT_LEADER /
   * NO_LEADER / UNAVAILABLE until the deadline. A retry of a non-idempotent request after an
   * unknown outcome is never made: once a request may have reached a leader, its error stands.
   */
  async #call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, extraMs = 0): Promise<unknown> {
    const deadline = Date.now() + this.#opTimeoutMs + extraMs;
    let lastError: Error = new Error('no attempt made');
    let mayHaveApplied = false;
    while (Date.now() < deadline) {
      const node = this.#nodes[this.#current % this.#nodes.length]!;
      let res: Response;
      try {
        res = await fetch(`http://${node}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...headers },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(Math.max(100, deadline - Date.now())),
        });
      } catch (e) {
        // Refused connections never reached the node; anything else might have.
        const refused = (e as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
        if (!refused) mayHaveApplied = true;
        lastError = e instanceof Error ? e : new Error(String(e));
        this.#current++;
        if (mayHaveApplied && headers['idempotency-key'] === undefined && method !== 'GET') throw lastError;
        await sleep(50);
        continue;
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = {};
      }
      if (res.ok) return json;
      const err = (json as { error?: { code?: string; message?: string; leader?: { id?: string; http?: string } } }).error ?? {};
      const code = err.code ?? `HTTP_${res.status}`;
      if (code === 'NOT_LEADER' && err.leader?.http !== undefined) {
        const i = this.#nodes.indexOf(err.leader.http);
        if (i >= 0) this.#current = i;
        continue;
      }
      if (code === 'NO_LEADER' || code === 'NOT_LEADER' || code === 'UNAVAILABLE') {
        lastError = new DefiniteError(code, err.message ?? code);
        this.#current++;
        await sleep(100);
        continue;
      }
      if (definiteCodes.has(code) && !mayHaveApplied) throw new DefiniteError(code, err.message ?? code);
      const unknown = new Error(`${code}: ${err.message ?? ''}`);
      (unknown as { code?: string }).code = code;
      throw unknown;
    }
    if (lastError instanceof DefiniteError && mayHaveApplied) throw new Error(`${lastError.code} after an unknown outcome: ${lastError.message}`);
    throw lastError;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
