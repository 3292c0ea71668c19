import { setMaxListeners } from 'node:events';
import type { Socket } from 'node:net';
import { RaftqError } from '../errors.js';
import { decodeRequest, encodeResponseFrame, type DecodedRequest, type ResultBody, type WireNodeRef } from '../proto/client-wire.js';
import { FrameError } from '../proto/frame-error.js';
import { FrameDecoder, frameHeaderBytes } from '../proto/framing.js';
import { toRaftqError } from '../server/error-map.js';
import { messageToWire, runOp, type BinaryContext, type SimpleOp } from './binary-ops.js';
import { ServerSubscription } from './binary-subscription.js';

/** Bounds of one client connection. */
export interface ConnectionLimits {
  /** Largest request frame body, in bytes; a larger one gets TOO_LARGE and the connection closes. */
  readonly frameBytesMax: number;
  /** Requests (subscriptions included) in flight at once; more get UNAVAILABLE. */
  readonly requestsInflightMax: number;
  /** Milliseconds without a byte from the client (or with a frame left incomplete) before closing. */
  readonly idleTimeoutMs: number;
}

/**
 * Bytes of responses queued in the socket beyond which the connection stops reading requests
 * until the client drains them: a client that pipelines requests but does not read responses
 * cannot make the node buffer without bound (at most this plus what is in flight).
 */
const writeBufferBytesHigh = 8 * 1024 * 1024;

/** After the error frame that precedes a close, how long the client gets to read it, in ms. */
const closeGraceMs = 1000;

/** A request in flight: a plain request, or a subscription (its id stays taken while it lasts). */
type Inflight = 'request' | ServerSubscription;

/**
 * One binary-protocol client connection: reassembles request frames, runs each request
 * concurrently (pipelined) and writes its response when it completes, tracks subscriptions,
 * and enforces the connection's limits. Protocol violations (a malformed frame, an oversized
 * frame, a duplicate id) get an error frame with id 0, then the connection is closed.
 */
export class BinaryConnection {
  readonly #socket: Socket;
  /** Gains the principal when a Hello authenticates the connection. */
  #ctx: BinaryContext;
  /** With auth required: false until a Hello carried a valid token. */
  #authenticated: boolean;
  readonly #limits: ConnectionLimits;
  readonly #decoder: FrameDecoder;
  readonly #onClosed: (c: BinaryConnection) => void;
  /** Invariant: #inflight.size <= limits.requestsInflightMax. */
  readonly #inflight = new Map<number, Inflight>();
  #lastReadMs = Date.now();
  /** When the oldest incomplete frame started arriving; undefined when none is buffered. */
  #partialSinceMs: number | undefined;
  /** Bytes read, and bytes of the complete frames among them (the rest is a partial frame). */
  #bytesRead = 0;
  #bytesFramed = 0;
  /** The leader id last reported on this connection ('' before the first report). */
  #leaderReported = '';
  #corked = false;
  #readPaused = false;
  #closed = false;
  /** Aborted once the connection closes: its long polls end (with one last receive). */
  readonly #closedController = new AbortController();
  /** The server's shutdown signal, forwarded to #closedController until teardown. */
  readonly #serverClosing: AbortSignal;
  readonly #onServerClosing = (): void => this.#closedController.abort();
  #tornDown = false;
  readonly remote: string;

