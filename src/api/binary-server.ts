import { setMaxListeners } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { CommandResult } from '../queue/index.js';
import type { NodeRuntime } from '../server/node-runtime.js';
import type { QueueApplication, QueueReply } from '../server/queue-app.js';
import { BinaryConnection, type ConnectionLimits } from './binary-connection.js';
import type { BinaryContext } from './binary-ops.js';
import type { Authenticator } from './auth/authenticator.js';
import type { TlsCredentials } from '../transport/index.js';

/** What the binary client API serves from, and its bounds. */
export interface BinaryApiOptions extends ConnectionLimits {
  readonly node: NodeRuntime<CommandResult, QueueReply>;
  readonly app: QueueApplication;
  readonly logger: Logger;
  readonly host: string;
  readonly port: number;
  /** Open connections beyond which new ones are refused (closed at once). */
  readonly connectionsMax?: number;
  /** Called when the number of open connections changes (metrics). */
  readonly onConnections?: (open: number) => void;
  /** Counts a completed request by op and result code (metrics). */
  readonly countRequest?: (op: string, code: string) => void;
  /** Serve TLS with these (reloadable) credentials; clients verify the node (no client certificate yet). */
  readonly tls?: TlsCredentials;
  /** Authentication (`--auth`): with required, a connection acts only after a Hello with a valid token. */
  readonly auth?: Authenticator;
}

/**
 * Default bound on open client connections: each costs a socket, a frame buffer of up to
 * frameBytesMax and its requests in flight; 10k is far above what one node serves usefully.
 */
const connectionsMaxDefault = 10_000;

/** How often idle and stuck connections are looked for, in milliseconds. */
const sweepEveryMs = 250;

/** How long a shutdown lets requests in flight finish, in milliseconds. */
const shutdownWaitMs = 2000;

/**
 * The binary TCP client protocol (src/proto/client.proto) on the node's client port: framed
 * protobuf requests with ids, pipelined, plus push subscriptions with credit-based flow control.
 * Every node serves it; a follower forwards writes to the leader through the node runtime and
 * reports the leader on its responses so clients can go direct.
 */
export class BinaryApi {
  readonly #o: BinaryApiOptions;
  readonly #server: Server;
  readonly #connections = new Set<BinaryConnection>();
  readonly #ctx: BinaryContext;
  #sweeper: NodeJS.Timeout | undefined;
  #closing = false;
  /** Aborted when close() starts: ends long polls (long-poll-receive.ts). */
  readonly #closingController = new AbortController();

  constructor(o: BinaryApiOptions) {
    this.#o = o;
    // Every open connection listens on it until it closes (bounded by connectionsMax): no leak warning.
    setMaxListeners(0, this.#closingController.signal);
    this.#ctx = {
      node: o.node,
      app: o.app,
      logger: o.logger,
      closing: this.#closingController.signal,
      ...(o.countRequest !== undefined ? { countRequest: o.countRequest } : {}),
      ...(o.auth !== undefined ? { auth: o.auth } : {}),
    };
    const accept = (socket: Socket): void => {
      if (this.#closing || this.#connections.size >= (o.connectionsMax ?? connectionsMaxDefault)) {
        o.logger.warn({ remote: socket.remoteAddress, open: this.#connections.size }, 'refusing a client connection');
        socket.destroy();
        return;
      }
      const conn = new BinaryConnection(socket, this.#ctx, o, (c) => {
        this.#connections.delete(c);
        o.onConnections?.(this.#connections.size);
      });
      this.#connections.add(conn);
      o.onConnections?.(this.#connections.size);
    };
    if (o.tls !== undefined) {
      const server = createTlsServer({ ...o.tls.material, noDelay: true }, accept);
      o.tls.serve(server, 'client');
      this.#server = server;
    } else {
      this.#server = createServer({ noDelay: true }, accept);
    }
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off('error', reject);
        this.#sweeper = setInterval(() => {
          const now = Date.now();
          for (const c of this.#connections) c.sweep(now);
        }, sweepEveryMs);
        this.#sweeper.unref();
        const addr = this.#server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : this.#o.port);
      });
    });
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * Stops accepting, ends subscriptions and long polls, lets other requests finish briefly,
   * then closes every connection with an UNAVAILABLE error frame.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#closingController.abort();
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const open = [...this.#connections];
    await Promise.all(open.map((c) => c.shutdown(shutdownWaitMs)));
    // The error frames are written; a client that does not close its side is not waited for.
    await new Promise((r) => setTimeout(r, 50));
    for (const c of open) c.destroy();
    await closed;
  }
}
