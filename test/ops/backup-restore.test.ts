/**
 * Backup and restore: `raftq backup` of a cluster holding N acknowledged messages (taken
 * through a follower: the linearizable barrier makes it include every acknowledged write),
 * `raftq restore` of the same file into every node of a fresh three-node cluster with another
 * cluster id, start, drain: exactly the N messages. A truncated backup and a non-empty data
 * directory are refused.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster, drainQueue, queueState } from '../integration/cluster-harness.js';
import { enqueueAcked, httpOf, runCli } from './ops-helpers.js';

describe('backup and restore', { timeout: 90_000 }, () => {
  const clusters: Cluster[] = [];

  afterAll(async () => {
    for (const c of clusters) await c.stopAll();
  });

  test('a restored cluster holds exactly the backed-up messages', async () => {
    const source = await Cluster.start({ name: 'ops-backup' });
    clusters.push(source);
    onTestFailed(() => console.error(source.logTails()));
    const leader = await source.waitForLeader();
    await source.ok(leader.id, 'PUT', '/v1/queues/orders', { visibilityTimeoutMs: 5000 });
    await source.ok(leader.id, 'PUT', '/v1/queues/empty', {});
    const n = 150;
    const sent: string[] = [];
    for (let i = 0; i < n; i++) {
      await enqueueAcked(source, [leader.id], 'orders', `m-${i}`);
      sent.push(`m-${i}`);
    }
    const follower = source.ids.find((id) => id !== leader.id)!;
    const file = join(source.root, 'orders.backup');
    const b = await runCli(source, 'backup', ['backup', file, '--node', httpOf(source, follower)]);
    expect(b.stderr).toBe('');
    expect(b.exit.code).toBe(0);
    expect(b.stdout).toMatch(/^backup of cluster raftq-it \(from n\d\) at index \d+/);

    // Refusals: a truncated file, a non-empty data directory.
    const cut = join(source.root, 'cut.backup');
    copyFileSync(file, cut);
    truncateSync(cut, statSync(cut).size - 3);
    const target = await Cluster.start({ name: 'ops-restore', clusterId: 'raftq-restored', waitForLeader: false });
    clusters.push(target);
    onTestFailed(() => console.error(target.logTails()));
    for (const id of target.ids) await target.kill(id, 'SIGKILL');
    const bad = await runCli(target, 'restore-cut', ['restore', cut, '--data-dir', join(target.root, 'cut-dir'), '--node-id', 'n1', '--peers', target.peersFlag, '--cluster-id', target.clusterId]);
    expect(bad.exit.code).toBe(2);
    expect(bad.stderr).toMatch(/truncated/);
    expect(existsSync(join(target.root, 'cut-dir')), 'a failed restore leaves no half-seeded directory').toBe(false);
    mkdirSync(join(target.root, 'used'));
    writeFileSync(join(target.root, 'used', 'x'), 'x');
    const notEmpty = await runCli(target, 'restore-not-empty', ['restore', file, '--data-dir', join(target.root, 'used'), '--node-id', 'n1', '--peers', target.peersFlag, '--cluster-id', target.clusterId]);
    expect(notEmpty.exit.code).toBe(2);
    expect(notEmpty.stderr).toMatch(/not empty/);

    // Seed every node of the new cluster from the same file, then start them normally.
    for (const id of target.ids) {
      rmSync(target.node(id).dataDir, { recursive: true, force: true });
      const r = await runCli(target, `restore-${id}`, ['restore', file, '--data-dir', target.node(id).dataDir, '--node-id', id, '--peers', target.peersFlag, '--cluster-id', target.clusterId]);
      expect(r.stderr).toBe('');
      expect(r.exit.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`as node ${id} of cluster raftq-restored`));
    }
    for (const id of target.ids) target.spawn(id);
    const newLeader = await target.waitForLeader();
    const queues = await target.ok<{ queues: Array<{ name: string; attributes: { visibilityTimeoutMs: number } }> }>(newLeader.id, 'GET', '/v1/queues');
    expect(queues.queues.map((q) => q.name).sort()).toEqual(['empty', 'orders']);
    expect(queues.queues.find((q) => q.name === 'orders')?.attributes.visibilityTimeoutMs).toBe(5000);
    expect((await queueState(target, newLeader.id, 'orders')).counts.visible).toBe(n);
    // The new cluster takes writes after the restored state.
    await enqueueAcked(target, target.ids, 'orders', 'after-restore');
    const drained = await drainQueue(target, target.ids[1]!, 'orders');
    expect([...drained].sort()).toEqual([...sent, 'after-restore'].sort());
    // The new cluster's membership is its own.
    const members = await target.ok<{ confState: { voters: string[] }; members: Array<{ id: string; peer: string }> }>('n1', 'GET', '/v1/cluster/members');
    expect(members.confState.voters).toEqual(['n1', 'n2', 'n3']);
    expect(members.members.find((m) => m.id === 'n2')?.peer).toBe(`127.0.0.1:${target.node('n2').peerPort}`);
    expect(readFileSync(file).subarray(0, 9).toString()).toBe('RAFTQBK1\n');
  });
});
