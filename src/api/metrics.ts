import { statfsSync } from 'node:fs';
import client from 'prom-client';
import type { QueueApplication } from '../server/queue-app.js';
import type { NodeMetrics } from '../server/metrics-hooks.js';
import type { NodeStatus } from '../server/node-runtime.js';
import type { TransportCounters } from '../transport/index.js';

/** What metrics read from a node at scrape time. */
export interface MetricsSource {
  status(): NodeStatus;
  readonly raftStats: { readonly elections: number };
  readonly config: { readonly dataDir: string };
  transportStats(): TransportCounters;
}

/**
 * Prometheus metrics of one node (prefix `raftq_`): Raft state and activity, fsync and batch
 * sizes, per-queue depth, plus the process defaults. Gauges are read from the node at scrape
 * time; counters and histograms are fed by the runtime through NodeMetrics.
 */
export class Metrics implements NodeMetrics {
  readonly registry = new client.Registry();
  readonly #proposals: client.Counter;
  readonly #proposalBatch: client.Histogram;
  readonly #fsync: client.Histogram;
  readonly #persistBatch: client.Histogram;
  readonly #applied: client.Counter;
  readonly #leaderChanges: client.Counter;
  readonly #compactions: client.Counter;
  readonly #snapshotsSent: client.Counter;
  readonly #storageRepairs: client.Counter;
  readonly httpRequests: client.Counter<'route' | 'status'>;
  /** Binary protocol requests by op and result code ("OK" on success). */
  readonly binaryRequests: client.Counter<'op' | 'code'>;
  /** Open binary protocol connections. */
  readonly binaryConnections: client.Gauge;

