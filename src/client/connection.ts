import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { RaftqError } from '../errors.js';
import {
  decodeResponse,
  encodeRequestFrame,
  type DecodedResponse,
  type RequestBody,
  type ResultName,
  type ResultTypes,
  type WireIncoming,
} from '../proto/client-wire.js';
import { FrameError } from '../proto/frame-error.js';
import { FrameDecoder, frameHeaderBytes } from '../proto/framing.js';
import { errorFromWire, leaderFromWire } from './errors.js';
import type { ClientTlsOptions } from './tls-options.js';

/**
 * Largest response frame the client accepts, in bytes: a receive of 100 messages of the
 * largest body (1 MiB) plus their metadata stays below it.
 */
const responseFrameBytesMax = 128 * 1024 * 1024;

/** An ok response of type K. */
export type Ok<K extends ResultName> = ResultTypes[K];

/** What a connection reports to its owner. */
export interface ConnectionEvents {
  /** A response named the leader (it changed since the last report on this connection). */
  onLeader(conn: ClientConnection, leader: { id: string; client?: string; http?: string }): void;
  /** The connection closed; every request in flight has been failed with `err`. */
  onClose(conn: ClientConnection, err: RaftqError): void;
}

/**
 * Feeds `chunk` from the server at `address` to `decoder` and returns the response bodies it
 * completes, each a Buffer: a body spanning chunks comes out of FrameDecoder as a plain
 * Uint8Array, and protobufjs decodes a Buffer differently (its BufferReader returns bytes fields
 * as Buffers), so the client keeps decoding Buffers as it always has. Throws RaftqError TOO_LARGE
 * when a header announces a frame above the decoder's limit.
 */
