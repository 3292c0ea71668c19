/**
 * Storage safety with real processes: a second process on a data directory in use is refused
 * at once (DATA_DIR_LOCKED) and the first keeps serving; a node whose stored log was damaged
 * (a flipped bit in an entry, an entry missing from the middle) says so in one error line that
 * names the index, moves its directory aside and starts from a fresh one marked recovering,
 * from which it catches up with its peers (raft/recovery.ts) before it is ready again.
 */
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { storageDamagedMessage } from '../../src/storage/repair.js';
import { Cluster, freePorts, queueState, waitFor } from './cluster-harness.js';
import { cutLogEntry, flipLogEntryBit, readIdentity, readRecovering, storedLogIndexes } from './level-inspect.js';

describe('storage safety', { timeout: 60_000 }, () => {
  let cluster: Cluster;
  let leader: string;
  let followers: [string, string];

  beforeAll(async () => {
    cluster = await Cluster.start({ name: 'storage' });
    leader = (await cluster.waitForLeader()).id;
    followers = cluster.ids.filter((id) => id !== leader) as [string, string];
    await cluster.ok(leader, 'PUT', '/v1/queues/safe', {});
    for (let i = 0; i < 20; i++) await cluster.ok(cluster.ids[i % 3]!, 'POST', '/v1/queues/safe/messages', { body: `m-${i}` });
    await cluster.waitForConvergence();
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  test('a second process on a locked data directory is refused; the first keeps running', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    for (const target of [leader, followers[0]]) {
      // Its own ports are fresh, so only the lock can stop it (not a port already in use).
      const [peerPort, clientPort, httpPort] = (await freePorts(3)) as [number, number, number];
      const peers = cluster.ids
        .map((id) => {
          const n = cluster.node(id);
          return id === target ? `${id}=127.0.0.1:${peerPort}:${clientPort}:${httpPort}` : `${id}=127.0.0.1:${n.peerPort}:${n.clientPort}:${n.httpPort}`;
        })
        .join(',');
      const second = cluster.spawnExtra(`second-${target}`, [
        'server', '--node-id', target, '--cluster-id', cluster.clusterId, '--peers', peers, '--data-dir', cluster.node(target).dataDir,
      ]);
      const exit = await Promise.race([second.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 15_000))]);
      expect(exit).not.toBe('still running');
      if (exit === 'still running') return;
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      const stderr = readText(second.stderrFile);
      expect(stderr).toContain('DATA_DIR_LOCKED');
      expect(stderr).toContain(cluster.node(target).dataDir);
      // The first process is untouched: alive, serving, and the cluster takes writes through it.
      expect(cluster.isRunning(target)).toBe(true);
      expect((await cluster.http(target, 'GET', '/health')).status).toBe(200);
      await cluster.ok(target, 'POST', '/v1/queues/safe/messages', { body: `after-lock-${target}` });
    }
    await cluster.waitForConvergence();
    for (const id of cluster.ids) expect((await queueState(cluster, id, 'safe')).counts.visible).toBe(22);
  });

  /**
   * Restarts `victim` on its damaged directory and checks the repair: one error line naming the
   * damage (`damage` matching), the directory moved aside, and in its place a fresh directory
   * with the same identity and a recovering marker. Then stops the victim again: a node that
   * catches up while recovering (not voting, not counted in quorums) is the Raft core's part
   * (storage.recovering), tested there; the two healthy nodes go on meanwhile.
   */
  async function expectRepaired(victim: string, damage: RegExp): Promise<void> {
    const dir = cluster.node(victim).dataDir;
    await cluster.restart(victim);
    const line = await cluster.waitForLog(victim, storageDamagedMessage);
    expect(String(line['damage'])).toMatch(damage);
    const quarantined = String(line['quarantinedAs']);
    expect(quarantined.startsWith(`${dir}.damaged-`)).toBe(true);
    expect(quarantined.slice(dir.length)).toMatch(/^\.damaged-\d{8}T\d{6}\.\d{3}Z$/);
    await cluster.waitForLog(victim, 'storage is recovering: rebuilt after damage, not yet caught up with a leader');
    await cluster.kill(victim, 'SIGKILL');
    expect(existsSync(quarantined)).toBe(true);
    expect(cluster.findLogs(victim, storageDamagedMessage)).toHaveLength(1);
    expect(await readIdentity(dir)).toMatchObject({ clusterId: cluster.clusterId, nodeId: victim });
    expect(await readRecovering(dir)).toMatchObject({ reason: expect.stringMatching(damage) });
  }

  test('a flipped bit in a stored log entry: the node moves the directory aside and starts fresh, marked recovering', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const victim = followers[0];
    await cluster.kill(victim, 'SIGKILL');
    const dir = cluster.node(victim).dataDir;
    const indexes = storedLogIndexes(dir);
    expect(indexes.length).toBeGreaterThan(20);
    const index = indexes[Math.floor(indexes.length / 2)]!;
    const damaged = flipLogEntryBit(dir, index);
    await expectRepaired(victim, new RegExp(`segment \\d{20}\\.seg at byte ${damaged.offset}`));
    // The two healthy nodes are a majority: the cluster goes on.
    await cluster.ok(leader, 'POST', '/v1/queues/safe/messages', { body: 'after-corruption' });
    expect((await queueState(cluster, followers[1], 'safe')).counts.visible).toBe(23);
    // Restarted while still marked recovering, the victim catches up from its peers, says so,
    // and holds everything again; its marker is gone once it voted nothing until then.
    await cluster.restart(victim);
    await cluster.waitForLog(victim, 'recovered from storage damage: voting and counting in quorums again');
    await cluster.waitForLog(victim, 'storage recovered: caught up with a leader');
    await cluster.waitForConvergence();
    expect((await queueState(cluster, victim, 'safe')).counts.visible).toBe(23);
    await waitFor('the victim to be ready', async () => (await cluster.http(victim, 'GET', '/ready')).status === 200);
    await cluster.kill(victim, 'SIGKILL');
    expect(await readRecovering(dir)).toBeUndefined();
    await cluster.restart(victim);
    await cluster.waitForConvergence();
  });

  test('an entry missing from the middle of the log (a gap): the node moves the directory aside and starts fresh, marked recovering', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const victim = followers[1];
    await cluster.kill(victim, 'SIGKILL');
    const dir = cluster.node(victim).dataDir;
    // Cut one record out of the middle of the log: the records after it jump over its index.
    const indexes = storedLogIndexes(dir);
    expect(indexes.length).toBeGreaterThan(2);
    const missing = indexes[Math.floor(indexes.length / 2)]!;
    const cut = cutLogEntry(dir, missing);
    await expectRepaired(victim, new RegExp(`segment \\d{20}\\.seg at byte ${cut.offset}`));
    // The leader is alone now but alive: corruption elsewhere never takes it down.
    expect(cluster.isRunning(leader)).toBe(true);
    expect((await cluster.http(leader, 'GET', '/health')).status).toBe(200);
  });
});

function readText(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}