  constructor(node: () => MetricsSource | undefined, app: QueueApplication, nodeId: string) {
    const r = this.registry;
    r.setDefaultLabels({ node: nodeId });
    client.collectDefaultMetrics({ register: r, prefix: 'raftq_process_' });
    this.#proposals = new client.Counter({ name: 'raftq_proposals_total', help: 'Client commands appended to the log by this node as leader', registers: [r] });
    this.#proposalBatch = new client.Histogram({ name: 'raftq_proposal_batch_size', help: 'Commands per proposal batch (one append)', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: [r] });
    this.#fsync = new client.Histogram({ name: 'raftq_fsync_seconds', help: 'Duration of the synced write of one Ready', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1], registers: [r] });
    this.#persistBatch = new client.Histogram({ name: 'raftq_persist_batch_entries', help: 'Log entries persisted per fsync (group commit)', buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: [r] });
    this.#applied = new client.Counter({ name: 'raftq_applied_entries_total', help: 'Committed entries applied', registers: [r] });
    this.#leaderChanges = new client.Counter({ name: 'raftq_leader_changes_total', help: 'Leader changes seen by this node', registers: [r] });
    this.#compactions = new client.Counter({ name: 'raftq_log_compactions_total', help: 'Log compactions', registers: [r] });
    this.#snapshotsSent = new client.Counter({ name: 'raftq_snapshots_sent_total', help: 'Snapshots streamed to followers', registers: [r] });
    this.#storageRepairs = new client.Counter({ name: 'raftq_storage_repairs_total', help: 'Damaged data directories moved aside and recreated at open (the node then recovers from its peers)', registers: [r] });
    this.httpRequests = new client.Counter({ name: 'raftq_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [r] });
    this.binaryRequests = new client.Counter({ name: 'raftq_client_requests_total', help: 'Binary protocol requests by op and result code', labelNames: ['op', 'code'], registers: [r] });
    this.binaryConnections = new client.Gauge({ name: 'raftq_client_connections', help: 'Open binary protocol connections', registers: [r] });
    const status = () => node()?.status();
    const gauge = (name: string, help: string, read: () => number | undefined): void => {
      new client.Gauge({
        name,
        help,
        registers: [r],
        collect() {
          const v = read();
          if (v !== undefined) this.set(v);
        },
      });
    };
    gauge('raftq_term', 'Current Raft term', () => status()?.term);
    gauge('raftq_is_leader', '1 if this node is the leader', () => (status() === undefined ? undefined : status()!.role === 'leader' ? 1 : 0));
    gauge('raftq_commit_index', 'Raft commit index', () => status()?.commitIndex);
    gauge('raftq_applied_index', 'Applied index', () => status()?.appliedIndex);
    gauge('raftq_last_index', 'Last log index', () => status()?.lastIndex);
    gauge('raftq_apply_lag_entries', 'Commit index minus applied index', () => {
      const s = status();
      return s === undefined ? undefined : s.commitIndex - s.appliedIndex;
    });
    gauge('raftq_elections_total', 'Elections this node started', () => node()?.raftStats.elections);
    // Transport counters are monotonic totals kept by the transport; exported as counters
    // sampled at scrape time.
    const transportCounter = (name: string, help: string, read: (c: TransportCounters) => number): void => {
      let exported = 0;
      new client.Counter({
        name,
        help,
        registers: [r],
        collect() {
          const n = node();
          if (n === undefined) return;
          const v = read(n.transportStats());
          if (v > exported) {
            this.inc(v - exported);
            exported = v;
          }
        },
      });
    };
    transportCounter('raftq_transport_sent_bytes_total', 'Bytes written to peer sockets', (c) => c.bytesSent);
    transportCounter('raftq_transport_received_bytes_total', 'Bytes read from peer sockets', (c) => c.bytesReceived);
    transportCounter('raftq_transport_sent_frames_total', 'Frames written to peers', (c) => c.framesSent);
    transportCounter('raftq_transport_received_frames_total', 'Frames read from peers', (c) => c.framesReceived);
    transportCounter('raftq_transport_reconnects_total', 'Outbound peer reconnects', (c) => c.reconnects);
    transportCounter('raftq_transport_dropped_messages_total', 'Raft messages dropped (queue full, peer down, oversize, misaddressed)', (c) => c.dropsQueueFull + c.dropsDisconnected + c.dropsOversize + c.dropsMisaddressed);
    transportCounter('raftq_transport_rejected_frames_total', 'Inbound connections closed for a bad frame', (c) => c.framesRejected);
    new client.Gauge({
      name: 'raftq_peer_connected',
      help: '1 if the outbound connection to the peer is up',
      labelNames: ['peer'],
      registers: [r],
      collect() {
        const s = status();
        if (s === undefined) return;
        for (const [peer, up] of Object.entries(s.peersConnected)) this.set({ peer }, up ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'raftq_follower_match_index',
      help: 'Leader only: the match index of each follower',
      labelNames: ['peer'],
      registers: [r],
      collect() {
        this.reset();
        const s = status();
        if (s === undefined) return;
        for (const [peer, p] of Object.entries(s.progress)) this.set({ peer }, p.match);
      },
    });
    // Free space of the filesystem holding the data directory (what node_exporter's
    // node_filesystem_avail_bytes / node_filesystem_size_bytes give, without a node_exporter):
    // the "disk nearly full" alert reads these.
    const dataDirFs = (read: (st: { bavail: number; blocks: number; bsize: number }) => number) => (): number | undefined => {
      const dir = node()?.config.dataDir;
      if (dir === undefined) return undefined;
      try {
        return read(statfsSync(dir));
      } catch {
        return undefined;
      }
    };
    gauge('raftq_data_dir_available_bytes', 'Bytes available to raftq on the filesystem holding the data directory', dataDirFs((st) => st.bavail * st.bsize));
    gauge('raftq_data_dir_capacity_bytes', 'Size in bytes of the filesystem holding the data directory', dataDirFs((st) => st.blocks * st.bsize));
    const queueGauge = (name: string, help: string, read: (st: { visible: number; inFlight: number; delayed: number; oldestMessageAgeMs: number; deadLettered: number }) => number): void => {
      new client.Gauge({
        name,
        help,
        labelNames: ['queue'],
        registers: [r],
        collect() {
          this.reset();
          for (const q of app.stateMachine.listQueues()) this.set({ queue: q.name }, read(q.stats));
        },
      });
    };
    queueGauge('raftq_queue_visible_messages', 'Messages a receive could deliver now', (s) => s.visible);
    queueGauge('raftq_queue_inflight_messages', 'Delivered messages within their visibility timeout', (s) => s.inFlight);
    queueGauge('raftq_queue_delayed_messages', 'Messages waiting out their delay', (s) => s.delayed);
    queueGauge('raftq_queue_oldest_message_age_seconds', 'Age of the oldest message', (s) => s.oldestMessageAgeMs / 1000);
    queueGauge('raftq_queue_dead_lettered_total', 'Messages moved to the dead-letter queue', (s) => s.deadLettered);
  }

  proposed(count: number): void {
    this.#proposals.inc(count);
    this.#proposalBatch.observe(count);
  }

  persisted(syncMs: number, entries: number): void {
    this.#fsync.observe(syncMs / 1000);
    this.#persistBatch.observe(entries);
  }

  applied(count: number): void {
    this.#applied.inc(count);
  }

  leaderChanged(): void {
    this.#leaderChanges.inc();
  }

  compacted(): void {
    this.#compactions.inc();
  }

  snapshotSent(): void {
    this.#snapshotsSent.inc();
  }

  storageRepaired(): void {
    this.#storageRepairs.inc();
  }
}
