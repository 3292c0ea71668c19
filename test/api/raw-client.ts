/**
 * A raw binary-protocol connection for tests: writes arbitrary bytes or encoded Request frames
 * and reads decoded Response frames one by one, so tests can send what no well-behaved client
 * would and see exactly what the server answers.
 */
import { connect, type Socket } from 'node:net';
import { decodeResponse, encodeRequestFrame, type DecodedResponse, type RequestBody } from '../../src/proto/client-wire.js';

export class RawConnection {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  readonly #frames: DecodedResponse[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 4) {
        const n = this.#buffer.readUInt32BE(0);
        if (this.#buffer.length < 4 + n) break;
        this.#frames.push(decodeResponse(this.#buffer.subarray(4, 4 + n)));
        this.#buffer = this.#buffer.subarray(4 + n);
      }
      this.#wake();
    });
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.#closed = true;
        this.#wake();
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.off('error', reject);
        resolve(new RawConnection(s));
      });
      s.once('error', reject);
    });
  }

  /** Whether the server closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Writes raw bytes. */
  write(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  /** Writes one Request frame. */
  request(id: number, body: RequestBody): void {
    this.#socket.write(encodeRequestFrame(id, body));
  }

  /** The next response frame; rejects when the connection closes first or after `timeoutMs`. */
  async next(timeoutMs = 10_000): Promise<DecodedResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.#frames.shift();
      if (f !== undefined) return f;
      if (this.#closed) throw new Error('connection closed before a frame arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** The next response with id `id` (others are kept in order for later next() calls). */
  async nextFor(id: number, timeoutMs = 10_000): Promise<DecodedResponse> {
    const deadline = Date.now() + timeoutMs;
    const skipped: DecodedResponse[] = [];
    try {
      for (;;) {
        const f = await this.next(Math.max(1, deadline - Date.now()));
        if (f.id === id) return f;
        skipped.push(f);
      }
    } finally {
      this.#frames.unshift(...skipped);
    }
  }

  /** Frames received and not yet read. */
  get buffered(): number {
    return this.#frames.length;
  }

  /** Resolves once the server closed the connection (rejects after `timeoutMs`). */
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    await Promise.race([this.closedPromise, new Promise((_, reject) => setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs).unref())]);
  }

  close(): void {
    this.#socket.destroy();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}

/** A frame with the given 4-byte length prefix and body. */
export function frameOf(body: Uint8Array, declaredLength = body.byteLength): Uint8Array {
  const out = Buffer.alloc(4 + body.byteLength);
  out.writeUInt32BE(declaredLength, 0);
  out.set(body, 4);
  return out;
}
