import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../raft/types.js';
import { encodePeerFrame } from '../../src/transport/peer-frame.js';
import { Harness, heartbeat, waitFor, warnLevel, type LogLine, type TestNode } from './helpers.js';

const h = new Harness();
afterEach(async () => {
  await h.closeAll();
  // close() leaves no socket, server or timer of ours behind.
  await waitFor('handles released', () => !process.getActiveResourcesInfo().some((r) => r.startsWith('TCP')));
});

function warned(lines: readonly LogLine[], code: string): boolean {
  return lines.some((l) => l.level === warnLevel && l['code'] === code);
}

/** Opens a raw socket to `node`, writes `bytes`, optionally ends, and resolves when the node closes it. */
function rawSend(node: TestNode, bytes: readonly Uint8Array[], end: boolean): Promise<void> {
  return new Promise((resolve) => {
    const { host, port } = node.t.address();
    const socket: Socket = connect({ host, port }, () => {
      for (const b of bytes) socket.write(b);
      if (end) socket.end();
    });
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.on('close', () => resolve());
  });
}

describe('PeerTransport', () => {
  it('delivers every message type between two nodes, in order, one frame per event-loop turn', async () => {
    const [a, b] = [await h.start('a'), await h.start('b')];
    await h.mesh([a, b]);
    const framesBefore = a.t.stats().framesSent;
    const sent: Message[] = [];
    for (let n = 0; n < 100; n++) sent.push(heartbeat('a', 'b', n));
    sent.push(
      { type: 'app', from: 'a', to: 'b', term: 2, index: 5, logTerm: 1, commit: 4, entries: [{ term: 2, index: 6, type: 'normal', data: new Uint8Array([7]) }] },
      { type: 'voteResp', from: 'a', to: 'b', term: 2, reject: true },
      { type: 'timeoutNow', from: 'a', to: 'b', term: 2 },
    );
    a.t.send(sent);
    await waitFor('b received all', () => b.received.length === sent.length);
    expect(b.received).toStrictEqual(sent);
    expect(a.t.stats().framesSent - framesBefore).toBe(1);
    b.t.send([heartbeat('b', 'a', 1)]);
    await waitFor('a received', () => a.received.length === 1);
    expect(a.t.stats().messagesSent).toBe(sent.length);
    expect(b.t.stats().messagesReceived).toBe(sent.length);
  });

  it('connects three nodes in a full mesh and carries AppFrames', async () => {
    const nodes = [await h.start('n1'), await h.start('n2'), await h.start('n3')];
    await h.mesh(nodes);
    for (const from of nodes) from.t.send(nodes.filter((to) => to !== from).map((to, i) => heartbeat(from.id, to.id, i)));
    await waitFor('each node heard from both others', () => nodes.every((n) => n.received.length === 2));
    for (const n of nodes) expect(new Set(n.received.map((m) => m.from))).toStrictEqual(new Set(nodes.filter((o) => o !== n).map((o) => o.id)));

    const apps: Array<[string, string, number, number[]]> = [];
    nodes[0]?.t.onApp((from, f) => apps.push([from, f.appKind, f.requestId, [...f.payload]]));
    expect(nodes[2]?.t.sendApp('n1', 'forward', 42, new Uint8Array([1, 2, 3]))).toBe(true);
    await waitFor('app frame delivered', () => apps.length === 1);
    expect(apps[0]).toStrictEqual(['n3', 'forward', 42, [1, 2, 3]]);
  });

  it('reconnects after the peer listener restarts', async () => {
    const a = await h.start('a');
    let b = await h.start('b');
    await h.mesh([a, b]);
    const port = b.t.address().port;
    await b.t.close();
    await waitFor('a notices b is gone', () => !a.t.isConnected('b'));
    a.t.send([heartbeat('a', 'b', 1)]);
    expect(a.t.stats().dropsDisconnected).toBeGreaterThanOrEqual(1);
    expect(a.lines.some((l) => l.msg === 'peer disconnected' && l['peer'] === 'b')).toBe(true);

    b = await h.start('b', {}, port);
    b.t.addPeer('a', a.t.address());
    await waitFor('a redialed b', () => a.t.isConnected('b'));
    expect(a.t.stats().reconnects).toBeGreaterThanOrEqual(1);
    a.t.send([heartbeat('a', 'b', 2)]);
    await waitFor('b received after reconnect', () => b.received.length === 1);
    expect(a.lines.filter((l) => l.msg === 'peer connected' && l['peer'] === 'b' && typeof l['addr'] === 'string')).toHaveLength(2);
  });

  it('drops messages for a peer that is down, and beyond a full send queue', async () => {
    const a = await h.start('a', { sendQueueMessagesMax: 100 });
    a.t.addPeer('gone', { host: '127.0.0.1', port: 1 });
    a.t.send([heartbeat('a', 'gone', 1), heartbeat('a', 'gone', 2), heartbeat('a', 'nobody', 3)]);
    expect(a.t.stats().dropsDisconnected).toBe(3);

    const b = await h.start('b');
    await h.mesh([a, b]);
    a.t.send(Array.from({ length: 250 }, (_, n) => heartbeat('a', 'b', n)));
    expect(a.t.stats().dropsQueueFull).toBe(150);
    await waitFor('b received the queued 100', () => b.received.length === 100);
    expect(b.received.map((m) => (m.type === 'heartbeat' ? m.commit : -1))).toStrictEqual(Array.from({ length: 100 }, (_, n) => n));
  });

  it('keeps the queue bounded while a peer stops reading', async () => {
    // A fake peer that completes the handshake and then never reads again.
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write(encodePeerFrame({ kind: 'helloAck', nodeId: 'slow', protocolVersion: 1 }));
        socket.pause();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no address');
      const a = await h.start('a', { sendQueueMessagesMax: 64 });
      a.t.addPeer('slow', { host: '127.0.0.1', port: address.port });
      await waitFor('connected to slow peer', () => a.t.isConnected('slow'));
      const big = new Uint8Array(256 * 1024);
      const msg: Message = { type: 'heartbeat', from: 'a', to: 'slow', term: 1, commit: 1, context: big };
      await waitFor('queue full drops', () => {
        a.t.send(Array.from({ length: 8 }, () => msg));
        return a.t.stats().dropsQueueFull > 0;
      });
      expect(a.t.stats().peers['slow']?.queuedMessages).toBeLessThanOrEqual(64);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses a peer from another cluster, and the dialer learns why', async () => {
    const b = await h.start('b');
    const a = await h.start('a', { clusterId: 'other-cluster' });
    b.t.addPeer('a', a.t.address());
    a.t.addPeer('b', b.t.address());
    await waitFor('dialer saw the refusal', () => a.t.stats().peers['b']?.lastHandshakeError === 'CLUSTER_MISMATCH');
    expect(warned(a.lines, 'CLUSTER_MISMATCH')).toBe(true);
    expect(warned(b.lines, 'CLUSTER_MISMATCH')).toBe(true);
    expect(b.t.stats().handshakesRefused).toBeGreaterThanOrEqual(1);
    expect(a.t.isConnected('b')).toBe(false);
  });

  it('refuses unknown node ids and connections to itself', async () => {
    const b = await h.start('b');
    const a = await h.start('a');
    a.t.addPeer('b', b.t.address()); // b does not list a
    a.t.addPeer('me', a.t.address()); // points back at a itself
    await waitFor('unknown peer refused', () => a.t.stats().peers['b']?.lastHandshakeError === 'UNKNOWN_PEER');
    await waitFor('self connection refused', () => a.t.stats().peers['me']?.lastHandshakeError === 'SELF_CONNECTION');
    expect(warned(b.lines, 'UNKNOWN_PEER')).toBe(true);
  });

  it('closes connections that send garbage, oversized or truncated frames and keeps serving peers', async () => {
    const [a, b] = [await h.start('a'), await h.start('b', { handshakeTimeoutMs: 200 })];
    await h.mesh([a, b]);
    await rawSend(b, [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], false);
    await rawSend(b, [new Uint8Array([0xff, 0xff, 0xff, 0xff])], false);
    await rawSend(b, [new Uint8Array([0, 0, 0, 100]), new Uint8Array(10)], true);
    await rawSend(b, [encodePeerFrame({ kind: 'raftBatch', messages: [heartbeat('a', 'b', 9)] })], false);
    await rawSend(b, [], false); // silent: closed by the handshake timeout
    for (const code of ['FRAME_TOO_LARGE', 'TRUNCATED_FRAME', 'MALFORMED_FRAME', 'HANDSHAKE_TIMEOUT']) expect(warned(b.lines, code)).toBe(true);
    expect(b.t.stats().framesRejected).toBeGreaterThanOrEqual(4);
    expect(b.received).toStrictEqual([]);
    a.t.send([heartbeat('a', 'b', 1)]);
    await waitFor('legit peer still served', () => b.received.length === 1);
    expect(a.t.isConnected('b')).toBe(true);
  });

  it('drops messages whose from or to does not match the authenticated peer', async () => {
    const b = await h.start('b');
    b.t.addPeer('c', { host: '127.0.0.1', port: 1 }); // c is known to b, but never reachable
    const batch = encodePeerFrame({ kind: 'raftBatch', messages: [heartbeat('a', 'b', 1), heartbeat('c', 'x', 2), heartbeat('c', 'b', 3)] });
    const { host, port } = b.t.address();
    const socket = connect({ host, port }, () => {
      socket.write(encodePeerFrame({ kind: 'hello', clusterId: 'test-cluster', nodeId: 'c', protocolVersion: 1 }));
      socket.write(batch);
    });
    socket.on('data', () => {});
    try {
      await waitFor('genuine message delivered', () => b.received.length === 1);
      expect(b.received[0]).toStrictEqual(heartbeat('c', 'b', 3));
      expect(b.t.stats().dropsMisaddressed).toBe(2);
      expect(b.lines.filter((l) => l.msg === 'dropped misaddressed raft message')).toHaveLength(2);
    } finally {
      socket.destroy();
    }
  });
});
