/**
 * `raftq bench --scenario produce` (the default): producers sending single messages or
 * batches, each awaiting its durable acknowledgement, optional consumers, binary or HTTP.
 */
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseAddress } from '../client/connection.js';
import { Client } from '../client/client.js';
import type { Consumer } from '../client/consumer.js';
import { RaftqError, isErrorCode } from '../errors.js';
import { LatencySamples, progressLine, progressTicker, type Percentiles } from './bench-stats.js';

/** What `raftq bench --json` prints. */
export interface BenchResult {
  readonly scenario: 'produce';
  readonly mode: 'binary' | 'http';
  readonly producers: number;
  readonly consumers: number;
  readonly messageBytes: number;
  readonly batch: number;
  readonly durationS: number;
  /** Messages acknowledged to producers. */
  readonly sent: number;
  readonly sentPerS: number;
  /** Latency of one send (a batch with --batch), request to durable acknowledgement. */
  readonly sendLatencyMs: Percentiles;
  readonly received: number;
  readonly receivedPerS: number;
  /** From enqueue (the leader's clock) to delivery to a consumer. */
  readonly endToEndLatencyMs: Percentiles;
  readonly errors: number;
  /** The first few distinct errors, as CODE: message. */
  readonly errorSamples: readonly string[];
}

/** Settings of the produce scenario. */
export interface ProduceSettings {
  readonly producers: number;
  readonly consumers: number;
  readonly size: number;
  readonly durationMs: number;
  readonly batch: number;
  readonly queue: string;
  /** The queue was made for this run: delete it afterwards. */
  readonly temporaryQueue: boolean;
  readonly http: boolean;
  readonly connections: number;
}

/** A way to send and consume: the binary client or the HTTP API. */
interface Driver {
  send(bodies: number): Promise<void>;
  startConsumer(onMessage: (enqueuedAtMs: number) => void, stopped: () => boolean): Promise<void>;
  close(): Promise<void>;
}

class Counters {
  sent = 0;
  received = 0;
  errors = 0;
  readonly errorSamples = new Set<string>();
  readonly sendLatency = new LatencySamples();
  readonly e2eLatency = new LatencySamples();

  error(e: unknown): void {
    this.errors++;
    if (this.errorSamples.size < 5) this.errorSamples.add(e instanceof RaftqError ? `${e.code}: ${e.message}` : String(e));
  }
}