  constructor(socket: Socket, ctx: BinaryContext, limits: ConnectionLimits, onClosed: (c: BinaryConnection) => void) {
    this.#socket = socket;
    // Every waiting long poll listens on it for a moment (bounded by the requests in flight): no leak warning.
    setMaxListeners(0, this.#closedController.signal);
    this.#limits = limits;
    this.#decoder = new FrameDecoder(limits.frameBytesMax);
    this.#onClosed = onClosed;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    // The connection's long polls end when it closes or the server shuts down. A listener removed
    // at teardown, not AbortSignal.any: the server's signal outlives many connections.
    this.#serverClosing = ctx.closing;
    if (ctx.closing.aborted) this.#closedController.abort();
    else ctx.closing.addEventListener('abort', this.#onServerClosing, { once: true });
    this.#ctx = { ...ctx, closing: this.#closedController.signal };
    this.#authenticated = ctx.auth?.required !== true;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, limits.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#maybeResumeReading());
    socket.on('end', () => this.#onEnd());
    socket.on('error', (e) => this.#ctx.logger.debug({ err: e, remote: this.remote }, 'client connection error'));
    socket.on('close', () => this.#teardown());
  }

  /** Requests in flight (subscriptions included). */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Closes an idle connection or one stuck on an incomplete frame (called periodically). */
  sweep(nowMs: number): void {
    if (this.#closed) return;
    if (nowMs - this.#lastReadMs > this.#limits.idleTimeoutMs) {
      this.#fail(new RaftqError('TIMEOUT', `nothing received for ${this.#limits.idleTimeoutMs} ms; closing (send a Ping when idle)`));
    } else if (this.#partialSinceMs !== undefined && nowMs - this.#partialSinceMs > this.#limits.idleTimeoutMs) {
      this.#fail(new RaftqError('TIMEOUT', `a frame stayed incomplete for ${this.#limits.idleTimeoutMs} ms; closing`));
    }
  }

  /**
   * Graceful close for a server shutdown: ends subscriptions, lets requests in flight finish
   * for up to `waitMs`, then says UNAVAILABLE and closes.
   */
  async shutdown(waitMs: number): Promise<void> {
    if (this.#closed) return;
    const subs = [...this.#inflight.values()].filter((v): v is ServerSubscription => v instanceof ServerSubscription);
    await Promise.all(subs.map((s) => s.cancel()));
    const until = Date.now() + waitMs;
    while (this.#inflight.size > subs.length && Date.now() < until && !this.#closed) await new Promise((r) => setTimeout(r, 20));
    this.#fail(new RaftqError('UNAVAILABLE', 'node is shutting down; retry on another node'));
  }

  /** Closes at once. */
  destroy(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    try {
      this.#read(chunk);
    } catch (e) {
      // A bug, not bad input (that is answered above): never let it take the node down.
      this.#ctx.logger.error({ err: e, remote: this.remote }, 'internal error on a client connection');
      this.#fail(new RaftqError('INTERNAL', `internal error: ${e instanceof Error ? e.message : String(e)}`));
    }
  }

  #read(chunk: Buffer): void {
    if (this.#closed) return;
    this.#lastReadMs = Date.now();
    let bodies: Uint8Array[];
    try {
      bodies = this.#decoder.push(chunk);
    } catch (e) {
      if (e instanceof FrameError && e.code === 'FRAME_TOO_LARGE') this.#fail(new RaftqError('TOO_LARGE', `${e.message}; closing`));
      else this.#fail(new RaftqError('INVALID_ARGUMENT', `malformed frame: ${e instanceof Error ? e.message : String(e)}; closing`));
      return;
    }
    this.#bytesRead += chunk.byteLength;
    for (const b of bodies) this.#bytesFramed += frameHeaderBytes + b.byteLength;
    if (this.#bytesRead === this.#bytesFramed) this.#partialSinceMs = undefined;
    else this.#partialSinceMs ??= this.#lastReadMs;
    for (const body of bodies) {
      if (this.#closed) return;
      this.#onFrame(body);
    }
  }

  #onFrame(body: Uint8Array): void {
    let req: ReturnType<typeof decodeRequest>;
    try {
      req = decodeRequest(body);
    } catch (e) {
      this.#fail(new RaftqError('INVALID_ARGUMENT', `malformed request frame (not a raftq.client.Request: ${e instanceof Error ? e.message : String(e)}); closing`));
      return;
    }
    if (req.op === undefined) return this.#fail(new RaftqError('INVALID_ARGUMENT', 'request frame without an op (unknown to this server); closing'));
    if (req.id === 0) return this.#fail(new RaftqError('INVALID_ARGUMENT', 'request id 0 is reserved; closing'));
    if (req.op === 'credit') return this.#credit(req.args.subscription, req.args.messages);
    if (this.#inflight.has(req.id)) return this.#fail(new RaftqError('INVALID_ARGUMENT', `request id ${req.id} is already in flight; closing`));
    if (this.#inflight.size >= this.#limits.requestsInflightMax) {
      this.#send(req.id, errorBody(new RaftqError('UNAVAILABLE', `overloaded: ${this.#limits.requestsInflightMax} requests in flight on this connection`)));
      return;
    }
    this.#dispatch(req);
  }

  #dispatch(req: Exclude<DecodedRequest, { op: 'credit' }>): void {
    if (req.op === 'hello' && this.#ctx.auth?.required === true) {
      try {
        const principal = this.#ctx.auth.authenticate(req.args.token);
        this.#ctx = { ...this.#ctx, ...(principal !== undefined ? { principal } : {}) };
        this.#authenticated = true;
      } catch (e) {
        this.#send(req.id, errorBody(toRaftqError(e)));
        return;
      }
    } else if (!this.#authenticated && req.op !== 'ping') {
      this.#send(req.id, errorBody(new RaftqError('UNAUTHENTICATED', 'authenticate first: send a Hello with a token')));
      return;
    } else if (this.#ctx.principal !== undefined && this.#ctx.auth !== undefined && req.op !== 'ping') {
      // Each request acts with the user's permissions of now; a revoked token stops working.
      try {
        const principal = this.#ctx.auth.current(this.#ctx.principal);
        if (principal !== this.#ctx.principal) this.#ctx = { ...this.#ctx, principal };
      } catch (e) {
        this.#send(req.id, errorBody(toRaftqError(e)));
        return;
      }
    }
    switch (req.op) {
      case 'hello':
        this.#leaderReported = this.#ctx.node.leader()?.id ?? '';
        this.#send(req.id, {
          hello: {
            nodeId: this.#ctx.node.config.nodeId,
            leader: nodeRef(this.#ctx.node.leader()) ?? null,
            frameBytesMax: this.#limits.frameBytesMax,
            requestsInflightMax: this.#limits.requestsInflightMax,
            idleTimeoutMs: this.#limits.idleTimeoutMs,
          },
        });
        return;
      case 'ping':
        this.#send(req.id, { pong: {} });
        return;
      case 'subscribe':
        this.#subscribe(req.id, req.args.queue, req.args.visibilityTimeoutMs ?? undefined, req.args.credit);
        return;
      case 'unsubscribe':
        this.#track(req.id, req.op, this.#unsubscribe(req.args.subscription));
        return;
      default:
        this.#track(req.id, req.op, runOp(this.#ctx, req satisfies SimpleOp));
    }
  }

  /** Registers request `id` as in flight until `work` settles, then answers it. */
  #track(id: number, op: string, work: Promise<ResultBody>): void {
    this.#inflight.set(id, 'request');
    work
      .then(
        (body) => {
          this.#ctx.countRequest?.(op, 'OK');
          this.#send(id, body);
        },
        (e: unknown) => {
          const err = toRaftqError(e);
          if (err.code === 'INTERNAL') this.#ctx.logger.error({ err: e, remote: this.remote }, 'internal error serving a binary request');
          this.#ctx.countRequest?.(op, err.code);
          this.#send(id, errorBody(err));
        },
      )
      .catch((e: unknown) => this.#ctx.logger.error({ err: e, remote: this.remote }, 'could not answer a binary request'))
      .finally(() => this.#inflight.delete(id));
  }

  #subscribe(id: number, queue: string, visibilityTimeoutMs: number | undefined, credit: number): void {
    let sub: ServerSubscription;
    try {
      sub = new ServerSubscription(this.#ctx, id, queue, visibilityTimeoutMs, credit, {
        deliver: (m) => this.#inflight.get(id) === sub && this.#send(id, { delivery: { message: messageToWire(m) } }),
        ended: (err) => {
          if (this.#inflight.get(id) !== sub) return;
          this.#inflight.delete(id);
          this.#send(id, errorBody(err));
        },
      });
    } catch (e) {
      this.#send(id, errorBody(toRaftqError(e)));
      return;
    }
    this.#inflight.set(id, sub);
    this.#send(id, { subscribe: {} });
    sub.start();
  }

  async #unsubscribe(subscription: number): Promise<ResultBody> {
    const sub = this.#inflight.get(subscription);
    if (sub instanceof ServerSubscription) {
      await sub.cancel();
      if (this.#inflight.get(subscription) === sub) this.#inflight.delete(subscription);
    }
    return { unsubscribe: {} };
  }

  #credit(subscription: number, messages: number): void {
    const sub = this.#inflight.get(subscription);
    if (!(sub instanceof ServerSubscription)) return;
    try {
      sub.addCredit(messages);
    } catch (e) {
      this.#inflight.delete(subscription);
      void sub.cancel();
      this.#send(subscription, errorBody(toRaftqError(e)));
    }
  }

  /**
   * Writes one response (with the leader when it changed since the last report); false when
   * the connection is closed. Writes of one turn of the event loop go out in one syscall.
   */
  #send(id: number, body: ResultBody): boolean {
    if (this.#closed) return false;
    const leader = this.#ctx.node.leader();
    let ref: WireNodeRef | undefined;
    if (leader !== undefined && leader.id !== this.#leaderReported) {
      this.#leaderReported = leader.id;
      ref = nodeRef(leader);
    }
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(encodeResponseFrame(id, ref, body));
    if (this.#socket.writableLength > writeBufferBytesHigh && !this.#readPaused) {
      this.#readPaused = true;
      this.#socket.pause();
    }
    return true;
  }

  #maybeResumeReading(): void {
    if (this.#readPaused && this.#socket.writableLength <= writeBufferBytesHigh / 2) {
      this.#readPaused = false;
      this.#socket.resume();
    }
  }

  /** Sends a connection-level error (id 0) and closes. */
  #fail(err: RaftqError): void {
    if (this.#closed) return;
    this.#ctx.logger.debug({ remote: this.remote, code: err.code, msg: err.message }, 'closing client connection');
    this.#send(0, errorBody(err));
    this.#closed = true;
    this.#closedController.abort();
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), closeGraceMs).unref();
    this.#teardown();
  }

  #onEnd(): void {
    // The client closed its side (the server does not allow half-open sockets, so Node ends
    // ours too): nothing more can be answered.
    if (this.#bytesRead !== this.#bytesFramed) this.#ctx.logger.debug({ remote: this.remote }, 'client closed the connection inside a frame');
    this.#teardown();
  }

  #teardown(): void {
    this.#closed = true;
    this.#closedController.abort();
    if (this.#tornDown) return;
    this.#tornDown = true;
    this.#serverClosing.removeEventListener('abort', this.#onServerClosing);
    for (const v of this.#inflight.values()) if (v instanceof ServerSubscription) void v.cancel();
    this.#onClosed(this);
  }
}

function errorBody(err: RaftqError): ResultBody {
  return { error: { code: err.code, message: err.message, leader: nodeRef(err.leader) ?? null } };
}

function nodeRef(l: { id: string; http?: string; client?: string } | undefined): WireNodeRef | undefined {
  return l === undefined ? undefined : { id: l.id, client: l.client ?? '', http: l.http ?? '' };
}
