/**
 * `raftq bench --scenario drain`: preload a queue, then drain it with consumers spread over the
 * nodes, each receiving through client.consume and acking every message one by one.
 */
import { performance } from 'node:perf_hooks';
import { Client } from '../client/client.js';
import type { Consumer } from '../client/consumer.js';
import type { Message } from '../client/message.js';
import { RaftqError } from '../errors.js';
import { preload } from './bench-preload.js';
import { ErrorTally, countProgressLine, progressTicker, sleepMs } from './bench-stats.js';

/** Settings of the drain scenario. */
export interface DrainSettings {
  readonly queue: string;
  /** The queue was made for this run: delete it afterwards. */
  readonly temporaryQueue: boolean;
  readonly messages: number;
  readonly consumers: number;
  readonly size: number;
  /** Messages each consumer has in hand (its handlers run this many at once). */
  readonly prefetch: number;
  /** Preload batches in flight. */
  readonly inFlight: number;
}

/** What `raftq bench --scenario drain --json` prints. */
export interface DrainResult {
  readonly scenario: 'drain';
  readonly queue: string;
  readonly messageBytes: number;
  readonly consumers: number;
  readonly prefetch: number;
  /** Messages the preload had acknowledged. */
  readonly preloaded: number;
  readonly preloadS: number;
  readonly preloadPerS: number;
  /** Visible messages when the consumers started (the preload, plus any backlog of --queue). */
  readonly toDrain: number;
  /** Distinct messages acked. */
  readonly acked: number;
  /** Deliveries of a message that had been delivered before (a lease ran out). */
  readonly redeliveries: number;
  /** First consumer start to last ack. */
  readonly drainS: number;
  readonly drainPerS: number;
  /**
   * Per consumer, the node its connection was first answered by (node k % nodes of --nodes) and
   * the node it was connected to at the end (the client library moves to the leader).
   */
  readonly consumerNodes: ReadonlyArray<{ readonly first: string; readonly last: string }>;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** The queue's stats after the drain. */
  readonly left: { readonly visible: number; readonly inFlight: number; readonly delayed: number };
  /** Nothing visible, in flight or delayed is left. */
  readonly empty: boolean;
}

/** Give up when no ack arrives for this long. */
const stallMs = 30_000;

/** Runs the drain scenario against the cluster at `nodes`. */
export async function runDrain(nodes: string[], timeoutMs: number, s: DrainSettings): Promise<DrainResult> {
  const admin = new Client({ nodes, retryTimeoutMs: timeoutMs, name: 'raftq-bench' });
  const loader = new Client({ nodes, name: 'raftq-bench-preload' });
  const clients: Client[] = [];
  let created = false;
  try {
    await admin.createQueue(s.queue);
    created = true;
    const pre = await preload(loader, s.queue, { count: s.messages, size: s.size, inFlight: s.inFlight, label: 'preload' });
    await loader.close();
    const toDrain = (await admin.getQueue(s.queue)).stats.visible;
    for (let k = 0; k < s.consumers; k++) clients.push(new Client({ nodes: [nodes[k % nodes.length]!], name: `raftq-bench-consumer-${k}` }));
    const firstNodes = await Promise.all(clients.map(async (c) => (await c.cluster()).id));
    const d = await drain(clients, s, toDrain);
    const lastNodes = await Promise.all(clients.map(async (c) => (await c.cluster()).id));
    const consumerNodes = firstNodes.map((first, k) => ({ first, last: lastNodes[k]! }));
    await Promise.all(clients.map((c) => c.close()));
    const st = (await admin.getQueue(s.queue)).stats;
    const drainS = d.elapsedMs / 1000;
    return {
      scenario: 'drain',
      queue: s.queue,
      messageBytes: s.size,
      consumers: s.consumers,
      prefetch: s.prefetch,
      preloaded: pre.sent,
      preloadS: round2(pre.elapsedMs / 1000),
      preloadPerS: Math.round(pre.sent / (pre.elapsedMs / 1000)),
      toDrain,
      acked: d.acked,
      redeliveries: d.redeliveries,
      drainS: round2(drainS),
      drainPerS: drainS > 0 ? Math.round(d.acked / drainS) : 0,
      consumerNodes,
      errors: d.errors.count,
      errorSamples: d.errors.samples,
      left: { visible: st.visible, inFlight: st.inFlight, delayed: st.delayed },
      empty: st.visible === 0 && st.inFlight === 0 && st.delayed === 0,
    };
  } finally {
    await Promise.all([loader, ...clients].map((c) => c.close().catch(() => {})));
    if (created && s.temporaryQueue) await admin.deleteQueue(s.queue).catch(() => {});
    await admin.close();
  }
}

