/**
 * `raftq bench --scenario pinned`: one message held under a long lease (received, never acked)
 * while BYTES more pass through the same queue (sendBatch of up to 100, received in batches of
 * as many and acked). What it shows is whether storage reclaims the space of the messages that
 * passed while an old one is still live; the caller measures the nodes' data directories (the
 * scenario talks to the cluster only through its client protocol). The queue is left in place
 * with the pinned message still in flight when --queue names it, deleted otherwise.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from '../client/client.js';
import { RaftqError } from '../errors.js';
import { preloadBatch } from './bench-preload.js';
import { ErrorTally, countProgressLine, progressTicker, sleepMs } from './bench-stats.js';

/** Settings of the pinned scenario. */
export interface PinnedSettings {
  readonly queue: string;
  /** The queue was made for this run: delete it afterwards. */
  readonly temporaryQueue: boolean;
  /** Bytes of message bodies to pass through the queue after the pinned message. */
  readonly bytes: number;
  /** Body size of every message, the pinned one included. */
  readonly size: number;
  /** Lease of the pinned message in milliseconds (the protocol allows up to 12 h). */
  readonly leaseMs: number;
  /** Send batches in flight, and as many receivers. */
  readonly inFlight: number;
}

/** What `raftq bench --scenario pinned --json` prints. */
export interface PinnedResult {
  readonly scenario: 'pinned';
  readonly queue: string;
  /** The message held under the lease, never acked. */
  readonly pinnedId: string;
  readonly leaseS: number;
  readonly messageBytes: number;
  /** Messages meant to pass (ceil(bytes / size)) and their body bytes. */
  readonly messages: number;
  readonly bytes: number;
  /** Messages acknowledged by the cluster, and distinct messages received and acked. */
  readonly sent: number;
  readonly acked: number;
  /** Body bytes acked (acked x size). */
  readonly passedBytes: number;
  readonly elapsedS: number;
  readonly ackedPerS: number;
  readonly mibPerS: number;
  /** Deliveries of the pinned message seen while passing (its lease ended early: must be 0). */
  readonly pinnedRedelivered: number;
  /** The queue's stats at the end; the pinned message is the one message in flight. */
  readonly left: { readonly visible: number; readonly inFlight: number; readonly delayed: number };
  /** The pinned message is still held (1 in flight, nothing visible) and everything else passed. */
  readonly held: boolean;
  readonly errors: number;
  readonly errorSamples: readonly string[];
}

/** Default lease of the pinned message: 12 h, the protocol's longest. */
export const pinnedLeaseMsDefault = 12 * 3600 * 1000;

/** Sent but not yet acked messages allowed at once, in body bytes (the producers wait beyond). */
const backlogBytesMax = 32 * 1024 * 1024;

/** Body bytes per send and per receive at most: half the client protocol's 16 MiB frame. */
const requestBodyBytesMax = 8 * 1024 * 1024;

/** Messages per sendBatch and per receive: 100 (the protocol's most), fewer for large bodies. */
export function pinnedBatch(size: number): number {
  return Math.max(1, Math.min(preloadBatch, Math.floor(requestBodyBytesMax / size)));
}

/** Give up when nothing is acked for this long. */
const stallMs = 60_000;

/** How far the pass got; shared by the producers, receivers and the progress line. */
interface PassState {
  sent: number;
  claimed: number;
  acked: number;
  pinnedRedelivered: number;
  stopped: boolean;
  lastAckMs: number;
}

/** Runs the pinned scenario against the cluster at `nodes`. */
export async function runPinned(nodes: string[], timeoutMs: number, s: PinnedSettings): Promise<PinnedResult> {
  const admin = new Client({ nodes, retryTimeoutMs: timeoutMs, name: 'raftq-bench' });
  const producer = new Client({ nodes, name: 'raftq-bench-pinned-producer' });
  const consumer = new Client({ nodes, name: 'raftq-bench-pinned-consumer' });
  let created = false;
  try {
    await admin.createQueue(s.queue);
    created = true;
    const pinned = await pin(admin, s);
    const messages = Math.ceil(s.bytes / s.size);
    const errors = new ErrorTally();
    const st: PassState = { sent: 0, claimed: 0, acked: 0, pinnedRedelivered: 0, stopped: false, lastAckMs: performance.now() };
    const t0 = performance.now();
    const mib = (n: number): string => `${Math.round((n * s.size) / 1048576)} MiB`;
    const stop = progressTicker(() => countProgressLine(st.acked, messages, performance.now() - t0, ['pinned', `passed ${mib(st.acked)} of ${mib(messages)}`, `sent ${st.sent}`, `errors ${errors.count}`]));
    try {
      await pass(producer, consumer, s, pinned, messages, st, errors);
    } finally {
      stop();
    }
    const elapsedMs = st.lastAckMs - t0;
    const q = (await admin.getQueue(s.queue)).stats;
    const left = { visible: q.visible, inFlight: q.inFlight, delayed: q.delayed };
    return {
      scenario: 'pinned',
      queue: s.queue,
      pinnedId: pinned,
      leaseS: s.leaseMs / 1000,
      messageBytes: s.size,
      messages,
      bytes: s.bytes,
      sent: st.sent,
      acked: st.acked,
      passedBytes: st.acked * s.size,
      elapsedS: Math.round(elapsedMs / 10) / 100,
      ackedPerS: elapsedMs > 0 ? Math.round(st.acked / (elapsedMs / 1000)) : 0,
      mibPerS: elapsedMs > 0 ? Math.round(((st.acked * s.size) / 1048576 / (elapsedMs / 1000)) * 10) / 10 : 0,
      pinnedRedelivered: st.pinnedRedelivered,
      left,
      held: left.inFlight === 1 && left.visible === 0 && left.delayed === 0 && st.pinnedRedelivered === 0 && st.acked >= messages,
      errors: errors.count,
      errorSamples: errors.samples,
    };
  } finally {
    await Promise.all([producer, consumer].map((c) => c.close().catch(() => {})));
    if (created && s.temporaryQueue) await admin.deleteQueue(s.queue).catch(() => {});
    await admin.close();
  }
}

