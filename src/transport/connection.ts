/**
 * One TCP socket carrying PeerFrames, either direction. It owns the framing: bytes in become
 * validated frames handed to a handler in order; a malformed, oversized or truncated frame
 * closes the socket and is logged at warn; it never throws out of a socket event handler.
 * Frames out are written with one vectored write per call.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { FrameError } from './errors.js';
import { FrameDecoder } from '../proto/framing.js';
import { decodePeerFrame, type PeerFrame } from './peer-frame.js';
import type { TransportCounters } from './stats.js';

/**
 * Handles one decoded frame. Returning a promise holds back later frames (and pauses the
 * socket, pushing back on the sender) until it settles: this is how a slow snapshot sink
 * exerts backpressure. The promise must not reject; a rejection is a bug and is rethrown.
 */
export type FrameHandler = (frame: PeerFrame) => void | Promise<void>;

/**
 * How long a connection closed with endWith waits for the peer to close its side: 1 s. Enough
 * for the peer to read a Refuse frame on any sane network, short enough that a peer ignoring
 * the refusal cannot hold a socket open.
 */
export const endLingerMs = 1000;

/** A framed peer socket. */
export class FramedConnection {
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  readonly #counters: TransportCounters;
  /** Carries the addr field, and the peer field once the peer is known. */
  #logger: Logger;
  /** "host:port" of the remote end, for logs. */
  readonly remoteAddr: string;
  /** Resolves once the socket has fully closed. */
  readonly closed: Promise<void>;
  #handler: FrameHandler = () => {};
  #onClose: () => void = () => {};
  /** Decoded bodies not yet handed to the handler. Invariant: empty unless #busy or closing. */
  #backlog: Uint8Array[] = [];
  /** True while a handler promise is pending. Invariant: #busy implies the socket is paused. */
  #busy = false;
  /** True once close started; no frame is delivered or written after it. */
  #isClosed = false;
  /** Waiters for 'drain' (true) or close (false). */
  #drainWaiters: Array<(drained: boolean) => void> = [];

  /** @param remoteAddr "host:port" for logs; defaults to the socket's (known once connected). */
  constructor(socket: Socket, frameBytesMax: number, counters: TransportCounters, logger: Logger, remoteAddr?: string) {
    this.#socket = socket;
    this.#decoder = new FrameDecoder(frameBytesMax);
    this.#counters = counters;
    this.remoteAddr = remoteAddr ?? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.#logger = logger.child({ addr: this.remoteAddr });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => this.#settleDrainWaiters(true));
    socket.on('error', (err) => this.#logger.debug({ err: err.message }, 'peer socket error'));
    socket.once('close', () => {
      this.#isClosed = true;
      this.#backlog = [];
      this.#settleDrainWaiters(false);
      this.#onClose();
    });
  }

  /** Sets the frame handler and the close callback (called once, after the socket closed). */
  start(handler: FrameHandler, onClose: () => void): void {
    this.#handler = handler;
    this.#onClose = onClose;
  }

  /** True once the connection is closing or closed. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** True while the socket's write buffer is above its high-water mark. */
  get needsDrain(): boolean {
    return this.#socket.writableNeedDrain;
  }

  /**
   * Writes already length-prefixed frames in one vectored write (cork/uncork). Returns false if
   * the connection is closed or its buffer is now full (wait with waitDrain before writing more).
   */
  write(frames: readonly Uint8Array[]): boolean {
    if (this.#isClosed) return false;
    const corked = frames.length > 1;
    if (corked) this.#socket.cork();
    let ok = true;
    for (const frame of frames) {
      ok = this.#socket.write(frame);
      this.#counters.bytesSent += frame.byteLength;
      this.#counters.framesSent += 1;
    }
    if (corked) this.#socket.uncork();
    return ok && !this.#isClosed;
  }

  /** Resolves true once the write buffer drained (at once if it is not full), false on close. */
  waitDrain(): Promise<boolean> {
    if (this.#isClosed) return Promise.resolve(false);
    if (!this.#socket.writableNeedDrain) return Promise.resolve(true);
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Adds the peer's id to every later log line of this connection. */
  setPeer(peer: string): void {
    this.#logger = this.#logger.child({ peer });
  }

  /**
   * Writes a last frame and half-closes, so the peer reads the frame before EOF; the socket is
   * destroyed when the peer closes too, or after endLingerMs if it never does.
   */
  endWith(frame: Uint8Array): void {
    if (this.#isClosed) return;
    this.write([frame]);
    this.#isClosed = true;
    this.#socket.end();
    const timer = setTimeout(() => this.#socket.destroy(), endLingerMs);
    timer.unref();
    this.#socket.once('close', () => clearTimeout(timer));
  }

  /** Closes the connection at once (queued writes are discarded). Idempotent. */
  close(): void {
    this.#isClosed = true;
    this.#socket.destroy();
  }

  /** Closes the connection because of bad bytes from the peer: counted, logged at warn. */
  reject(err: FrameError): void {
    if (this.#isClosed) return;
    this.#counters.framesRejected += 1;
    this.#logger.warn({ code: err.code, err: err.message }, 'rejected frame from peer; closing connection');
    this.close();
  }

  #onData(chunk: Buffer): void {
    if (this.#isClosed) return;
    this.#counters.bytesReceived += chunk.byteLength;
    let bodies: Uint8Array[];
    try {
      bodies = this.#decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.reject(err);
      return;
    }
    for (const body of bodies) this.#backlog.push(body);
    this.#pump();
  }

  #onEnd(): void {
    try {
      this.#decoder.end();
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.reject(err);
    }
  }

  /** Hands backlog frames to the handler in order until it returns a pending promise. */
  #pump(): void {
    while (!this.#busy && !this.#isClosed) {
      const body = this.#backlog.shift();
      if (body === undefined) return;
      let frame: PeerFrame;
      try {
        frame = decodePeerFrame(body);
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        this.reject(err);
        return;
      }
      this.#counters.framesReceived += 1;
      const pending = this.#handler(frame);
      if (pending instanceof Promise) this.#holdUntil(pending);
    }
  }

  #holdUntil(pending: Promise<void>): void {
    this.#busy = true;
    this.#socket.pause();
    pending.then(
      () => {
        this.#busy = false;
        if (this.#isClosed) return;
        this.#socket.resume();
        this.#pump();
      },
      (err: unknown) => {
        // A frame handler promise never rejects by contract; crash loudly rather than hide a bug.
        queueMicrotask(() => {
          throw err;
        });
      },
    );
  }

  #settleDrainWaiters(drained: boolean): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w(drained);
  }
}
