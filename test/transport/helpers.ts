/**
 * Shared helpers of the transport tests: captured pino logs, bounded polling, and transports on
 * 127.0.0.1 port 0 that are closed after each test.
 */
import { pino, type Logger } from 'pino';
import { seededRng as coreRng } from '../../raft/rng.js';
import type { Message, NodeId, SnapshotMessage } from '../../raft/types.js';
import { PeerTransport, type PeerTransportOptions } from '../../src/transport/index.js';

/** One parsed pino line. */
export type LogLine = Readonly<Record<string, unknown>> & { readonly level: number; readonly msg: string };

/** pino's numeric level of warn. */
export const warnLevel = 40;

/** A debug-level pino logger whose lines are parsed into `lines`. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

/** Polls `cond` every few milliseconds; throws naming `what` if it is still false after timeoutMs. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A started transport, its captured logs and the messages it received. */
export interface TestNode {
  readonly id: NodeId;
  readonly t: PeerTransport;
  readonly lines: LogLine[];
  readonly received: Message[];
}

/** Creates transports and closes every one of them in `closeAll`. */
export class Harness {
  readonly #nodes: PeerTransport[] = [];

  /** Starts a transport for `id` on 127.0.0.1:port (0 = any) with fast test reconnects. */
  async start(id: NodeId, extra: Partial<PeerTransportOptions> = {}, port = 0): Promise<TestNode> {
    const { logger, lines } = captureLogger();
    const t = new PeerTransport({
      clusterId: 'test-cluster',
      nodeId: id,
      listen: { host: '127.0.0.1', port },
      logger,
      reconnectDelayMsInitial: 5,
      reconnectDelayMsMax: 50,
      rng: seededRng(1),
      ...extra,
    });
    const received: Message[] = [];
    t.onMessage((m) => received.push(m));
    await t.start();
    this.#nodes.push(t);
    return { id, t, lines, received };
  }

  /** Registers every node as a peer of every other one and waits until all links are up. */
  async mesh(nodes: readonly TestNode[]): Promise<void> {
    for (const a of nodes) for (const b of nodes) if (a !== b) a.t.addPeer(b.id, b.t.address());
    await waitFor('full mesh connected', () => nodes.every((a) => nodes.every((b) => a === b || a.t.isConnected(b.id))));
  }

  /** Closes every transport started by this harness. */
  async closeAll(): Promise<void> {
    await Promise.all(this.#nodes.splice(0).map((t) => t.close()));
  }
}

/** A deterministic RNG in [0, 1) (raft/rng.ts: mulberry32). */
export function seededRng(seed: number): () => number {
  return coreRng(seed).next;
}

/** A heartbeat from `from` to `to` whose context holds `n`, to check order and identity. */
export function heartbeat(from: NodeId, to: NodeId, n: number): Message {
  return { type: 'heartbeat', from, to, term: 1, commit: n, context: new Uint8Array([n & 0xff]) };
}

/** The `snap` message from a to b (both voters) that the snapshot tests stream. */
export function snapMessage(index: number, term: number): SnapshotMessage {
  return { type: 'snap', from: 'a', to: 'b', term, snapshot: { index, term, confState: { voters: ['a', 'b'], learners: [] } } };
}
