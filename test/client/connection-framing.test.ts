/**
 * The client's side of the shared framing (src/proto/framing.ts): ClientConnection against a
 * scripted server that splits and merges its response frames at arbitrary points, announces a
 * frame above the client's limit, or sends bodies that span TCP chunks.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { RaftqError } from '../../src/errors.js';
import { ClientConnection, type ConnectionEvents } from '../../src/client/connection.js';
import { decodeRequest, encodeResponseFrame, type ResultBody } from '../../src/proto/client-wire.js';
import { FrameDecoder, frameHeader } from '../../src/proto/framing.js';

/** What the scripted server does with each request it reads (the hello included). */
type Script = (socket: Socket, request: ReturnType<typeof decodeRequest>) => void;

const servers: Server[] = [];
const connections: ClientConnection[] = [];

afterEach(async () => {
  for (const c of connections.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A server on a free port that answers as `script` says; resolves with "host:port". */
async function scriptedServer(script: Script): Promise<string> {
  const server = createServer((socket) => {
    // No Nagle: each piece of a split write leaves as its own segment.
    socket.setNoDelay(true);
    socket.on('error', () => {});
    const decoder = new FrameDecoder(1024 * 1024);
    socket.on('data', (chunk) => {
      for (const body of decoder.push(chunk)) script(socket, decodeRequest(body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr !== 'object') throw new Error('no server address');
  return `127.0.0.1:${addr.port}`;
}

const helloResult: ResultBody = { hello: { nodeId: 'n1', leader: null, frameBytesMax: 1024 * 1024, requestsInflightMax: 64, idleTimeoutMs: 60_000 } };

const events: ConnectionEvents = { onLeader: () => {}, onClose: () => {} };

async function open(address: string): Promise<ClientConnection> {
  const conn = await ClientConnection.open(address, { connectTimeoutMs: 5000, keepAliveMs: 60_000, name: 'framing-test' }, events);
  connections.push(conn);
  return conn;
}

/** Writes `bytes` in pieces cut at `cuts`, a few milliseconds apart (so they arrive apart). */
async function writeSplit(socket: Socket, bytes: Uint8Array, cuts: readonly number[]): Promise<void> {
  let prev = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    if (cut <= prev) continue;
    socket.write(bytes.subarray(prev, cut));
    prev = cut;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('ClientConnection framing', () => {
  test('responses split inside headers and bodies, and merged with each other, are all read', async () => {
    let pending: Uint8Array[] = [];
    const address = await scriptedServer((socket, req) => {
      if (req.op === 'hello') {
        // The hello answer arrives a byte at a time.
        const hello = encodeResponseFrame(req.id, undefined, helloResult);
        void writeSplit(socket, hello, Array.from({ length: hello.byteLength }, (_, i) => i));
        return;
      }
      // Three pings answered in one stream cut at 2 (inside the first header), mid-body and
      // across the frame boundaries.
      pending.push(encodeResponseFrame(req.id, undefined, { pong: {} }));
      if (pending.length === 3) {
        const stream = Buffer.concat(pending);
        pending = [];
        void writeSplit(socket, stream, [2, 5, 7, 9, stream.byteLength - 3]);
      }
    });
    const conn = await open(address);
    expect(conn.nodeId).toBe('n1');
    const pongs = await Promise.all([0, 1, 2].map(() => conn.request({ ping: {} }, 'pong', 5000)));
    expect(pongs).toHaveLength(3);
  });

  test('a body that spans TCP chunks is decoded from a Buffer, as one within a chunk is', async () => {
    const body = new Uint8Array(20_000).map((_, i) => i % 251);
    const address = await scriptedServer((socket, req) => {
      if (req.op === 'hello') {
        socket.write(encodeResponseFrame(req.id, undefined, helloResult));
        return;
      }
      const message = { id: 'm1', offset: 1, body, receipt: 'r', receiveCount: 1, enqueuedAtMs: 1, attributes: {}, groupId: '' };
      const frame = encodeResponseFrame(req.id, undefined, { receive: { messages: [message], deadLettered: 0 } });
      void writeSplit(socket, frame, [3, 1000, 7000, 15_000]);
    });
    const conn = await open(address);
    const got = await conn.request({ receive: { queue: 'q', max: 1, waitMs: 0, visibilityTimeoutMs: null } }, 'receive', 5000);
    const m = got.messages[0];
    expect(m?.id).toBe('m1');
    expect(Buffer.isBuffer(m?.body)).toBe(true);
    expect(Buffer.from(m!.body).equals(Buffer.from(body))).toBe(true);
  });

  test('a response frame above the client limit closes the connection with TOO_LARGE', async () => {
    const address = await scriptedServer((socket, req) => {
      if (req.op === 'hello') socket.write(encodeResponseFrame(req.id, undefined, helloResult));
      // 512 MiB announced; nothing of the body follows.
      else socket.write(frameHeader(512 * 1024 * 1024));
    });
    const conn = await open(address);
    const err = await conn.request({ ping: {} }, 'pong', 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RaftqError);
    expect((err as RaftqError).code).toBe('TOO_LARGE');
    expect((err as RaftqError).message).toMatch(/response frame too large .*536870912 bytes/);
    expect(conn.closed).toBe(true);
  });

  test('an oversized frame in answer to the hello fails the connect as UNAVAILABLE, caused by TOO_LARGE', async () => {
    const address = await scriptedServer((socket) => socket.write(frameHeader(512 * 1024 * 1024)));
    const err = await open(address).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RaftqError);
    expect((err as RaftqError).code).toBe('UNAVAILABLE');
    expect((err as RaftqError).message).toMatch(/is not a raftq client port/);
    expect(((err as RaftqError).cause as RaftqError).code).toBe('TOO_LARGE');
  });
});
