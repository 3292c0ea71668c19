import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts, http, readDeploy, run, sleep, waitFor, which, type HttpResult } from './helpers.js';

/**
 * The real compose cluster: builds the image from deploy/Dockerfile through the compose file,
 * brings up raftq1..3 (not the observability profile), enqueues through a published port, kills
 * the leader's container, checks that a new leader is elected and that every acknowledged
 * message is still received, starts the container again and sees it catch up, then `down -v`.
 *
 * Needs a Docker-compatible engine (DOCKER_HOST or a local docker) and docker-compose; .ci/run
 * sources ../shared/containers/engine-up.sh first. Without one the test reports itself skipped.
 */

function detectEngine(): { ok: true } | { ok: false; reason: string } {
  if (which('docker') === undefined) return { ok: false, reason: 'no docker CLI on PATH' };
  if (which('docker-compose') === undefined) return { ok: false, reason: 'no docker-compose on PATH' };
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 30_000 });
  if (info.status !== 0) return { ok: false, reason: `\`docker info\` failed (DOCKER_HOST=${process.env['DOCKER_HOST'] ?? 'unset'}): ${(info.stderr || info.error?.message || '').trim().split('\n')[0]}` };
  return { ok: true };
}

const engine = process.env['RAFTQ_SKIP_COMPOSE_TEST'] === '1' ? { ok: false as const, reason: 'RAFTQ_SKIP_COMPOSE_TEST=1' } : detectEngine();
const hint = 'source ../shared/containers/engine-up.sh (or run Docker) to run it';
if (!engine.ok) console.log(`skipped: real compose cluster test: no Docker-compatible engine (${engine.reason}); ${hint}`);

const project = `raftqtest${process.pid}`;
const image = `raftq:compose-test`;
const services = ['raftq1', 'raftq2', 'raftq3'] as const;
const serviceOf = (nodeId: string): string => `raftq${nodeId.replace(/^n/, '')}`;

