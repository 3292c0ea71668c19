/**
 * A membership change asked while another is pending is refused UNAVAILABLE (README
 * "Operations": retry), by the one error table (src/server/error-map.ts): the same code as a
 * CONF_CHANGE_PENDING raised by the Raft core (test/errors-map.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../jepsen-like/free-ports.js';
import { RaftError } from '../../raft/errors.js';
import { RaftqError } from '../../src/errors.js';
import { encodeCommand } from '../../src/queue/index.js';
import { loadServerConfig } from '../../src/server/config.js';
import { type RunningServer, startServer } from '../../src/node/start-server.js';
import { waitFor } from '../transport/helpers.js';

describe('a membership change while another is pending', { timeout: 30_000 }, () => {
  let dir = '';
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  it('is UNAVAILABLE, mapped from CONF_CHANGE_PENDING by the table', async () => {
    dir = mkdtempSync(join(tmpdir(), 'raftq-confpending-'));
    const [peerPort, other1, other2] = await freePorts(3);
    const args = ['--node-id', 'n1', '--peers', `n1=127.0.0.1:${peerPort}`, '--http-port', '0', '--client-port', '0', '--data-dir', join(dir, 'n1'), '--log-level', 'silent'];
    server = await startServer(loadServerConfig(args, {}));
    const node = server.node;
    await waitFor('n1 leads', () => node.status().role === 'leader', 10_000);
    // Once a command applied, so did the new leader's first entries: no change is pending.
    await node.submit(encodeCommand({ type: 'createQueue', queue: 'q' }), { timeoutMs: 10_000 });
    const first = node.changeMembership('add', 'x1', { host: '127.0.0.1', peerPort: other1! });
    const second = await node.changeMembership('add', 'x2', { host: '127.0.0.1', peerPort: other2! }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(RaftqError);
    expect((second as RaftqError).code).toBe('UNAVAILABLE');
    expect((second as RaftqError).status).toBe(503);
    expect((second as RaftqError).cause).toBeInstanceOf(RaftError);
    expect(((second as RaftqError).cause as RaftError).code).toBe('CONF_CHANGE_PENDING');
    await expect(first).resolves.toMatchObject({ action: 'add', id: 'x1' });
  });
});
