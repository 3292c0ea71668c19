import { createServer, connect, type Server, type Socket } from 'node:net';

/** What a link does to the traffic its dialer sends. */
export type LinkMode =
  | { readonly kind: 'pass' }
  /** A silent partition: bytes vanish, connections hang (no RST), like a pulled cable. */
  | { readonly kind: 'drop' }
  /** Every chunk is delayed by `delayMs` plus up to `jitterMs`, keeping order. */
  | { readonly kind: 'slow'; readonly delayMs: number; readonly jitterMs: number };

/**
 * A TCP proxy standing on one directed peer link (node A dialling node B). The harness points
 * A's peer address for B at this proxy, so it can cut, black-hole or slow exactly that
 * direction. Raft peers each dial their own outbound connection, so the link A->B carries what
 * A sends to B; B's messages to A travel on the link B->A.
 */
export class LinkProxy {
  readonly from: string;
  readonly to: string;
  readonly #target: { host: string; port: number };
  readonly #server: Server;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>();
  #mode: LinkMode = { kind: 'pass' };
  readonly #rng: () => number;
  port = 0;

  constructor(from: string, to: string, target: { host: string; port: number }, rng: () => number) {
    this.from = from;
    this.to = to;
    this.#target = target;
    this.#rng = rng;
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Listens on a free loopback port. */
  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const addr = this.#server.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    return this.port;
  }

  get mode(): LinkMode {
    return this.#mode;
  }

  /**
   * Changes the link's behaviour. Entering or leaving `drop` severs current connections (the
   * dialer then reconnects into the new mode), so no half-delivered frame survives a change.
   */
  setMode(mode: LinkMode): void {
    const wasDrop = this.#mode.kind === 'drop';
    this.#mode = mode;
    if (wasDrop !== (mode.kind === 'drop')) this.resetConnections();
  }

  /** Destroys every connection through this link. */
  resetConnections(): void {
    for (const p of this.#pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.#pairs.clear();
  }

  async close(): Promise<void> {
    this.resetConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.on('error', () => {});
    if (this.#mode.kind === 'drop') {
      // Hold the connection open and swallow everything: the dialer's handshake times out.
      const pair = { client, upstream: client };
      this.#pairs.add(pair);
      client.on('data', () => {});
      client.on('close', () => this.#pairs.delete(pair));
      return;
    }
    const upstream = connect(this.#target.port, this.#target.host);
    upstream.on('error', () => client.destroy());
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const close = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    this.#pipe(client, upstream);
    this.#pipe(upstream, client);
  }

  /** Forwards `src` to `dst` according to the current mode, preserving order. */
  #pipe(src: Socket, dst: Socket): void {
    let releaseAt = 0;
    src.on('data', (chunk: Buffer) => {
      const m = this.#mode;
      if (m.kind === 'drop') return;
      if (m.kind === 'pass') {
        if (!dst.destroyed) dst.write(chunk);
        return;
      }
      // Delay while keeping byte order: a chunk never overtakes the one before it.
      const at = Math.max(Date.now() + m.delayMs + this.#rng() * m.jitterMs, releaseAt);
      releaseAt = at;
      setTimeout(() => {
        if (!dst.destroyed) dst.write(chunk);
      }, at - Date.now());
    });
  }
}