/** Sends the pinned message and receives it under the long lease; returns its id. */
async function pin(admin: Client, s: PinnedSettings): Promise<string> {
  const { id } = await admin.send(s.queue, randomBytes(s.size));
  const got = await admin.receive(s.queue, { max: 1, waitMs: 5000, visibilityTimeoutMs: s.leaseMs });
  const m = got[0];
  if (m === undefined || m.id !== id) throw new RaftqError('INTERNAL', `the pinned message ${id} was not received (got ${m === undefined ? 'nothing' : m.id}): was --queue ${s.queue} empty?`);
  return id;
}

/** Producers and receivers until `messages` distinct messages were acked (or a stall). */
async function pass(producer: Client, consumer: Client, s: PinnedSettings, pinned: string, messages: number, st: PassState, errors: ErrorTally): Promise<void> {
  const batch = pinnedBatch(s.size);
  const backlogMax = Math.max(2 * s.inFlight * batch, Math.floor(backlogBytesMax / s.size));
  const produce = async (): Promise<void> => {
    while (!st.stopped && st.claimed < messages) {
      if (st.sent - st.acked >= backlogMax) {
        await sleepMs(5);
        continue;
      }
      const n = Math.min(batch, messages - st.claimed);
      st.claimed += n;
      // Fresh random bytes per batch: incompressible, and distinct from every other body.
      const pool = randomBytes(n * s.size);
      const bodies = Array.from({ length: n }, (_, i) => pool.subarray(i * s.size, (i + 1) * s.size));
      await producer.sendBatch(s.queue, bodies);
      st.sent += n;
    }
  };
  const receive = async (): Promise<void> => {
    while (!st.stopped && st.acked < messages) {
      const got = await consumer.receive(s.queue, { max: batch, waitMs: 1000 }).catch((e: unknown) => {
        errors.note(e);
        return undefined;
      });
      if (got === undefined) {
        await sleepMs(100);
        continue;
      }
      const mine = got.filter((m) => {
        if (m.id !== pinned) return true;
        st.pinnedRedelivered++;
        return false;
      });
      const acks = await Promise.allSettled(mine.map((m) => m.ack()));
      for (const a of acks) {
        if (a.status === 'fulfilled') st.acked++;
        else errors.note(a.reason);
      }
      if (mine.length > 0) st.lastAckMs = performance.now();
    }
  };
  const watchdog = async (): Promise<void> => {
    while (!st.stopped && st.acked < messages) {
      await sleepMs(500);
      if (performance.now() - st.lastAckMs > stallMs) throw new RaftqError('TIMEOUT', `pinned: no ack for ${stallMs / 1000} s with ${st.acked} of ${messages} messages acked`);
    }
  };
  // The first task to fail stops the others after their current request.
  const stopOnError = (t: Promise<void>): Promise<void> =>
    t.catch((e: unknown) => {
      st.stopped = true;
      throw e;
    });
  const tasks = [...Array.from({ length: s.inFlight }, produce), ...Array.from({ length: s.inFlight }, receive), watchdog()];
  const settled = await Promise.allSettled(tasks.map(stopOnError));
  st.stopped = true;
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    const reason: unknown = failed.reason;
    throw reason;
  }
}

/** The human summary of a pinned run. */
export function describePinned(r: PinnedResult): string {
  const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
  return [
    `raftq bench pinned: message ${r.pinnedId} held under a ${r.leaseS} s lease in queue ${r.queue}; ${r.messageBytes} B messages`,
    `passed    ${r.acked} of ${r.messages} msgs (${mib(r.passedBytes)}) acked in ${r.elapsedS} s  ${r.ackedPerS} msgs/s  ${r.mibPerS} MiB/s`,
    `left      visible ${r.left.visible}  in flight ${r.left.inFlight}  delayed ${r.left.delayed}: ${r.held ? 'the pinned message is still held' : 'NOT AS EXPECTED'}${r.pinnedRedelivered > 0 ? ` (pinned redelivered ${r.pinnedRedelivered} times)` : ''}`,
    `errors    ${r.errors}${r.errorSamples.length > 0 ? `  (${r.errorSamples.join('; ')})` : ''}`,
  ].join('\n');
}
