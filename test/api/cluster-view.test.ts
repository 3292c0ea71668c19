/**
 * The one cluster/members view builder (src/api/cluster-view.ts) and how each protocol renders
 * an unknown leader: the view says undefined, HTTP JSON null (GET /v1/cluster and
 * /v1/cluster/members), the binary ClusterStatus '' (a proto3 string).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { runOp, type BinaryContext } from '../../src/api/binary-ops.js';
import { clusterView, membersView } from '../../src/api/cluster-view.js';
import { HttpApi } from '../../src/api/http-server.js';
import { Metrics } from '../../src/api/metrics.js';
import type { CommandResult } from '../../src/queue/index.js';
import { clusterNodes } from '../../src/server/membership.js';
import type { NodeRuntime, NodeStatus } from '../../src/server/node-runtime.js';
import { QueueApplication, type QueueReply } from '../../src/server/queue-app.js';

/** A follower of a three-node cluster that knows no leader (or `leader`). */
function fakeNode(leader: string): NodeRuntime<CommandResult, QueueReply> {
  const status: NodeStatus = {
    id: 'n1',
    role: leader === 'n1' ? 'leader' : 'follower',
    term: 3,
    leader,
    commitIndex: 10,
    appliedIndex: 9,
    lastIndex: 10,
    snapshotIndex: 0,
    confState: { voters: ['n1', 'n2', 'n3'], learners: [] },
    progress: {},
    peersConnected: { n2: true, n3: false },
  };
  const peers = { n1: { host: '127.0.0.1', peerPort: 7101, httpPort: 8001 }, n2: { host: '127.0.0.1', peerPort: 7102, clientPort: 7002 }, n3: { host: '127.0.0.1', peerPort: 7103 } };
  return {
    config: { nodeId: 'n1', peers },
    status: () => status,
    leader: () => undefined,
    members: () => ({ leader, confState: status.confState, commitIndex: 10, members: [{ id: 'n1', role: 'voter', peer: '127.0.0.1:7101' }] }),
    clusterNodes: (st: NodeStatus = status) => clusterNodes(peers, st),
  } as unknown as NodeRuntime<CommandResult, QueueReply>;
}

let api: HttpApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function httpGet(node: NodeRuntime<CommandResult, QueueReply>, path: string): Promise<Record<string, unknown>> {
  const app = new QueueApplication();
  api = new HttpApi({ node, app, logger: pino({ level: 'silent' }), metrics: new Metrics(() => undefined, app, 'n1'), host: '127.0.0.1', port: 0, bodyBytesMax: 1 << 20 });
  const port = await api.listen();
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

function binaryContext(node: NodeRuntime<CommandResult, QueueReply>): BinaryContext {
  return { node, app: new QueueApplication(), logger: pino({ level: 'silent' }), closing: new AbortController().signal };
}

describe('an unknown leader', () => {
  it('is undefined in the views', () => {
    expect(clusterView(fakeNode('')).leader).toBeUndefined();
    expect(membersView(fakeNode('')).leader).toBeUndefined();
    expect(clusterView(fakeNode('n2')).leader).toBe('n2');
  });

  it('is null over HTTP, in /v1/cluster and /v1/cluster/members', async () => {
    expect(await httpGet(fakeNode(''), '/v1/cluster')).toMatchObject({ id: 'n1', role: 'follower', leader: null, term: 3 });
    await api?.close();
    expect(await httpGet(fakeNode(''), '/v1/cluster/members')).toMatchObject({ node: 'n1', leader: null, local: true });
  });

  it("is '' in the binary ClusterStatus", async () => {
    const r = await runOp(binaryContext(fakeNode('')), { id: 1, op: 'clusterStatus', args: {} });
    expect(r).toMatchObject({ clusterStatus: { id: 'n1', role: 'follower', leader: '', term: 3 } });
  });
});

describe('the nodes of the cluster view', () => {
  it('HTTP omits absent addresses; binary says ""', async () => {
    const http = await httpGet(fakeNode('n2'), '/v1/cluster');
    expect(http['leader']).toBe('n2');
    expect(http['nodes']).toEqual([
      { id: 'n1', voter: true, peer: '127.0.0.1:7101', http: '127.0.0.1:8001' },
      { id: 'n2', voter: true, peer: '127.0.0.1:7102', client: '127.0.0.1:7002', connected: true },
      { id: 'n3', voter: true, peer: '127.0.0.1:7103', connected: false },
    ]);
    const bin = await runOp(binaryContext(fakeNode('n2')), { id: 1, op: 'clusterStatus', args: {} });
    expect(bin).toMatchObject({
      clusterStatus: {
        leader: 'n2',
        nodes: [
          { id: 'n1', voter: true, peer: '127.0.0.1:7101', http: '127.0.0.1:8001', client: '', state: '' },
          { id: 'n2', voter: true, peer: '127.0.0.1:7102', http: '', client: '127.0.0.1:7002', state: '', connected: true },
          { id: 'n3', voter: true, peer: '127.0.0.1:7103', http: '', client: '', state: '', connected: false },
        ],
      },
    });
  });
});
