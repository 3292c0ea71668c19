/**
 * `raftq bench --scenario backlog`: preload a large backlog and report what it costs each node
 * in memory (RSS from each node's GET /v1/cluster, sampled while loading and at the end). The
 * backlog is left in place, so restarts with it can be measured afterwards.
 */
import { Client } from '../client/client.js';
import { httpAddresses, nodeViews } from './bench-cluster.js';
import { preload, type PreloadResult } from './bench-preload.js';

/** Settings of the backlog scenario. */
export interface BacklogSettings {
  /** The queue, kept afterwards. */
  readonly queue: string;
  readonly messages: number;
  readonly size: number;
  /** Preload batches in flight. */
  readonly inFlight: number;
}

/** One node's memory, as it reported it. */
export interface NodeMemory {
  readonly id: string;
  readonly http: string;
  /** Role at the end of the run ('unreachable' when it did not answer). */
  readonly role: string;
  /** RSS at the end of the run (0 when unreachable). */
  readonly rssBytes: number;
  /** Largest RSS seen while loading (sampled every 2 s) and at the end. */
  readonly peakRssBytes: number;
}

/** What `raftq bench --scenario backlog --json` prints. */
export interface BacklogResult {
  readonly scenario: 'backlog';
  /** The queue holding the backlog (kept). */
  readonly queue: string;
  readonly messages: number;
  readonly messageBytes: number;
  /** Messages acknowledged. */
  readonly sent: number;
  readonly preloadS: number;
  readonly preloadPerS: number;
  /** Visible messages in the queue at the end. */
  readonly visible: number;
  readonly nodes: readonly NodeMemory[];
  /** The largest peak RSS of any node. */
  readonly maxRssBytes: number;
}

/** How often RSS is sampled while loading. */
const sampleEveryMs = 2000;

/** Runs the backlog scenario against the cluster at `nodes`. */
export async function runBacklog(nodes: string[], timeoutMs: number, s: BacklogSettings): Promise<BacklogResult> {
  const admin = new Client({ nodes, retryTimeoutMs: timeoutMs, name: 'raftq-bench' });
  const loader = new Client({ nodes, name: 'raftq-bench-preload' });
  try {
    await admin.createQueue(s.queue);
    const addresses = await httpAddresses(admin);
    const peak = new Map<string, number>();
    const rss = new Map<string, number>();
    const sample = async (): Promise<void> => {
      for (const v of await nodeViews(addresses)) {
        if (v.view === undefined) continue;
        rss.set(v.id, v.view.rssBytes);
        peak.set(v.id, Math.max(peak.get(v.id) ?? 0, v.view.rssBytes));
      }
    };
    let sampling: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      sampling = sampling.then(sample, () => {});
    }, sampleEveryMs);
    const mb = (id: string): string => `${id} ${Math.round((rss.get(id) ?? 0) / 1048576)} MB`;
    let pre: PreloadResult;
    try {
      pre = await preload(loader, s.queue, {
        count: s.messages,
        size: s.size,
        inFlight: s.inFlight,
        random: true,
        label: 'backlog',
        extra: () => (rss.size > 0 ? [`RSS ${addresses.map((a) => mb(a.id)).join(', ')}`] : []),
      });
    } finally {
      clearInterval(timer);
      await sampling.catch(() => {});
    }
    const views = await nodeViews(addresses);
    const memory: NodeMemory[] = views.map((v) => {
      const now = v.view?.rssBytes ?? 0;
      return { id: v.id, http: v.http, role: v.view?.role ?? 'unreachable', rssBytes: now, peakRssBytes: Math.max(now, peak.get(v.id) ?? 0) };
    });
    const visible = (await admin.getQueue(s.queue)).stats.visible;
    return {
      scenario: 'backlog',
      queue: s.queue,
      messages: s.messages,
      messageBytes: s.size,
      sent: pre.sent,
      preloadS: Math.round(pre.elapsedMs / 10) / 100,
      preloadPerS: Math.round(pre.sent / (pre.elapsedMs / 1000)),
      visible,
      nodes: memory,
      maxRssBytes: Math.max(0, ...memory.map((m) => m.peakRssBytes)),
    };
  } finally {
    await loader.close().catch(() => {});
    await admin.close();
  }
}

/** The human summary of a backlog run. */
export function describeBacklog(r: BacklogResult): string {
  const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;
  return [
    `raftq bench backlog: ${r.sent} of ${r.messages} x ${r.messageBytes} B messages into queue ${r.queue} (kept) in ${r.preloadS} s  ${r.preloadPerS} msgs/s; ${r.visible} visible`,
    ...r.nodes.map((n) => `${n.id.padEnd(6)} ${n.role.padEnd(11)} RSS ${mb(n.rssBytes)}  peak ${mb(n.peakRssBytes)}`),
    `max RSS   ${mb(r.maxRssBytes)}`,
  ].join('\n');
}
