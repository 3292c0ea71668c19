/**
 * Membership changes end to end with real processes: a fourth node joins (`raftq server
 * --join`), `raftq member add` makes it a learner, waits for it to catch up and promotes it;
 * the cluster survives kill -9 of an original node and the new node holds every acknowledged
 * message; removing the dead node shrinks the quorum, so the cluster then commits with two of
 * its three remaining voters. Bad requests get stable error codes.
 */
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster, drainQueue, queueState, waitFor } from '../integration/cluster-harness.js';
import { addNodeHandle, enqueueAcked, httpOf, runCli } from './ops-helpers.js';

interface Members {
  readonly leader: string | null;
  readonly confState: { voters: string[]; learners: string[] };
  readonly members: Array<{ id: string; role: string; peer?: string; match?: number }>;
}

async function post(cluster: Cluster, id: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: { error?: { code: string; message: string; leader?: { id: string } } } & Record<string, unknown> }> {
  const res = await fetch(`http://${httpOf(cluster, id)}/v1/cluster/members`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

describe('membership: add, promote, remove', { timeout: 90_000 }, () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ name: 'ops-members' });
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  test('bad requests get stable error codes', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    // Through a follower: forwarded to the leader, its error comes back unchanged.
    const unknown = await post(cluster, follower, { action: 'remove', id: 'n9' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.code).toBe('INVALID_ARGUMENT');
    expect(unknown.body.error?.message).toMatch(/not a member/);
    const voter = await post(cluster, leader.id, { action: 'add', id: 'n2', peer: '127.0.0.1:1' });
    expect(voter.status).toBe(400);
    expect(voter.body.error?.message).toMatch(/already a voter/);
    const promote = await post(cluster, leader.id, { action: 'promote', id: 'n9' });
    expect(promote.body.error?.code).toBe('INVALID_ARGUMENT');
    const noPeer = await post(cluster, leader.id, { action: 'add', id: 'n9' });
    expect(noPeer.body.error?.message).toMatch(/peer address/);
    const badAction = await post(cluster, leader.id, { action: 'grow', id: 'n9' });
    expect(badAction.status).toBe(400);
    // A follower asked directly (already forwarded once) answers NOT_LEADER with the hint.
    const direct = await post(cluster, follower, { action: 'remove', id: 'n9' }, { 'raftq-forwarded': 'test' });
    expect(direct.status).toBe(421);
    expect(direct.body.error?.code).toBe('NOT_LEADER');
    expect(direct.body.error?.leader?.id).toBe(leader.id);
    // Two changes at once: the second is refused while the first is not applied.
    const [a, b] = await Promise.all([
      post(cluster, leader.id, { action: 'add', id: 'x1', peer: '127.0.0.1:9' }),
      post(cluster, leader.id, { action: 'add', id: 'x2', peer: '127.0.0.1:10' }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 503]);
    expect([a, b].find((r) => r.status === 503)!.body.error?.code).toBe('UNAVAILABLE');
    // A learner that never caught up cannot be promoted (it would cost availability).
    const added = a.status === 200 ? 'x1' : 'x2';
    const early = await post(cluster, leader.id, { action: 'promote', id: added });
    expect(early.status).toBe(503);
    expect(early.body.error?.message).toMatch(/has not caught up/);
    const removed = await post(cluster, leader.id, { action: 'remove', id: added });
    expect(removed.status).toBe(200);
    expect(removed.body['confState']).toEqual({ voters: ['n1', 'n2', 'n3'], learners: [] });
  });

  test('a fourth node joins, replaces a dead one, and the quorum follows the membership', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const first = await cluster.waitForLeader();
    await cluster.ok(first.id, 'PUT', '/v1/queues/jobs', {});
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      await enqueueAcked(cluster, cluster.runningIds(), 'jobs', `a-${i}`);
      sent.push(`a-${i}`);
    }

    // Start n4 as a joining node: not a member, never campaigns.
    const n4 = await addNodeHandle(cluster, 'n4');
    cluster.spawn('n4', ['--join']);
    await cluster.waitForLog('n4', 'joining: not a member yet; waiting for the leader to add this node (raftq member add)');
    const before = await waitFor('n4 to serve HTTP', () => cluster.status('n4', 1000));
    expect(before.role).toBe('follower');

    const add = await runCli(cluster, 'member-add', ['member', 'add', 'n4', `127.0.0.1:${n4.peerPort}:${n4.clientPort}:${n4.httpPort}`, '--node', httpOf(cluster, 'n1')]);
    expect(add.stderr).toBe('');
    expect(add.exit.code).toBe(0);
    expect(add.stdout).toMatch(/added n4 as a learner/);
    expect(add.stdout).toMatch(/promoted n4 to voter/);
    // It caught up by snapshot (the log was compacted when n4 was added).
    expect(cluster.findLogs('n4', 'installed snapshot').length).toBeGreaterThan(0);

    const list = await runCli(cluster, 'member-list', ['member', 'list', '--node', httpOf(cluster, 'n4'), '--json']);
    expect(list.exit.code).toBe(0);
    const members = JSON.parse(list.stdout) as Members;
    expect(members.confState).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    expect(members.members.find((m) => m.id === 'n4')?.peer).toBe(`127.0.0.1:${n4.peerPort}`);

    for (let i = 0; i < 20; i++) {
      await enqueueAcked(cluster, ['n4', 'n1'], 'jobs', `b-${i}`);
      sent.push(`b-${i}`);
    }

    // kill -9 an original node (the leader): n4 is a voter, the cluster goes on.
    const leader = await cluster.waitForLeader();
    const dead = leader.id === 'n4' ? 'n1' : leader.id;
    await cluster.kill(dead, 'SIGKILL');
    const alive = cluster.runningIds();
    for (let i = 0; i < 20; i++) {
      await enqueueAcked(cluster, alive, 'jobs', `c-${i}`);
      sent.push(`c-${i}`);
    }

    // Remove the dead node: three voters remain (two originals and n4).
    const rm = await runCli(cluster, 'member-remove', ['member', 'remove', dead, '--node', httpOf(cluster, 'n4')]);
    expect(rm.exit.code).toBe(0);
    expect(rm.stdout).toMatch(new RegExp(`removed ${dead}`));
    const after = await waitFor('n4 to apply the removal', async () => {
      const m = await cluster.ok<Members>('n4', 'GET', '/v1/cluster/members');
      return m.confState.voters.length === 3 ? m : undefined;
    });
    expect(after.confState.voters).toEqual(['n1', 'n2', 'n3', 'n4'].filter((id) => id !== dead));

    // Kill a second original node: with four voters 2 of 4 could not commit; with three, 2 of 3 can.
    const second = alive.find((id) => id !== 'n4')!;
    await cluster.kill(second, 'SIGKILL');
    const rest = cluster.runningIds();
    expect(rest).toHaveLength(2);
    expect(rest).toContain('n4');
    await cluster.waitForLeader({ among: rest, timeoutMs: 20_000 });
    for (let i = 0; i < 10; i++) {
      await enqueueAcked(cluster, rest, 'jobs', `d-${i}`);
      sent.push(`d-${i}`);
    }

    // n4 holds every acknowledged message.
    const q = await queueState(cluster, 'n4', 'jobs');
    expect(q.counts.visible).toBe(sent.length);
    const drained = await drainQueue(cluster, 'n4', 'jobs');
    expect([...drained].sort()).toEqual([...sent].sort());
  });
});
