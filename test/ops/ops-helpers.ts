/**
 * Helpers of the operations tests: a node added to a running harness cluster (its own free
 * ports and directory), CLI runs through the harness (tracked and cleaned up like nodes), and
 * message bookkeeping.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, freePorts, type ExitInfo, type NodeHandle } from '../integration/cluster-harness.js';

/**
 * Registers node `id` with the cluster (fresh ports and directory) without starting it: the
 * harness then spawns, kills and calls it like the others, and every node's --peers names it
 * from now on (what the runbook tells an operator to do for restarts after the change).
 */
export async function addNodeHandle(cluster: Cluster, id: string): Promise<NodeHandle> {
  const [peerPort, clientPort, httpPort] = (await freePorts(3)) as [number, number, number];
  const n: NodeHandle = { id, peerPort, clientPort, httpPort, dataDir: join(cluster.root, id), logFile: join(cluster.root, `${id}.log`), errFile: join(cluster.root, `${id}.err`) };
  // The harness keeps its nodes in a Map; tests may extend it.
  (cluster.nodes as Map<string, NodeHandle>).set(id, n);
  return n;
}

/** Removes node `id` from the harness's map (after it left the cluster and was stopped). */
export function dropNodeHandle(cluster: Cluster, id: string): void {
  (cluster.nodes as Map<string, NodeHandle>).delete(id);
}

/** Runs `raftq ARGS...` to completion; returns its exit and output. */
export async function runCli(cluster: Cluster, name: string, args: readonly string[], timeoutMs = 60_000): Promise<{ exit: ExitInfo; stdout: string; stderr: string }> {
  const p = cluster.spawnExtra(name, args);
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    p.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (p.pid !== undefined) process.kill(p.pid, 'SIGKILL');
        reject(new Error(`raftq ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${readFileSync(p.stdoutFile, 'utf8')}\n${readFileSync(p.stderrFile, 'utf8')}`));
      }, timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return { exit, stdout: readFileSync(p.stdoutFile, 'utf8'), stderr: readFileSync(p.stderrFile, 'utf8') };
}

/** HTTP address of node `id`. */
export function httpOf(cluster: Cluster, id: string): string {
  return `127.0.0.1:${cluster.node(id).httpPort}`;
}

/**
 * Enqueues `body` through the nodes in `among` (rotating on failure) with an Idempotency-Key,
 * retrying until acknowledged: a retry after an unknown outcome never duplicates.
 */
export async function enqueueAcked(cluster: Cluster, among: readonly string[], queue: string, body: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const id = among[attempt % among.length]!;
    try {
      const res = await fetch(`http://${httpOf(cluster, id)}/v1/queues/${queue}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `k-${body}` },
        body: JSON.stringify({ body }),
        signal: AbortSignal.timeout(5000),
      });
      if (res.status === 200) return;
      last = `HTTP ${res.status} ${await res.text()}`;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`enqueue of ${body} not acknowledged within ${timeoutMs} ms: ${String(last)}`);
}
