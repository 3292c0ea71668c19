/**
 * A reply of another type than the command asked for (a forwarded reply matched to the wrong
 * request) is an assertion failure answered 500 INTERNAL, never a 200 that tells a client
 * "enqueued" for a message that was never stored (issue 15, item 1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { HttpApi } from '../../src/api/http-server.js';
import { Metrics } from '../../src/api/metrics.js';
import type { CommandResult } from '../../src/queue/index.js';
import { encodeReceipt } from '../../src/queue/receipts.js';
import type { NodeRuntime } from '../../src/server/node-runtime.js';
import { QueueApplication, type QueueReply } from '../../src/server/queue-app.js';

let api: HttpApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** An HTTP API over a node whose every submit answers `reply`, whatever was asked. */
async function apiAnswering(reply: QueueReply): Promise<number> {
  const app = new QueueApplication();
  const node = {
    config: { nodeId: 'n1' },
    leader: () => undefined,
    submit: () => Promise.resolve(reply),
    linearizableRead: () => Promise.resolve(),
  } as unknown as NodeRuntime<CommandResult, QueueReply>;
  api = new HttpApi({ node, app, logger: pino({ level: 'silent' }), metrics: new Metrics(() => undefined, app, 'n1'), host: '127.0.0.1', port: 0, bodyBytesMax: 1 << 20 });
  return api.listen();
}

async function post(port: number, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('replies of the wrong type', () => {
  it('an enqueue answered with a createQueue result is INTERNAL, not 200', async () => {
    const port = await apiAnswering({ ok: true, type: 'createQueue', created: true });
    const res = await post(port, '/v1/queues/q/messages', { body: 'hello' });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ error: { code: 'INTERNAL' } });
  });

  it('an ack answered with an enqueue result is INTERNAL, not 200', async () => {
    const port = await apiAnswering({ ok: true, type: 'enqueue', messages: [], duplicate: false });
    // A well-formed receipt: a malformed one is refused (400) before anything is proposed.
    const receipt = encodeReceipt({ queueId: 1, offset: 1, receiveCount: 1, deliveryIndex: 1 });
    const res = await post(port, '/v1/queues/q/ack', { receipts: [receipt] });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ error: { code: 'INTERNAL' } });
  });
});
