/**
 * Hostile bytes on the peer port of real nodes: random garbage, a frame announcing 4 GiB, a
 * well-formed Hello from another cluster, a Hello from an unknown node, frames that do not
 * decode after a valid Hello, a truncated frame followed by EOF, and silent connections that
 * never say Hello. Each is rejected on its own connection (closed, logged) without harm: every
 * node stays up and the cluster still accepts and replicates enqueues afterwards.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { FrameDecoder, frameHeader } from '../../src/proto/framing.js';
import { decodePeerFrame, encodePeerFrame, type PeerFrame } from '../../src/transport/peer-frame.js';
import { protocolVersion } from '../../src/transport/schema.js';
import { Cluster, queueState, waitFor } from './cluster-harness.js';

/** What a probe connection saw. */
interface ProbeResult {
  /** Whether the node closed the connection within the time allowed. */
  readonly closedByNode: boolean;
  /** Frames the node sent back, decoded. */
  readonly frames: PeerFrame[];
}

/**
 * Connects to 127.0.0.1:port, writes `chunks` in order, optionally half-closes, and waits (up to
 * `waitMs`) for the node to close the connection.
 */
function probe(port: number, chunks: readonly Uint8Array[], opts: { end?: boolean; waitMs?: number } = {}): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const frames: PeerFrame[] = [];
    const decoder = new FrameDecoder();
    const socket = connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closedByNode: false, frames });
    }, opts.waitMs ?? 10_000);
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
      if (opts.end === true) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      for (const body of decoder.push(d)) frames.push(decodePeerFrame(body));
    });
    // The node may reset rather than close gracefully; either way it hung up.
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') {
        clearTimeout(timer);
        reject(e);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closedByNode: true, frames });
    });
  });
}

/** A deterministic byte source (xorshift32), so a failing case replays exactly. */
function garbage(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function framed(body: Uint8Array): Uint8Array {
  return Buffer.concat([frameHeader(body.byteLength), body]);
}

describe('garbage on the peer port', { timeout: 60_000 }, () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ name: 'garbage' });
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  test('malformed, oversized, foreign and truncated frames are rejected without harm', async () => {
    onTestFailed(() => console.error(cluster.logTails(40)));
    const leader = await cluster.waitForLeader();
    await cluster.ok(leader.id, 'PUT', '/v1/queues/robust', {});
    await cluster.ok(leader.id, 'POST', '/v1/queues/robust/messages', { body: 'before' });

    const hello = (clusterId: string, nodeId: string): Uint8Array => encodePeerFrame({ kind: 'hello', clusterId, nodeId, protocolVersion });
    // Every node at once, plus silent connections that never send a Hello: the handshake
    // timeout closes them (they cannot pin file descriptors forever).
    const silent = Promise.all(
      cluster.ids.flatMap((id) => Array.from({ length: 10 }, () => probe(cluster.node(id).peerPort, [Uint8Array.of(0, 0)], { waitMs: 20_000 }))),
    );
    const perNode = cluster.ids.map(async (id, i) => {
      const port = cluster.node(id).peerPort;
      const known = cluster.ids.find((x) => x !== id)!;

      // Random bytes. Whatever the first four announce, the connection is closed: too large,
      // undecodable, or (a small length: seed 0x5eee announces 6.7 MB) no Hello within the
      // handshake timeout.
      const random = await probe(port, [garbage(4096, 0x5eed + i)], { waitMs: 15_000 });
      expect(random.closedByNode).toBe(true);

      // A small, honest length prefix around random bytes: not a PeerFrame.
      const junkFrame = await probe(port, [framed(garbage(64, 0xbad + i))]);
      expect(junkFrame.closedByNode).toBe(true);

      // A length prefix of 0xFFFFFFFF: refused from the header alone, nothing buffered.
      const huge = await probe(port, [Uint8Array.of(0xff, 0xff, 0xff, 0xff), garbage(1024, 7)]);
      expect(huge.closedByNode).toBe(true);

      // A well-formed Hello from another cluster: a Refuse frame naming the reason, then close.
      const foreign = await probe(port, [hello('some-other-cluster', known)]);
      expect(foreign.closedByNode).toBe(true);
      expect(foreign.frames).toEqual([expect.objectContaining({ kind: 'refuse', code: 'CLUSTER_MISMATCH' })]);

      // A Hello from a node that is not a member.
      const stranger = await probe(port, [hello(cluster.clusterId, 'n99')]);
      expect(stranger.closedByNode).toBe(true);
      expect(stranger.frames).toEqual([expect.objectContaining({ kind: 'refuse', code: 'UNKNOWN_PEER' })]);

      // A valid Hello (it takes over the peer's inbound slot; the real peer redials), then a
      // frame that does not decode.
      const afterHello = await probe(port, [hello(cluster.clusterId, known), framed(garbage(200, 0xfeed + i))]);
      expect(afterHello.closedByNode).toBe(true);
      expect(afterHello.frames[0]).toEqual(expect.objectContaining({ kind: 'helloAck' }));

      // A valid Hello, then an oversized frame.
      const afterHelloHuge = await probe(port, [hello(cluster.clusterId, known), Uint8Array.of(0xff, 0xff, 0xff, 0xfe)]);
      expect(afterHelloHuge.closedByNode).toBe(true);

      // A frame cut short, then EOF from our side.
      const truncated = await probe(port, [frameHeader(100), garbage(10, 3)], { end: true });
      expect(truncated.closedByNode).toBe(true);
    });
    await Promise.all(perNode);
    expect((await silent).every((r) => r.closedByNode)).toBe(true);

    // Nobody crashed, and every rejection was logged with its reason.
    for (const id of cluster.ids) {
      expect(cluster.isRunning(id)).toBe(true);
      expect((await cluster.http(id, 'GET', '/health')).status).toBe(200);
      const rejected = cluster.findLogs(id, 'rejected frame from peer; closing connection').map((l) => l['code']);
      expect(rejected).toEqual(expect.arrayContaining(['FRAME_TOO_LARGE', 'MALFORMED_FRAME', 'TRUNCATED_FRAME']));
      const refused = cluster.findLogs(id, 'refused peer handshake').map((l) => l['code']);
      expect(refused).toEqual(expect.arrayContaining(['CLUSTER_MISMATCH', 'UNKNOWN_PEER']));
      expect(cluster.findLogs(id, 'no hello from inbound connection; closing').length).toBeGreaterThanOrEqual(10);
      expect(cluster.stderr(id)).toBe('');
    }

    // Every peer link is up again: an impostor's valid Hello took over a real peer's inbound
    // slot (there is no authentication beyond the cluster id), which closed that peer's
    // connection; it redials with backoff.
    await waitFor('every node to be connected to every peer', async () => {
      for (const id of cluster.ids) {
        const st = await cluster.ok<{ nodes: Array<{ id: string; connected?: boolean }> }>(id, 'GET', '/v1/cluster');
        if (!st.nodes.every((n) => n.id === id || n.connected === true)) return false;
      }
      return true;
    });
    // The cluster still works: enqueues through every node commit and replicate everywhere.
    const after = await cluster.waitForLeader();
    for (const id of cluster.ids) await cluster.ok(id, 'POST', '/v1/queues/robust/messages', { body: `after-${id}` });
    await cluster.waitForConvergence();
    for (const id of cluster.ids) expect((await queueState(cluster, id, 'robust')).counts.visible).toBe(4);
    expect(after.term).toBeGreaterThanOrEqual(leader.term);
  });
});
