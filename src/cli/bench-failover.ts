/**
 * `raftq bench --scenario failover`: writers through the client library, each awaiting its
 * acknowledgement, while the leader's process is killed (SIGKILL) or frozen (SIGSTOP, a silent
 * partition). Measures the gaps between acknowledged writes and reads back their count.
 * It signals a pid, so the cluster must run on this machine.
 */
import { performance } from 'node:perf_hooks';
import { Client } from '../client/client.js';
import { RaftqError } from '../errors.js';
import { findLeader, httpAddresses, isLocalAddress, type NodeView } from './bench-cluster.js';
import { ErrorTally, gapReport, progressLine, progressTicker, sleepMs, type GapReport } from './bench-stats.js';

/** Settings of the failover scenario. */
export interface FailoverSettings {
  readonly queue: string;
  /** The queue was made for this run: delete it afterwards. */
  readonly temporaryQueue: boolean;
  readonly producers: number;
  readonly size: number;
  /** How long to keep writing after the signal. */
  readonly durationMs: number;
  /** How long to write before the signal. */
  readonly warmMs: number;
  readonly signal: 'KILL' | 'STOP';
  /** The writers' per-attempt request timeout (ClientOptions.requestTimeoutMs). */
  readonly requestTimeoutMs: number;
  /** The writers' keep-alive (ClientOptions.keepAliveMs): a node silent for twice this is presumed dead. */
  readonly keepAliveMs: number;
  /** Client connections the writers share. */
  readonly connections: number;
}

/** What `raftq bench --scenario failover --json` prints. */
export interface FailoverResult extends GapReport {
  readonly scenario: 'failover';
  readonly queue: string;
  readonly signal: 'KILL' | 'STOP';
  readonly producers: number;
  readonly messageBytes: number;
  readonly warmS: number;
  /** Seconds written after the signal. */
  readonly durationS: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveMs: number;
  /** The node signalled. */
  readonly leader: { readonly id: string; readonly pid: number; readonly http: string; readonly term: number };
  /** The leader after the run, as the surviving nodes report it. */
  readonly newLeader: string | null;
  /** Writes acknowledged. */
  readonly acked: number;
  /** Sends that failed for good (the client's retries ran out); their outcome is unknown. */
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** The queue read back after the run: visible should equal acked. */
  readonly readback: {
    readonly visible: number;
    readonly inFlight: number;
    /** Acknowledged writes missing: max(0, acked - visible). */
    readonly lost: number;
    /** Messages beyond the acknowledged writes: max(0, visible - acked) (a failed send may have landed). */
    readonly duplicates: number;
  };
}