interface DrainRun {
  readonly acked: number;
  readonly redeliveries: number;
  readonly elapsedMs: number;
  readonly errors: ErrorTally;
}

/** Consumes with one consumer per client until `target` distinct messages are acked. */
async function drain(clients: readonly Client[], s: DrainSettings, target: number): Promise<DrainRun> {
  const errors = new ErrorTally();
  const seen = new Set<string>();
  const ackedIds = new Set<string>();
  let redeliveries = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));
  const t0 = performance.now();
  let lastAck = t0;
  const handler = async (m: Message): Promise<void> => {
    if (seen.has(m.id)) redeliveries++;
    else seen.add(m.id);
    try {
      await m.ack();
    } catch (e) {
      errors.note(e);
      return;
    }
    lastAck = performance.now();
    ackedIds.add(m.id);
    if (ackedIds.size >= target) finish();
  };
  const stopProgress = progressTicker(() => countProgressLine(ackedIds.size, target, performance.now() - t0, ['drain', `errors ${errors.count}`]));
  const consumers: Consumer[] = clients.map((c) =>
    c.consume(s.queue, handler, { concurrency: s.prefetch, prefetch: s.prefetch, onError: (e, m) => (m === undefined ? errors.note(e) : undefined) }),
  );
  try {
    if (target === 0) finish();
    // Each turn waits up to 500 ms; a stall of stallMs or every consumer stopping ends it.
    for (;;) {
      const done = await Promise.race([finished.then(() => true), sleepMs(500).then(() => false)]);
      if (done) break;
      const dead = consumers.filter((c) => c.error !== undefined);
      if (dead.length === consumers.length) throw dead[0]!.error!;
      if (performance.now() - lastAck > stallMs) {
        throw new RaftqError('TIMEOUT', `drain stalled: no ack for ${stallMs / 1000} s with ${ackedIds.size} of ${target} messages acked`);
      }
    }
  } finally {
    stopProgress();
    await Promise.all(consumers.map((c) => c.close().catch((e: unknown) => errors.note(e))));
  }
  return { acked: ackedIds.size, redeliveries, elapsedMs: lastAck - t0, errors };
}

/** The human summary of a drain run. */
export function describeDrain(r: DrainResult): string {
  return [
    `raftq bench drain: ${r.consumers} consumers (prefetch ${r.prefetch}, nodes ${r.consumerNodes.map((n) => (n.first === n.last ? n.first : `${n.first}->${n.last}`)).join(', ')}), ${r.messageBytes} B messages, one ack per message`,
    `preload   ${r.preloaded} msgs in ${r.preloadS} s  ${r.preloadPerS} msgs/s`,
    `drain     ${r.acked} of ${r.toDrain} msgs acked in ${r.drainS} s  ${r.drainPerS} msgs/s  (${r.redeliveries} redeliveries)`,
    `left      visible ${r.left.visible}  in flight ${r.left.inFlight}  delayed ${r.left.delayed}: ${r.empty ? 'empty' : 'NOT EMPTY'}`,
    `errors    ${r.errors}${r.errorSamples.length > 0 ? `  (${r.errorSamples.join('; ')})` : ''}`,
  ].join('\n');
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
