/**
 * Storage safety with real processes: a second process on a data directory in use is refused
 * at once (DATA_DIR_LOCKED) and the first keeps serving; a node whose stored log was damaged
 * (a flipped bit in an entry, an entry missing from the middle) refuses to start with an error
 * that names the index, and never repairs anything silently.
 */
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { Level } from 'level';
import { logBlockKey } from '../../src/storage/keys.js';
import { Cluster, freePorts, queueState } from './cluster-harness.js';
import { flipLogEntryBit, storedLogBlocks, storedLogIndexes } from './level-inspect.js';

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

  test('a flipped bit in a stored log entry stops the node at startup, naming the index', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const victim = followers[0];
    await cluster.kill(victim, 'SIGKILL');
    const dir = cluster.node(victim).dataDir;
    const indexes = await storedLogIndexes(dir);
    expect(indexes.length).toBeGreaterThan(20);
    const index = indexes[Math.floor(indexes.length / 2)]!;
    await flipLogEntryBit(dir, index);

    for (let attempt = 0; attempt < 2; attempt++) {
      // Twice: a refused start changes nothing, so the second start is refused the same way.
      await cluster.restart(victim);
      const exit = await cluster.waitForExit(victim, 20_000);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      const stderr = cluster.stderr(victim);
      expect(stderr).toContain('STORAGE_CORRUPT');
      expect(stderr).toContain(`log[${index}]`);
      expect(stderr).toMatch(/checksum mismatch/);
    }
    // The two healthy nodes are a majority: the cluster goes on.
    await cluster.ok(leader, 'POST', '/v1/queues/safe/messages', { body: 'after-corruption' });
    expect((await queueState(cluster, followers[1], 'safe')).counts.visible).toBe(23);
  });

  test('an entry missing from the middle of the log (a gap) stops the node, naming the index', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const victim = followers[1];
    await cluster.kill(victim, 'SIGKILL');
    const dir = cluster.node(victim).dataDir;
    // Drop a whole block from the middle of the log: its first entry is the first one missing.
    const blocks = await storedLogBlocks(dir);
    expect(blocks.length).toBeGreaterThan(2);
    const missing = blocks[Math.floor(blocks.length / 2)]!.first;
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false });
    await db.open();
    await db.del(logBlockKey(missing), { sync: true });
    await db.close();

    await cluster.restart(victim);
    const exit = await cluster.waitForExit(victim, 20_000);
    expect(exit.code).not.toBe(0);
    const stderr = cluster.stderr(victim);
    expect(stderr).toContain('STORAGE_CORRUPT');
    expect(stderr).toContain(`log[${missing}]`);
    expect(stderr).toMatch(/gap in the log/);
    // The leader is alone now but alive: corruption elsewhere never takes it down.
    expect(cluster.isRunning(leader)).toBe(true);
    expect((await cluster.http(leader, 'GET', '/health')).status).toBe(200);
  });
});

function readText(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}
