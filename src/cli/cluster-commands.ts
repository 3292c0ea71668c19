import { clusterFromWire } from '../client/client.js';
import { ClientConnection } from '../client/connection.js';
import type { ClusterStatus, NodeInfo } from '../client/types.js';
import { RaftqError } from '../errors.js';
import type { CommandSpec } from './cli-args.js';
import { out, withClient, type CliCommand } from './client-session.js';
import { table } from './queue-commands.js';

/** One node's row of `raftq status`. */
interface NodeRow {
  readonly id: string;
  readonly client: string | null;
  readonly http: string | null;
  readonly reachable: boolean;
  readonly role?: string;
  readonly term?: number;
  readonly leader?: string | null;
  readonly commitIndex?: number;
  readonly appliedIndex?: number;
  /** Entries this node's applied index is behind the leader's commit index. */
  lag?: number;
  readonly error?: string;
}

/** How long `raftq status` waits for each node, in milliseconds. */
const nodeTimeoutMs = 1500;

const statusSpec: CommandSpec = {
  usage: `usage: raftq status [--json]

Asks every member of the cluster for its Raft state and prints, per node: role, term, the leader
it follows, commit and applied index, and lag (entries its applied index is behind the
leader's commit index). Exits 1 when no leader is elected.`,
  flags: { json: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
};

const status: CliCommand = {
  summary: 'cluster status: leader, term, commit/applied index and lag per node',
  spec: statusSpec,
  run: (args) =>
    withClient(args, statusSpec, async (c) => {
      const first = await c.cluster();
      const rows = await Promise.all(first.nodes.map((n) => nodeRow(n)));
      const reachable = rows.filter((r) => r.reachable);
      const term = Math.max(...reachable.map((r) => r.term ?? 0));
      const leaderRow = reachable.find((r) => r.role === 'leader' && r.term === term);
      if (leaderRow !== undefined) for (const r of reachable) r.lag = Math.max(0, leaderRow.commitIndex! - r.appliedIndex!);
      if (args.values['json'] === true) {
        out(JSON.stringify({ leader: leaderRow?.id ?? null, term, nodes: rows }));
      } else {
        out(
          table(
            ['NODE', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'LAG', 'CLIENT', 'HTTP'],
            rows.map((r) =>
              r.reachable
                ? [r.id, r.role!, String(r.term), r.leader ?? '-', String(r.commitIndex), String(r.appliedIndex), r.lag === undefined ? '-' : String(r.lag), r.client ?? '-', r.http ?? '-']
                : [r.id, 'unreachable', '-', '-', '-', '-', '-', r.client ?? '-', `${r.http ?? '-'}  (${r.error})`],
            ),
          ),
        );
        out(leaderRow !== undefined ? `leader: ${leaderRow.id} (term ${term})` : 'no leader elected');
      }
      if (leaderRow === undefined) {
        process.stderr.write('error NO_LEADER: no node reports itself leader\nhint: is a majority of the nodes running?\n');
        return 1;
      }
      return 0;
    }),
};

/** Asks one node directly (no redirection to the leader) for its own status. */
async function nodeRow(n: NodeInfo): Promise<NodeRow> {
  const base = { id: n.id, client: n.client ?? null, http: n.http ?? null };
  if (n.client === undefined) return { ...base, reachable: false, error: 'no client address configured' };
  let conn: ClientConnection | undefined;
  try {
    conn = await ClientConnection.open(n.client, { connectTimeoutMs: nodeTimeoutMs, keepAliveMs: 10_000, name: 'raftq-cli status' }, { onLeader: () => {}, onClose: () => {} });
    const s: ClusterStatus = clusterFromWire(await conn.request({ clusterStatus: {} }, 'clusterStatus', nodeTimeoutMs));
    return { ...base, reachable: true, role: s.role, term: s.term, leader: s.leader, commitIndex: s.commitIndex, appliedIndex: s.appliedIndex };
  } catch (e) {
    return { ...base, reachable: false, error: e instanceof RaftqError ? `${e.code}: ${e.message}` : String(e) };
  } finally {
    conn?.close();
  }
}

const transferSpec: CommandSpec = {
  usage: `usage: raftq transfer-leader NODE

Hands leadership to NODE (a node id such as n2) and waits until it leads. Use before taking the
current leader down for maintenance.`,
  flags: {},
  positionals: { min: 1, max: 1 },
};

const transferLeader: CliCommand = {
  summary: 'hand leadership to another node',
  spec: transferSpec,
  run: (args) =>
    withClient(args, transferSpec, async (c) => {
      const leader = await c.transferLeader(args.positionals[0]!);
      out(`leader is now ${leader}`);
      return 0;
    }),
};

/** The cluster commands, by name. */
export const clusterCommands: Readonly<Record<string, CliCommand>> = { status, 'transfer-leader': transferLeader };