/** Runs the failover scenario against the cluster at `nodes` (which must run on this machine). */
export async function runFailover(nodes: string[], timeoutMs: number, s: FailoverSettings): Promise<FailoverResult> {
  // The admin client outlives the fault (leader search, read-back): it retries through an election.
  const admin = new Client({ nodes, retryTimeoutMs: Math.max(timeoutMs, 30_000), name: 'raftq-bench' });
  const writers: Client[] = [];
  let created = false;
  let stopped: NodeView | undefined;
  const resume = (): void => {
    if (stopped === undefined) return;
    try {
      process.kill(stopped.pid, 'SIGCONT');
    } catch {
      // gone already
    }
    stopped = undefined;
  };
  process.once('exit', resume);
  try {
    await admin.createQueue(s.queue);
    created = true;
    const addresses = await httpAddresses(admin);
    const remote = addresses.filter((a) => !isLocalAddress(a.http));
    if (remote.length > 0) {
      throw new RaftqError('INVALID_ARGUMENT', `the failover scenario signals the leader's process, so the cluster must run on this machine; ${remote.map((a) => `${a.id} (${a.http})`).join(', ')} ${remote.length === 1 ? 'is' : 'are'} not local`);
    }
    for (let i = 0; i < s.connections; i++) {
      writers.push(new Client({ nodes, requestTimeoutMs: s.requestTimeoutMs, keepAliveMs: s.keepAliveMs, name: 'raftq-bench-writer' }));
    }
    await Promise.all(writers.map((c) => c.cluster()));

    const body = new Uint8Array(s.size).fill(0x78);
    const acks: number[] = [];
    const errors = new ErrorTally();
    let stop = false;
    let signalAt: number | undefined;
    const t0 = performance.now();
    const total = s.warmMs + s.durationMs;
    const stopProgress = progressTicker(() => {
      const now = performance.now();
      const last = acks[acks.length - 1];
      const parts = [`acked ${acks.length}`, `errors ${errors.count}`, `last ack ${last === undefined ? '-' : Math.round(now - last)} ms ago`];
      if (signalAt !== undefined) parts.push(`SIG${s.signal} ${((now - signalAt) / 1000).toFixed(1)} s ago`);
      return progressLine(now - t0, total, parts);
    });
    const running = Array.from({ length: s.producers }, async (_, w) => {
      const client = writers[w % writers.length]!;
      while (!stop) {
        try {
          await client.send(s.queue, body);
          acks.push(performance.now());
        } catch (e) {
          errors.note(e);
          await sleepMs(20);
        }
      }
    });

    let leader: NodeView;
    let endAt: number;
    try {
      await sleepMs(s.warmMs);
      leader = await findLeader(addresses);
      if (leader.pid <= 0) throw new RaftqError('INTERNAL', `node ${leader.id} did not report its pid in GET /v1/cluster (an older server?)`);
      signalAt = performance.now();
      try {
        process.kill(leader.pid, s.signal === 'KILL' ? 'SIGKILL' : 'SIGSTOP');
      } catch (e) {
        throw new RaftqError('INVALID_ARGUMENT', `cannot signal ${leader.id} (pid ${leader.pid}): ${e instanceof Error ? e.message : String(e)}; is the cluster running on this machine as this user?`, { cause: e });
      }
      if (s.signal === 'STOP') stopped = leader;
      await sleepMs(s.durationMs);
    } finally {
      stop = true;
      endAt = performance.now();
      await Promise.all(running);
      stopProgress();
      resume();
    }
    const gaps = gapReport(acks, t0, signalAt, endAt);
    const survivors = s.signal === 'KILL' ? addresses.filter((a) => a.id !== leader.id) : addresses;
    const newLeader = await findLeader(survivors, 20_000).then(
      (l) => l.id,
      () => null,
    );
    const st = (await admin.getQueue(s.queue)).stats;
    return {
      scenario: 'failover',
      queue: s.queue,
      signal: s.signal,
      producers: s.producers,
      messageBytes: s.size,
      warmS: s.warmMs / 1000,
      durationS: Math.round(endAt - signalAt) / 1000,
      requestTimeoutMs: s.requestTimeoutMs,
      keepAliveMs: s.keepAliveMs,
      leader: { id: leader.id, pid: leader.pid, http: leader.http, term: leader.term },
      newLeader,
      acked: acks.length,
      errors: errors.count,
      errorSamples: errors.samples,
      ...gaps,
      readback: {
        visible: st.visible,
        inFlight: st.inFlight,
        lost: Math.max(0, acks.length - st.visible),
        duplicates: Math.max(0, st.visible - acks.length),
      },
    };
  } finally {
    resume();
    process.removeListener('exit', resume);
    await Promise.all(writers.map((c) => c.close().catch(() => {})));
    if (created && s.temporaryQueue) await admin.deleteQueue(s.queue).catch(() => {});
    await admin.close();
  }
}

/** The human summary of a failover run. */
export function describeFailover(r: FailoverResult): string {
  const ms = (x: number | null): string => (x === null ? 'none' : `${Math.round(x)} ms`);
  return [
    `raftq bench failover: SIG${r.signal} of leader ${r.leader.id} (pid ${r.leader.pid}, term ${r.leader.term}) after ${r.warmS} s, ${r.producers} writers, ${r.messageBytes} B, ${r.durationS} s after the signal; new leader ${r.newLeader ?? 'none'}`,
    `gaps      longest ${ms(r.maxGapMs)} (starting ${ms(r.maxGapStartRelSignalMs)} from the signal)  spanning the signal ${ms(r.signalGapMs)}  first ack after it ${ms(r.firstAckAfterSignalMs)}`,
    `rate      ${r.ratePerSBeforeSignal} acks/s before the signal, ${r.ratePerSAtEnd} acks/s at the end`,
    `acked     ${r.acked}  read back ${r.readback.visible} visible (${r.readback.inFlight} in flight): lost ${r.readback.lost}, duplicates ${r.readback.duplicates}`,
    `errors    ${r.errors}${r.errorSamples.length > 0 ? `  (${r.errorSamples.join('; ')})` : ''}`,
  ].join('\n');
}