async function runBench(driver: Driver, s: ProduceSettings): Promise<BenchResult> {
  const c = new Counters();
  let stopped = false;
  const t0 = performance.now();
  const stopProgress = progressTicker(() => {
    const el = performance.now() - t0;
    const secs = el / 1000;
    return progressLine(el, s.durationMs, [`sent ${c.sent} (${Math.round(c.sent / secs)}/s)`, ...(s.consumers > 0 ? [`received ${c.received}`] : []), `errors ${c.errors}`]);
  });
  const consumers = Array.from({ length: s.consumers }, () =>
    driver.startConsumer(
      (enqueuedAtMs) => {
        c.received++;
        c.e2eLatency.add(Math.max(0, Date.now() - enqueuedAtMs));
      },
      () => stopped,
    ).catch((e: unknown) => c.error(e)),
  );
  const producers = Array.from({ length: s.producers }, async () => {
    while (!stopped) {
      const start = performance.now();
      try {
        await driver.send(s.batch);
        c.sendLatency.add(performance.now() - start);
        c.sent += s.batch;
      } catch (e) {
        c.error(e);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  await new Promise((r) => setTimeout(r, s.durationMs));
  stopped = true;
  const elapsedS = (performance.now() - t0) / 1000;
  await Promise.all(producers);
  await Promise.all(consumers);
  stopProgress();
  return {
    scenario: 'produce',
    mode: s.http ? 'http' : 'binary',
    producers: s.producers,
    consumers: s.consumers,
    messageBytes: s.size,
    batch: s.batch,
    durationS: Math.round(elapsedS * 100) / 100,
    sent: c.sent,
    sentPerS: Math.round(c.sent / elapsedS),
    sendLatencyMs: c.sendLatency.percentiles(),
    received: c.received,
    receivedPerS: Math.round(c.received / elapsedS),
    endToEndLatencyMs: c.e2eLatency.percentiles(),
    errors: c.errors,
    errorSamples: [...c.errorSamples],
  };
}

async function binaryDriver(nodes: string[], s: ProduceSettings): Promise<Driver> {
  const clients = await Promise.all(Array.from({ length: s.connections }, () => new Client({ nodes, name: 'raftq-bench' })));
  await Promise.all(clients.map((c) => c.cluster()));
  const body = new Uint8Array(s.size).fill(0x78);
  const batch = Array.from({ length: s.batch }, () => body);
  let next = 0;
  const consumers: Consumer[] = [];
  return {
    async send(n) {
      const client = clients[next++ % clients.length]!;
      if (n === 1) await client.send(s.queue, body);
      else await client.sendBatch(s.queue, batch);
    },
    async startConsumer(onMessage, stopped) {
      const consumer = clients[consumers.length % clients.length]!.consume(s.queue, (m) => onMessage(m.enqueuedAtMs), { concurrency: 16, prefetch: 64 });
      consumers.push(consumer);
      while (!stopped()) await new Promise((r) => setTimeout(r, 100));
      await consumer.close();
      if (consumer.error !== undefined) throw consumer.error;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}

async function httpDriver(admin: Client, s: ProduceSettings): Promise<Driver> {
  const st = await admin.cluster();
  const leader = st.nodes.find((n) => n.id === st.leader);
  if (leader?.http === undefined) throw new RaftqError('NO_LEADER', 'no leader with an HTTP address is known');
  const { host, port } = parseAddress(leader.http);
  // node:http with a keep-alive pool, one socket per worker: fetch() costs the load generator
  // several times more CPU per request on a small machine, which would measure the client.
  const agent = new Agent({ keepAlive: true, maxSockets: s.producers + s.consumers });
  const path = `/v1/queues/${encodeURIComponent(s.queue)}`;
  const text = 'x'.repeat(s.size);
  const oneBody = JSON.stringify({ body: text });
  const batchBody = JSON.stringify({ messages: Array.from({ length: s.batch }, () => ({ body: text })) });
  const post = (suffix: string, body: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        { host, port, method: 'POST', path: path + suffix, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            let json: { error?: { code?: unknown; message?: unknown } };
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof json;
            } catch (e) {
              reject(new RaftqError('INTERNAL', `HTTP ${res.statusCode}: not JSON`, { cause: e }));
              return;
            }
            if (res.statusCode === 200) resolve(json);
            else reject(new RaftqError(isErrorCode(json.error?.code) ? json.error.code : 'INTERNAL', String(json.error?.message ?? `HTTP ${res.statusCode}`)));
          });
        },
      );
      req.on('error', (e) => reject(new RaftqError('UNAVAILABLE', e.message, { cause: e })));
      req.end(body);
    });
  return {
    async send(n) {
      await post('/messages', n === 1 ? oneBody : batchBody);
    },
    async startConsumer(onMessage, stopped) {
      while (!stopped()) {
        const res = (await post('/receive', JSON.stringify({ max: 16, waitMs: 500 }))) as { messages: Array<{ receipt: string; enqueuedAt: number }> };
        for (const m of res.messages) onMessage(m.enqueuedAt);
        if (res.messages.length > 0) await post('/ack', JSON.stringify({ receipts: res.messages.map((m) => m.receipt) }));
      }
    },
    async close() {
      agent.destroy();
    },
  };
}

/** The human summary of a produce run. */
export function describeProduce(r: BenchResult): string {
  const lat = (p: Percentiles): string => `p50 ${p.p50} ms  p90 ${p.p90} ms  p99 ${p.p99} ms  max ${p.max} ms`;
  const lines = [
    `raftq bench: ${r.mode}, ${r.producers} producers, ${r.consumers} consumers, ${r.messageBytes} B messages${r.batch > 1 ? `, batches of ${r.batch}` : ''}, ${r.durationS} s, durable acks`,
    `sent      ${r.sent} msgs  ${r.sentPerS} msgs/s  ${((r.sentPerS * r.messageBytes) / 1048576).toFixed(2)} MiB/s`,
    `latency   ${lat(r.sendLatencyMs)}`,
  ];
  if (r.consumers > 0) lines.push(`received  ${r.received} msgs  ${r.receivedPerS} msgs/s`, `end2end   ${lat(r.endToEndLatencyMs)}`);
  lines.push(`errors    ${r.errors}${r.errorSamples.length > 0 ? `  (${r.errorSamples.join('; ')})` : ''}`);
  return lines.join('\n');
}

/** Runs the produce scenario against the cluster at `nodes`. */
export async function runProduce(nodes: string[], timeoutMs: number, s: ProduceSettings): Promise<BenchResult> {
  const admin = new Client({ nodes, retryTimeoutMs: timeoutMs, name: 'raftq-bench' });
  let driver: Driver | undefined;
  let created = false;
  try {
    await admin.createQueue(s.queue);
    created = true;
    driver = s.http ? await httpDriver(admin, s) : await binaryDriver(nodes, s);
    return await runBench(driver, s);
  } finally {
    await driver?.close();
    if (created && s.temporaryQueue) await admin.deleteQueue(s.queue).catch(() => {});
    await admin.close();
  }
}