function responseBodies(decoder: FrameDecoder, chunk: Buffer, address: string): Buffer[] {
  let bodies: Uint8Array[];
  try {
    bodies = decoder.push(chunk);
  } catch (e) {
    if (e instanceof FrameError && e.code === 'FRAME_TOO_LARGE') throw new RaftqError('TOO_LARGE', `${address} sent a response frame too large for the client (${e.message})`, { cause: e });
    throw e;
  }
  return bodies.map((b) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
}

/** Options of ClientConnection.open. */
export interface ConnectionOptions {
  /** Milliseconds to establish TCP and complete the hello. */
  readonly connectTimeoutMs: number;
  /** Milliseconds of silence (either way) after which a ping is sent; twice that without a byte from the server closes the connection. */
  readonly keepAliveMs: number;
  /** Reported to the server in the hello. */
  readonly name: string;
  /** TLS to the node, verified against `tls.ca`; absent: plain TCP. */
  readonly tls?: ClientTlsOptions;
  /** Sent in the hello: the token the connection acts as (`--auth required`). */
  readonly token?: string;
}

/** A subscription's handlers on its connection. */
export interface SubscriptionHandlers {
  onDelivery(m: WireIncoming): void;
  /** The subscription ended (error response, unsubscribe answered, or the connection closed). */
  onEnd(err: RaftqError | undefined): void;
}

interface Pending {
  readonly resolve: (r: DecodedResponse) => void;
  readonly reject: (e: RaftqError) => void;
  readonly timer: NodeJS.Timeout | undefined;
  /** Set once the caller gave up (timeout): a late answer is dropped, the id stays taken. */
  abandoned: boolean;
  /** For a Subscribe: where the subscription's deliveries go once the server accepted it. */
  readonly handlers?: SubscriptionHandlers;
  /** Set once the server accepted the Subscribe: the id stays taken for the subscription's life. */
  subscribed?: boolean;
  /** Whether the request was written counting toward #onWire (it may wait for a free slot in #waiting; pings are written without counting). */
  sent: boolean;
}

/**
 * One TCP connection to one node's binary client port (src/proto/client.proto): pipelined
 * requests matched to responses by id, subscriptions' pushed deliveries, keep-alive pings, and
 * the leader hints that responses carry.
 */
export class ClientConnection {
  readonly address: string;
  /** The node's id, from its hello. */
  readonly nodeId: string;
  /** The leader the node named in its hello, if any. */
  readonly helloLeader: { id: string; client?: string; http?: string } | undefined;
  readonly #socket: Socket;
  readonly #events: ConnectionEvents;
  readonly #decoder: FrameDecoder;
  /** Requests the server may hold in flight on this connection (from its hello). */
  readonly #inflightMax: number;
  /** Largest request frame body the server accepts, in bytes (from its hello). */
  readonly #frameBytesMax: number;
  /** Requests written and not yet answered. Invariant: #onWire <= #inflightMax. */
  #onWire = 0;
  /** Registered requests waiting for a free slot, in order. */
  #waiting: Array<{ readonly id: number; readonly frame: Uint8Array }> = [];
  /** Requests by id: written (sent) or waiting in #waiting. Invariant: ids are non-zero. */
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #lastReceivedMs = Date.now();
  #lastSentMs = Date.now();
  #keepAlive: NodeJS.Timeout | undefined;
  #corked = false;
  #closed = false;
  #closeWhenIdle = false;
  /** Resolves once the socket is fully closed (its handle released). */
  readonly socketClosed: Promise<void>;

  private constructor(address: string, socket: Socket, decoder: FrameDecoder, hello: { nodeId: string; leader: ClientConnection['helloLeader']; inflightMax: number; frameBytesMax: number }, events: ConnectionEvents) {
    this.address = address;
    this.#socket = socket;
    this.#decoder = decoder;
    this.#inflightMax = hello.inflightMax > 0 ? hello.inflightMax : Number.POSITIVE_INFINITY;
    this.#frameBytesMax = hello.frameBytesMax > 0 ? hello.frameBytesMax : Number.POSITIVE_INFINITY;
    const { nodeId, leader: helloLeader } = hello;
    this.socketClosed = socket.destroyed && socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
    this.nodeId = nodeId;
    this.helloLeader = helloLeader;
    this.#events = events;
  }

  /**
   * Connects to `address` ("host:port") and exchanges the hello. Rejects with UNAVAILABLE
   * (cause: the socket error) or TIMEOUT after connectTimeoutMs.
   */
  static open(address: string, options: ConnectionOptions, events: ConnectionEvents): Promise<ClientConnection> {
    const { host, port } = parseAddress(address);
    return new Promise((resolve, reject) => {
      const socket = openSocket(host, port, options.tls);
      let conn: ClientConnection | undefined;
      const fail = (err: RaftqError): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new RaftqError('TIMEOUT', `no connection to ${address} within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      socket.once('error', (e) => fail(new RaftqError('UNAVAILABLE', `cannot connect to ${address}: ${e.message}`, { cause: e })));
      socket.once('close', () => fail(new RaftqError('UNAVAILABLE', `${address} closed the connection during the hello`)));
      // The hello is the first frame in each direction; its answer comes before anything else.
      const hello = new FrameDecoder(responseFrameBytesMax);
      const onData = (chunk: Buffer): void => {
        let bodies: Buffer[];
        let res: DecodedResponse;
        try {
          bodies = responseBodies(hello, chunk, address);
          if (bodies.length === 0) return;
          res = decodeResponse(bodies[0]!);
        } catch (e) {
          fail(new RaftqError('UNAVAILABLE', `${address} is not a raftq client port: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
          return;
        }
        if (res.type !== 'hello') {
          fail(res.type === 'error' ? errorFromWire(res.value) : new RaftqError('UNAVAILABLE', `${address} answered the hello with ${res.type ?? 'an unknown result'}`));
          return;
        }
        clearTimeout(timer);
        socket.removeAllListeners();
        // The hello's decoder goes on: it may hold the start of a later frame.
        conn = new ClientConnection(address, socket, hello, {
            nodeId: res.value.nodeId,
            leader: leaderFromWire(res.value.leader),
            inflightMax: res.value.requestsInflightMax,
            frameBytesMax: res.value.frameBytesMax,
          }, events);
        conn.#start(options.keepAliveMs);
        for (const extra of bodies.slice(1)) conn.#onFrame(extra);
        resolve(conn);
      };
      socket.on('data', onData);
      socket.once('connect', () => {
        socket.write(encodeRequestFrame(1, { hello: { client: options.name, ...(options.token !== undefined ? { token: options.token } : {}) } }));
      });
    });
  }

  /** Whether the connection is closed (no request can be sent). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Requests and subscriptions in flight (abandoned ones included until answered). */
  get inflight(): number {
    return this.#pending.size;
  }

  /**
   * Sends one request; resolves with its ok result of type `expect`, rejects with the
   * RaftqError of an error response, TIMEOUT after `timeoutMs`, or UNAVAILABLE when the
   * connection closes first.
   */
  request<K extends ResultName>(body: RequestBody, expect: K, timeoutMs: number): Promise<Ok<K>> {
    return new Promise<DecodedResponse>((resolve, reject) => {
      this.#register(body, timeoutMs, resolve, reject);
    }).then((res) => {
      if (res.type === expect) return res.value as Ok<K>;
      throw new RaftqError('INTERNAL', `expected a ${expect} result from ${this.nodeId}, got ${res.type ?? 'an unknown result'}`);
    });
  }

  /**
   * Starts a subscription. Resolves with its id once the server accepted it; deliveries and
   * the end then go to `handlers`. Rejects like request().
   */
  subscribe(body: Extract<RequestBody, { subscribe: unknown }>, handlers: SubscriptionHandlers, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const id = this.#register(body, timeoutMs, () => resolve(id), reject, handlers);
    });
  }

  /** Sends a request that gets no response (Credit). */
  post(body: RequestBody): void {
    if (this.#closed) return;
    this.#write(encodeRequestFrame(this.#allocateId(), body));
  }

  /** Closes once nothing is in flight any more (a connection replaced by one to the leader). */
  closeWhenIdle(): void {
    this.#closeWhenIdle = true;
    if (this.#pending.size === 0) this.close();
  }

  /** Closes now; everything in flight fails with UNAVAILABLE (or `err`). */
  close(err: RaftqError = new RaftqError('UNAVAILABLE', `connection to ${this.address} closed`)): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#socket.destroy();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#waiting = [];
    for (const p of pending) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      if (p.subscribed === true) p.handlers?.onEnd(err);
      else if (!p.abandoned) p.reject(err);
    }
    this.#events.onClose(this, err);
  }

  #start(keepAliveMs: number): void {
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', (e) => this.close(new RaftqError('UNAVAILABLE', `connection to ${this.address} failed: ${e.message}`, { cause: e })));
    this.#socket.on('close', () => this.close(new RaftqError('UNAVAILABLE', `connection to ${this.address} lost`)));
    this.#keepAlive = setInterval(() => this.#checkAlive(keepAliveMs), Math.max(50, keepAliveMs / 2));
    this.#keepAlive.unref();
  }

  #checkAlive(keepAliveMs: number): void {
    const now = Date.now();
    if (now - this.#lastReceivedMs > 2 * keepAliveMs) {
      this.close(new RaftqError('UNAVAILABLE', `${this.address} sent nothing for ${now - this.#lastReceivedMs} ms; presumed dead`));
      return;
    }
    if (now - this.#lastReceivedMs >= keepAliveMs || now - this.#lastSentMs >= keepAliveMs) {
      // A ping jumps the queue of requests waiting for a slot: any answer (a pong, or UNAVAILABLE
      // when the server's bound is reached) shows the node is alive.
      new Promise<DecodedResponse>((resolve, reject) => this.#register({ ping: {} }, 2 * keepAliveMs, resolve, reject, undefined, true)).catch(() => {});
    }
  }

  /**
   * Registers and sends a request, or queues it while the server's in-flight bound is reached
   * (so a burst waits here instead of being refused with UNAVAILABLE). Returns its id.
   */
  #register(body: RequestBody, timeoutMs: number, resolve: (r: DecodedResponse) => void, reject: (e: RaftqError) => void, handlers?: SubscriptionHandlers, jumpQueue = false): number {
    if (this.#closed) {
      reject(new RaftqError('UNAVAILABLE', `connection to ${this.address} closed`));
      return 0;
    }
    const id = this.#allocateId();
    const frame = encodeRequestFrame(id, body);
    if (frame.byteLength - frameHeaderBytes > this.#frameBytesMax) {
      // The server would close the whole connection over it: refuse this request alone.
      reject(new RaftqError('TOO_LARGE', `request of ${frame.byteLength - frameHeaderBytes} bytes exceeds the server's limit of ${this.#frameBytesMax}`));
      return 0;
    }
    const registeredMs = Date.now();
    const timer = setTimeout(() => {
      const p = this.#pending.get(id);
      if (p === undefined || p.subscribed === true) return;
      if (!p.sent) {
        // Never written: forget it entirely.
        this.#pending.delete(id);
        reject(new RaftqError('TIMEOUT', `request not sent to ${this.nodeId} within ${timeoutMs} ms: ${this.#inflightMax} requests in flight`));
        return;
      }
      p.abandoned = true;
      reject(new RaftqError('TIMEOUT', `no answer from ${this.nodeId} (${this.address}) within ${timeoutMs} ms; outcome unknown`));
      // Nothing at all came back since: the node is stuck or the link half-open (the server
      // answers every request within its own, shorter timeout). Give up on the connection so
      // that retries go to another node.
      if (this.#lastReceivedMs < registeredMs) this.close(new RaftqError('UNAVAILABLE', `${this.address} stopped answering`));
    }, timeoutMs);
    const p: Pending = handlers === undefined ? { resolve, reject, timer, abandoned: false, sent: false } : { resolve, reject, timer, abandoned: false, sent: false, handlers };
    this.#pending.set(id, p);
    if (jumpQueue) this.#write(frame);
    else if (this.#onWire < this.#inflightMax) this.#send(p, frame);
    else this.#waiting.push({ id, frame });
    return id;
  }

  #send(p: Pending, frame: Uint8Array): void {
    p.sent = true;
    this.#onWire++;
    this.#write(frame);
  }

  /** Sends waiting requests while slots are free. */
  #sendWaiting(): void {
    while (this.#onWire < this.#inflightMax && this.#waiting.length > 0) {
      const w = this.#waiting.shift()!;
      const p = this.#pending.get(w.id);
      if (p !== undefined && !p.sent) this.#send(p, w.frame);
    }
  }

  /** A non-zero id that is not in flight (ids wrap at 2^32). */
  #allocateId(): number {
    for (;;) {
      const id = this.#nextId;
      this.#nextId = this.#nextId >= 0xffff_ffff ? 1 : this.#nextId + 1;
      if (!this.#pending.has(id)) return id;
    }
  }

  /** Writes a frame; frames of one turn of the event loop leave in one syscall. */
  #write(frame: Uint8Array): void {
    this.#lastSentMs = Date.now();
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(frame);
  }

  #onData(chunk: Buffer): void {
    this.#lastReceivedMs = Date.now();
    let bodies: Buffer[];
    try {
      bodies = responseBodies(this.#decoder, chunk, this.address);
    } catch (e) {
      this.close(e instanceof RaftqError ? e : new RaftqError('UNAVAILABLE', String(e)));
      return;
    }
    try {
      for (const b of bodies) {
        if (this.#closed) return;
        this.#onFrame(b);
      }
    } catch (e) {
      // A bug here must not crash the application from inside a socket callback.
      this.close(new RaftqError('INTERNAL', `error handling a response from ${this.address}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
    }
  }

  #onFrame(body: Uint8Array): void {
    let res: DecodedResponse;
    try {
      res = decodeResponse(body);
    } catch (e) {
      this.close(new RaftqError('UNAVAILABLE', `undecodable frame from ${this.address}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
      return;
    }
    const leader = leaderFromWire(res.leader);
    if (leader !== undefined) this.#events.onLeader(this, leader);
    if (res.id === 0) {
      // A connection-level error: the server closes the connection after it.
      this.close(res.type === 'error' ? errorFromWire(res.value) : new RaftqError('UNAVAILABLE', `${this.address} sent a frame with id 0`));
      return;
    }
    const p = this.#pending.get(res.id);
    if (p === undefined) return;
    if (p.subscribed === true) {
      if (res.type === 'delivery' && res.value.message !== null) {
        p.handlers?.onDelivery(res.value.message);
      } else if (res.type === 'error') {
        this.#settle(res.id, p);
        p.handlers?.onEnd(errorFromWire(res.value));
      }
      return;
    }
    if (p.handlers !== undefined && res.type === 'subscribe') {
      if (p.timer !== undefined) clearTimeout(p.timer);
      if (p.abandoned) {
        // The caller gave up waiting: end the subscription it no longer wants.
        this.#settle(res.id, p);
        this.post({ unsubscribe: { subscription: res.id } });
        return;
      }
      p.subscribed = true;
      p.resolve(res);
      return;
    }
    this.#settle(res.id, p);
    if (p.abandoned) return;
    if (res.type === 'error') p.reject(errorFromWire(res.value));
    else if (p.handlers !== undefined) p.reject(new RaftqError('INTERNAL', `expected a subscribe result, got ${res.type ?? 'an unknown result'}`));
    else p.resolve(res);
  }

  /** Removes a finished request; closes the connection if it was only draining. */
  #settle(id: number, p: Pending): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    this.#pending.delete(id);
    if (p.sent) {
      this.#onWire--;
      this.#sendWaiting();
    }
    if (this.#closeWhenIdle && this.#pending.size === 0) queueMicrotask(() => this.close());
  }

  /**
   * Ends subscription `id` locally (after its unsubscribe was answered): its handlers get
   * onEnd(undefined) and the id is free again.
   */
  endSubscription(id: number): void {
    const p = this.#pending.get(id);
    if (p?.subscribed !== true) return;
    this.#settle(id, p);
    p.handlers?.onEnd(undefined);
  }
}

/** A plain TCP socket, or a TLS one verifying the node's certificate (and name) against `tls.ca`. */
function openSocket(host: string, port: number, tls: ClientTlsOptions | undefined): Socket {
  if (tls === undefined) return netConnect({ host, port, noDelay: true });
  const servername = tls.servername ?? (isIP(host) === 0 ? host : undefined);
  const socket = tlsConnect({
    host,
    port,
    ...(servername !== undefined ? { servername } : {}),
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls.key !== undefined ? { key: tls.key } : {}),
  });
  socket.setNoDelay(true);
  return socket;
}

/** Splits "host:port" (or "[v6]:port"); throws TypeError for anything else. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`"${address}" is not a host:port address`);
  return { host: m[1] ?? m[2]!, port };
}
