/**
 * The peers' half of the comparison: etcd and NATS JetStream (peers-up.sh), then RabbitMQ
 * (rabbit-up.sh), each measured with the shared load scripts, one fresh cluster per failover
 * trial.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { failoverMetrics, log, produceMetrics, rate, type Comparison } from './compare-context.js';
import { peersDown, peersUp, runPeerScript } from './compare-peers.js';
import type { SystemName } from './compare-report.js';

/** etcd and NATS: throughput and drain on one cluster, then one fresh cluster per failover trial. */
export async function etcdAndNats(cmp: Comparison, shared: string): Promise<void> {
  const dir = join(cmp.runDir, 'peers');
  const produce = cmp.has('produce') || cmp.has('http');
  const drain = cmp.has('drain');
  if (produce || drain) {
    log('etcd + NATS: starting (peers-up.sh)');
    try {
      await peersUp(shared, 'peers', dir);
      for (let run = 1; run <= cmp.o.runs; run++) {
        if (produce) {
          log(`NATS produce run ${run}/${cmp.o.runs}`);
          await cmp.rec.measure(produceMetrics, 'nats', () =>
            runPeerScript(shared, 'peers.mjs', ['nats', '64', cmp.duration, '256'], { label: `nats produce ${run}`, timeoutMs: (cmp.o.durationS + 120) * 1000 }),
          );
        }
        if (cmp.has('produce')) {
          log(`etcd produce run ${run}/${cmp.o.runs}`);
          await cmp.rec.measure(produceMetrics, 'etcd', () =>
            runPeerScript(shared, 'peers.mjs', ['etcd', '64', cmp.duration, '256'], { label: `etcd produce ${run}`, timeoutMs: (cmp.o.durationS + 120) * 1000 }),
          );
        }
        if (drain) {
          log(`NATS drain run ${run}/${cmp.o.runs}`);
          await cmp.rec.measure({ 'drain.rate': (r) => rate(r, 'msgs_per_s') }, 'nats', () =>
            runPeerScript(shared, 'consume.mjs', ['nats', String(cmp.o.drainMessages), '4', '256'], { label: `nats drain ${run}`, timeoutMs: 1_800_000 }),
          );
        }
      }
    } catch (e) {
      peerFailed(cmp, ['nats', ...(cmp.has('produce') ? (['etcd'] as const) : [])], [...(produce ? ['produce.rate', 'produce.p99'] : []), ...(drain ? ['drain.rate'] : [])], e);
    } finally {
      log('etcd + NATS: stopping');
      await peersDown(shared, dir);
    }
  }
  if (cmp.has('failover')) {
    for (let trial = 1; trial <= cmp.o.trials; trial++) {
      log(`etcd + NATS failover trial ${trial}/${cmp.o.trials}: fresh clusters`);
      try {
        await peersUp(shared, 'peers', dir);
        for (const sys of ['etcd', 'nats'] as const) {
          log(`${sys} failover trial ${trial}/${cmp.o.trials}`);
          if (sys === 'etcd' && !hasEtcdctl()) {
            cmp.rec.fail(Object.keys(failoverMetrics), 'etcd', 'etcdctl is not installed (failover.mjs etcd finds the leader with it: apt-get install etcd-client)', 1);
            continue;
          }
          await cmp.rec.measure(failoverMetrics, sys, () =>
            runPeerScript(shared, 'failover.mjs', [sys, dir, '16', '4', cmp.duration, '300'], { label: `${sys} failover ${trial}`, timeoutMs: (cmp.o.durationS + 180) * 1000 }),
          );
        }
      } catch (e) {
        peerFailed(cmp, ['etcd', 'nats'], Object.keys(failoverMetrics), e);
      } finally {
        await peersDown(shared, dir);
      }
    }
  }
}

/** RabbitMQ: throughput and drain on one cluster, then one fresh cluster per failover trial. */
export async function rabbit(cmp: Comparison, shared: string): Promise<void> {
  const dir = join(cmp.runDir, 'rabbit');
  const produce = cmp.has('produce');
  const drain = cmp.has('drain');
  if (produce || drain) {
    log('RabbitMQ: starting (rabbit-up.sh, about 30 s)');
    try {
      await peersUp(shared, 'rabbit', dir);
      for (let run = 1; run <= cmp.o.runs; run++) {
        if (produce) {
          log(`RabbitMQ produce run ${run}/${cmp.o.runs}`);
          await cmp.rec.measure(produceMetrics, 'rabbit', () =>
            runPeerScript(shared, 'rabbit.mjs', ['64', cmp.duration, '256'], { label: `rabbit produce ${run}`, timeoutMs: (cmp.o.durationS + 120) * 1000 }),
          );
        }
        if (drain) {
          log(`RabbitMQ drain run ${run}/${cmp.o.runs}`);
          await cmp.rec.measure({ 'drain.rate': (r) => rate(r, 'msgs_per_s') }, 'rabbit', () =>
            runPeerScript(shared, 'consume.mjs', ['rabbit', String(cmp.o.drainMessages), '4', '256'], { label: `rabbit drain ${run}`, timeoutMs: 1_800_000 }),
          );
        }
      }
    } catch (e) {
      peerFailed(cmp, ['rabbit'], [...(produce ? ['produce.rate', 'produce.p99'] : []), ...(drain ? ['drain.rate'] : [])], e);
    } finally {
      log('RabbitMQ: stopping');
      await peersDown(shared, dir);
    }
  }
  if (cmp.has('failover')) {
    for (let trial = 1; trial <= cmp.o.trials; trial++) {
      log(`RabbitMQ failover trial ${trial}/${cmp.o.trials}: fresh cluster`);
      try {
        await peersUp(shared, 'rabbit', dir);
        await cmp.rec.measure(failoverMetrics, 'rabbit', () =>
          runPeerScript(shared, 'failover.mjs', ['rabbit', dir, '16', '4', cmp.duration, '300'], { label: `rabbit failover ${trial}`, timeoutMs: (cmp.o.durationS + 180) * 1000 }),
        );
      } catch (e) {
        peerFailed(cmp, ['rabbit'], Object.keys(failoverMetrics), e);
      } finally {
        await peersDown(shared, dir);
      }
    }
  }
}

/** A peer cluster that did not start (or broke): one error attempt per system and metric. */
function peerFailed(cmp: Comparison, sys: readonly SystemName[], metrics: readonly string[], e: unknown): void {
  const error = e instanceof Error ? e.message : String(e);
  log(`error: ${error}`);
  for (const s of sys) cmp.rec.fail(metrics, s, error, 1);
}

/** Whether etcdctl runs (failover.mjs etcd needs it). */
function hasEtcdctl(): boolean {
  return spawnSync('etcdctl', ['version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}
