/**
 * What the client reports when a retry follows an attempt whose outcome is unknown (its
 * connection dropped after the request was sent): a nack or changeVisibility whose first attempt
 * may have applied cannot be reported as a definite STALE_RECEIPT, because that first attempt
 * may be what made the receipt stale (the message became visible and was delivered again). The
 * jepsen-like queue checker found this: a nack reported failed had applied, and the redelivery
 * it caused was flagged as a double delivery (power run queue seed 10046).
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { Client } from '../../src/client/client.js';
import { decodeRequest, encodeResponseFrame, type ResultBody } from '../../src/proto/client-wire.js';
import { FrameDecoder } from '../../src/proto/framing.js';

const servers: Server[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const helloResult: ResultBody = { hello: { nodeId: 'n1', leader: null, frameBytesMax: 1024 * 1024, requestsInflightMax: 64, idleTimeoutMs: 60_000 } };

/**
 * A node that answers every `op` request with error `code`; with `dropFirst`, it drops the
 * connection on the first one instead, after reading it (its outcome is unknown to the client).
 */
async function node(op: string, code: string, dropFirst: boolean): Promise<{ address: string; seen: () => number }> {
  let seen = 0;
  const server = createServer((socket) => {
    socket.on('error', () => {});
    const decoder = new FrameDecoder(1024 * 1024);
    socket.on('data', (chunk) => {
      for (const body of decoder.push(chunk)) {
        const req = decodeRequest(body);
        if (req.op === 'hello') socket.write(encodeResponseFrame(req.id, undefined, helloResult));
        else if (req.op === op && seen++ === 0 && dropFirst) socket.destroy();
        else if (req.op === op) socket.write(encodeResponseFrame(req.id, undefined, { error: { code, message: `the receipt is stale (${code})` } }));
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr !== 'object') throw new Error('no server address');
  return { address: `127.0.0.1:${addr.port}`, seen: () => seen };
}

function client(address: string): Client {
  const c = new Client({ nodes: [address], requestTimeoutMs: 2000, retryTimeoutMs: 10_000, retryDelayMs: 10, retryDelayMsMax: 50 });
  clients.push(c);
  return c;
}

describe('a retry after an attempt of unknown outcome', () => {
  test('nack: STALE_RECEIPT on the retry is reported as TIMEOUT (outcome unknown), not as a definite failure', async () => {
    const n = await node('nack', 'STALE_RECEIPT', true);
    const err = await client(n.address).nack('q', 'r1').catch((e: unknown) => e);
    expect(n.seen()).toBe(2);
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    expect((err as Error).message).toMatch(/outcome is unknown/);
    expect((err as Error & { cause?: { code?: string } }).cause?.code).toBe('STALE_RECEIPT');
  });

  test('changeVisibility: likewise', async () => {
    const n = await node('changeVisibility', 'STALE_RECEIPT', true);
    await expect(client(n.address).changeVisibility('q', 'r1', 0)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(n.seen()).toBe(2);
  });

  test('a first attempt answered STALE_RECEIPT stays a definite STALE_RECEIPT', async () => {
    const n = await node('nack', 'STALE_RECEIPT', false);
    await expect(client(n.address).nack('q', 'r1')).rejects.toMatchObject({ code: 'STALE_RECEIPT' });
    expect(n.seen()).toBe(1);
  });
});