describe('docker-compose cluster (deploy/docker-compose.yml)', () => {
  let composeEnv: NodeJS.ProcessEnv = process.env;
  let up = false;

  const compose = async (args: string[], timeoutMs = 120_000): Promise<string> => {
    const r = await run('docker-compose', ['-p', project, '-f', 'deploy/docker-compose.yml', ...args], { env: composeEnv, timeoutMs });
    if (r.code !== 0) throw new Error(`docker-compose ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const docker = async (args: string[], timeoutMs = 60_000): Promise<string> => {
    const r = await run('docker', args, { env: composeEnv, timeoutMs });
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  afterAll(async () => {
    if (!up) return;
    const logs = await run('docker-compose', ['-p', project, '-f', 'deploy/docker-compose.yml', 'logs', '--no-color', '--tail', '40'], { env: composeEnv, timeoutMs: 60_000 });
    if (process.env['RAFTQ_COMPOSE_TEST_LOGS'] === '1') console.log(logs.stdout);
    const down = await run('docker-compose', ['-p', project, '-f', 'deploy/docker-compose.yml', 'down', '-v', '--remove-orphans', '--timeout', '10'], { env: composeEnv, timeoutMs: 180_000 });
    if (down.code !== 0) console.log(`docker-compose down -v failed: ${down.stdout}\n${down.stderr}`);
    // Dangling raftq images of earlier builds (the Dockerfile labels both stages); tagged ones stay.
    await run('docker', ['image', 'prune', '-f', '--filter', 'label=raftq.stage'], { env: composeEnv, timeoutMs: 60_000 });
  }, 240_000);

  const title = engine.ok
    ? 'build, up, enqueue, kill the leader, a new leader keeps every acknowledged message, restart catches up, down -v'
    : `real compose cluster: SKIPPED, no Docker-compatible engine (${engine.reason}); ${hint}`;
  (engine.ok ? it : it.skip)(title, async () => {
    const [c1, c2, c3, h1, h2, h3] = await freePorts(6);
    const httpPort: Record<string, number> = { raftq1: h1!, raftq2: h2!, raftq3: h3! };
    composeEnv = {
      ...process.env,
      RAFTQ_IMAGE: image,
      RAFTQ_CLUSTER_ID: project,
      RAFTQ_CLIENT_PORT_1: String(c1),
      RAFTQ_CLIENT_PORT_2: String(c2),
      RAFTQ_CLIENT_PORT_3: String(c3),
      RAFTQ_HTTP_PORT_1: String(h1),
      RAFTQ_HTTP_PORT_2: String(h2),
      RAFTQ_HTTP_PORT_3: String(h3),
    };
    const base = (service: string): string => `http://127.0.0.1:${httpPort[service]}`;

    // The compose file is valid (profiles are checked in config.test.ts).
    const services0 = (await compose(['config', '--services'])).split('\n').filter((s) => s !== '');
    expect(services0.sort()).toEqual(['grafana', 'prometheus', 'raftq1', 'raftq2', 'raftq3']);

    // Build the image through the compose file's build section.
    const t0 = Date.now();
    await compose(['build', 'raftq1'], 900_000);
    const buildSeconds = (Date.now() - t0) / 1000;
    console.log(`compose test: image ${image} built in ${buildSeconds.toFixed(1)} s`);

    // The entrypoint maps a StatefulSet pod ordinal to a node id (deploy/k8s).
    // create/start/wait/logs instead of an attached `run`: the engine's attach upgrade
    // occasionally answers 409 ("unable to upgrade to tcp"), which is not what this checks.
    const created = (await docker(['create', '-e', 'RAFTQ_NODE_ID_FROM_ORDINAL=1', '-e', 'RAFTQ_POD_NAME=raftq-2', '-e', 'RAFTQ_PEERS=n3=raftq-2.raftq-headless:7101:7001:8001', image, '--print-config'])).trim();
    let printed: string;
    try {
      await docker(['start', created]);
      expect((await docker(['wait', created])).trim()).toBe('0');
      printed = await docker(['logs', created]);
    } finally {
      await docker(['rm', '-f', created]).catch(() => '');
    }
    expect(JSON.parse(printed)).toMatchObject({ nodeId: 'n3', dataDir: '/data', listenHost: '0.0.0.0', httpPort: 8001, clientPort: 7001 });

    up = true;
    const t1 = Date.now();
    await compose(['up', '-d', '--no-build', ...services], 300_000);

    // A leader, seen through every published port.
    const cluster = async (service: string, timeoutMs = 3000): Promise<any> => {
      const r = await http('GET', `${base(service)}/v1/cluster`, undefined, {}, timeoutMs);
      if (r.status !== 200) throw new Error(`${service} /v1/cluster: ${r.status}`);
      return r.body;
    };
    const agreedLeader = (among: readonly string[], notId?: string): Promise<{ leader: string; term: number }> =>
      waitFor(`a leader agreed by ${among.join(', ')}`, 90_000, async () => {
        const seen = await Promise.all(among.map((s) => cluster(s)));
        // `leader` is the leader's node id, or null / '' while none is known.
        const l: unknown = seen[0].leader;
        if (typeof l !== 'string' || l === '' || l === notId || !seen.every((x) => x.leader === l)) return undefined;
        return { leader: l, term: Math.max(...seen.map((x) => x.term as number)) };
      }, 300);
    const first = await agreedLeader(services);
    console.log(`compose test: leader ${first.leader} (term ${first.term}) ${((Date.now() - t1) / 1000).toFixed(1)} s after up`);

    // The container runs as the non-root user and the image's HEALTHCHECK command passes in it.
    const cid = (await compose(['ps', '-q', 'raftq1'])).trim();
    expect((await docker(['exec', cid, 'id', '-u'])).trim()).toBe('10001');
    const health = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(readDeploy('Dockerfile'));
    expect(health).not.toBeNull();
    await docker(['exec', cid, ...(JSON.parse(health![1]!) as string[])]);

    // Retries a request through the given nodes until it gets a definite answer.
    const call = async (through: readonly string[], method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> => {
      let last = '';
      for (let attempt = 0; attempt < 60; attempt++) {
        const service = through[attempt % through.length]!;
        try {
          const r = await http(method, `${base(service)}${path}`, body, headers, 15_000);
          if (r.status < 500) return r;
          last = `${service}: ${r.status} ${JSON.stringify(r.body)}`;
        } catch (e) {
          last = `${service}: ${e instanceof Error ? e.message : String(e)}`;
        }
        await sleep(500);
      }
      throw new Error(`${method} ${path} kept failing: ${last}`);
    };

    const queue = 'compose-test';
    expect((await call(services, 'PUT', `/v1/queues/${queue}`, { visibilityTimeoutMs: 60_000 })).status).toBe(200);
    const acknowledged = new Set<string>();
    const enqueue = async (through: readonly string[], prefix: string, count: number): Promise<void> => {
      for (let i = 0; i < count; i += 10) {
        await Promise.all(
          Array.from({ length: Math.min(10, count - i) }, async (_, j) => {
            const body = `${prefix}-${i + j}`;
            // The Idempotency-Key makes a retried enqueue safe: at most one copy is stored.
            const r = await call(through, 'POST', `/v1/queues/${queue}/messages`, { body }, { 'idempotency-key': body });
            expect(r.status, JSON.stringify(r.body)).toBe(200);
            acknowledged.add(body);
          }),
        );
      }
    };
    await enqueue(services, 'before', 200);

    // Kill the leader's container (SIGKILL): the two others elect a new leader.
    const victim = serviceOf(first.leader);
    const survivors = services.filter((s) => s !== victim);
    const t2 = Date.now();
    await compose(['kill', victim]);
    const second = await agreedLeader(survivors, first.leader);
    expect(second.term).toBeGreaterThan(first.term);
    console.log(`compose test: killed ${victim}; new leader ${second.leader} (term ${second.term}) ${((Date.now() - t2) / 1000).toFixed(1)} s after the kill command`);

    // More acknowledged writes while the old leader is down, which it must catch up on.
    await enqueue(survivors, 'during', 50);

    // Every acknowledged message is received (and acked) through the surviving nodes.
    const received = new Set<string>();
    await waitFor(`all ${acknowledged.size} acknowledged messages received`, 120_000, async () => {
      const r = await call(survivors, 'POST', `/v1/queues/${queue}/receive`, { max: 50, visibilityTimeoutMs: 60_000 });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const messages: any[] = r.body.messages;
      for (const m of messages) received.add(m.body);
      if (messages.length > 0) {
        const ack = await call(survivors, 'POST', `/v1/queues/${queue}/ack`, { receipts: messages.map((m) => m.receipt) });
        expect(ack.status, JSON.stringify(ack.body)).toBe(200);
      }
      return [...acknowledged].every((b) => received.has(b)) ? true : undefined;
    }, 100);
    const lost = [...acknowledged].filter((b) => !received.has(b));
    expect(lost).toEqual([]);
    const unexpected = [...received].filter((b) => !acknowledged.has(b));
    expect(unexpected).toEqual([]);

    // Start the killed container again: it rejoins and applies everything the leader committed.
    await compose(['start', victim]);
    const t3 = Date.now();
    const caughtUp = await waitFor(`${victim} to catch up with the leader`, 90_000, async () => {
      const leaderId: unknown = (await cluster(survivors[0]!)).leader;
      if (typeof leaderId !== 'string' || leaderId === '') return undefined;
      const leaderService = serviceOf(leaderId);
      const target = (await cluster(leaderService)).commitIndex as number;
      const mine = await cluster(victim);
      return typeof mine.leader === 'string' && mine.leader !== '' && mine.appliedIndex >= target ? { applied: mine.appliedIndex as number, target, leader: mine.leader as string } : undefined;
    }, 300);
    console.log(`compose test: ${victim} caught up (applied ${caughtUp.applied} >= leader commit ${caughtUp.target}) ${((Date.now() - t3) / 1000).toFixed(1)} s after start`);

    // The restarted node serves the same state: the queue is empty, everything was acked.
    const stats = await call([victim], 'GET', `/v1/queues/${queue}`);
    expect(stats.status).toBe(200);
    expect(stats.body.stats).toMatchObject({ visible: 0, inFlight: 0, delayed: 0 });
    const ready = await waitFor(`${victim} /ready`, 30_000, async () => ((await http('GET', `${base(victim)}/ready`)).status === 200 ? true : undefined));
    expect(ready).toBe(true);
  }, 1_200_000);
});
