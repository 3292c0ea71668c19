import { randomBytes } from 'node:crypto';
import { assert } from '../../raft/assert.js';
import type { NodeId } from '../../raft/types.js';
import { RaftqError, isErrorCode } from '../errors.js';
import { pendingWithDeadline } from './deadline.js';
import { replyStatus, type ReplyEncoding } from './reply-encoding.js';

/** An ok reply from the leader: its encoding (status byte 1 or 2) and the encoded reply. */
export interface ForwardedReply {
  readonly encoding: ReplyEncoding;
  readonly bytes: Uint8Array;
}

/** Sends one forwarded request frame; false when it could not be queued (not sent). */
export type ForwardSend = (to: NodeId, requestId: number, payload: Uint8Array) => boolean;

interface InFlight {
  readonly leader: NodeId;
  readonly resolve: (r: ForwardedReply) => void;
  readonly reject: (e: Error) => void;
}

/**
 * Requests this follower forwarded to a leader, until the leader's reply (or their deadline).
 *
 * Request ids start at a random 52-bit value in every process and count up from there, so a
 * reply that a leader sends late to an earlier incarnation of this node (same node id, same
 * connection address) never names a request of this one: replies are matched by id AND by the
 * node the request went to. Without the random start a restarted follower would resolve its
 * own request 1 with the reply to its predecessor's request 1 (issue 15, item 1).
 *
 * Invariant: every in-flight request is settled exactly once: by its reply, its deadline,
 * failTo (its leader is gone) or failAll (shutdown), all with the outcome they can vouch for.
 */
export class Forwarder {
  readonly #inFlight = new Map<number, InFlight>();
  readonly #send: ForwardSend;
  #nextId: number;

  constructor(send: ForwardSend, firstId: number = randomRequestIdStart()) {
    assert(Number.isSafeInteger(firstId) && firstId >= 0 && firstId < 2 ** 52, 'forward id start out of range');
    this.#send = send;
    this.#nextId = firstId;
  }

  /** Requests waiting for a reply. */
  get size(): number {
    return this.#inFlight.size;
  }

  /**
   * Sends `payload` to `leader` and resolves with the encoded reply; rejects with the leader's
   * error, TIMEOUT at `timeoutMs` (outcome unknown), or UNAVAILABLE when it could not be sent.
   */
  forward(leader: NodeId, payload: Uint8Array, timeoutMs: number): Promise<ForwardedReply> {
    const id = this.#nextId++;
    assert(Number.isSafeInteger(id), 'forward request ids exhausted');
    return pendingWithDeadline<ForwardedReply>(
      timeoutMs,
      (settle) => {
        this.#inFlight.set(id, {
          leader,
          resolve: (b) => {
            this.#inFlight.delete(id);
            settle.resolve(b);
          },
          reject: (e) => {
            this.#inFlight.delete(id);
            settle.reject(e);
          },
        });
        if (!this.#send(leader, id, payload)) this.#inFlight.get(id)?.reject(new RaftqError('UNAVAILABLE', `leader ${leader} is not reachable`));
      },
      () => {
        this.#inFlight.delete(id);
        return new RaftqError('TIMEOUT', `forwarded request to leader ${leader} timed out; its outcome is unknown`);
      },
    );
  }

  /**
   * A reply frame from `from`. Ignored (returns false) unless it answers a request in flight
   * that was sent to `from`: a late reply to a request that already ended, to a request of an
   * earlier incarnation, or from another node never completes a request. The status byte
   * (reply-encoding.ts) says ok in JSON (1), ok in binary (2) or error (0).
   */
  onReply(from: NodeId, requestId: number, body: Uint8Array): boolean {
    const w = this.#inFlight.get(requestId);
    if (w === undefined || w.leader !== from) return false;
    const status = body[0];
    if (status === replyStatus.okJson) w.resolve({ encoding: 'json', bytes: body.subarray(1) });
    else if (status === replyStatus.okBinary) w.resolve({ encoding: 'binary', bytes: body.subarray(1) });
    else if (status === replyStatus.error) w.reject(decodeRemoteError(body.subarray(1)));
    else w.reject(new RaftqError('INTERNAL', `reply from leader ${from} has unknown status ${String(status)}`));
    return true;
  }

  /** Fails the requests sent to `leader` (its connection or leadership is gone): TIMEOUT. */
  failTo(leader: NodeId, why: string): void {
    for (const w of [...this.#inFlight.values()]) {
      if (w.leader === leader) w.reject(new RaftqError('TIMEOUT', `${why} while a forwarded request was in flight; its outcome is unknown`));
    }
  }

  /** Fails every request (shutdown): TIMEOUT, since the leader may still apply them. */
  failAll(why: string): void {
    for (const w of [...this.#inFlight.values()]) w.reject(new RaftqError('TIMEOUT', `${why} while a forwarded request was in flight; its outcome is unknown`));
  }
}

/** A random start for request ids: 52 bits, so a process can count up without leaving safe integers. */
export function randomRequestIdStart(): number {
  const b = randomBytes(8);
  // The high 20 bits of the 52 from the first 4 bytes, the low 32 from the last 4.
  return (b.readUInt32BE(0) & 0xfffff) * 2 ** 32 + b.readUInt32BE(4);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The body of a reply frame that carries `reply` encoded as `encoding` (status byte 1 or 2). */
export function encodeOkReply(reply: Uint8Array, encoding: ReplyEncoding): Uint8Array {
  const out = new Uint8Array(reply.byteLength + 1);
  out[0] = encoding === 'binary' ? replyStatus.okBinary : replyStatus.okJson;
  out.set(reply, 1);
  return out;
}

/** The body of a reply frame that carries an error (status byte 0, then JSON). */
export function encodeErrorReply(err: RaftqError): Uint8Array {
  const enc = encoder.encode(JSON.stringify({ code: err.code, message: err.message, leader: err.leader }));
  const out = new Uint8Array(enc.byteLength + 1);
  out[0] = replyStatus.error;
  out.set(enc, 1);
  return out;
}

function decodeRemoteError(bytes: Uint8Array): RaftqError {
  try {
    const o = JSON.parse(decoder.decode(bytes)) as { code?: unknown; message?: unknown; leader?: { id: string; http?: string; client?: string } };
    const code = isErrorCode(o.code) ? o.code : 'INTERNAL';
    return new RaftqError(code, typeof o.message === 'string' ? o.message : 'remote error', o.leader !== undefined ? { leader: o.leader } : {});
  } catch {
    return new RaftqError('INTERNAL', 'undecodable error reply from the leader');
  }
}
