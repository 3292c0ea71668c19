/**
 * The one owner of request forwarding (issue 17, item 5): both sides of a request that arrives
 * at a node that does not lead.
 *
 * Follower side (submit): a request is forwarded to the known leader through the in-flight
 * table (Forwarder, forwarder.ts) with this release's flags (forwardFlags, reply-encoding.ts)
 * and its reply decoded with the codec of the encoding the leader chose. A NOT_LEADER answer
 * waits a tick (a stale view of the leader must not become a tight loop) and retries at the
 * leader it named, or whichever leader this node knows by then. With no leader known the
 * request waits for one (leaderKnown) up to leaderWaitMs (and its deadline): none by then is
 * NO_LEADER. On the leader itself, submit proposes through the proposer.
 *
 * Leader side (onApp): a forwarded frame (forward-frame.ts) is served only as leader, never
 * forwarded again: size check, proposal, then the reply in the encoding the follower's flags
 * name (replyEncodingFor), cut to fit one peer frame (Application.replyWithin, size-limits.ts);
 * what was cut is released through `release`.
 *
 * Leader loss (tick): a follower that sees its link to the leader down for 2 ticks forgets the
 * leader and fails the requests it forwarded there (TIMEOUT: outcome unknown).
 *
 * The Raft core, the proposer, the application and the transport are reached through narrow
 * interfaces, so tests drive this class with fakes (test/server/forwarding-part.test.ts).
 */
import type { Logger } from 'pino';
import { NONE, type NodeId } from '../../raft/types.js';
import { RaftqError } from '../errors.js';
import type { AppFrame } from '../transport/index.js';
import { toRaftqError } from './error-map.js';
import { decodeForward, encodeForward } from './forward-frame.js';
import { Forwarder, encodeErrorReply, encodeOkReply } from './forwarder.js';
import type { LeaderHint } from './membership-owner.js';
import { forwardFlags, replyEncodingFor, type ReplyCodecs, type ReplyEncoding } from './reply-encoding.js';

/** The AppFrame kind of a forwarded request. */
export const forwardKind = 'submit';
/** The AppFrame kind of the reply to one. */
export const replyKind = 'reply';

/** What forwarding needs of the Raft core; RawNode has it. */
export interface ForwardingRaft {
  readonly role: string;
  readonly leader: NodeId;
  readonly term: number;
  forgetLeader(): void;
}

/** What forwarding needs of the proposer (Proposer, proposer.ts). */
export interface ForwardingProposer<Result> {
  checkSize(command: Uint8Array): void;
  propose(payload: Uint8Array, deadline: number): Promise<Result>;
}

/** What forwarding needs of the application (Application, application.ts). */
export interface ForwardingApp<Result, Reply> {
  reply(result: Result): Promise<Reply>;
  replyWithin(result: Result, command: Uint8Array, bytesMax: number, encoding: ReplyEncoding): Promise<{ reply: Reply; release: readonly Uint8Array[] }>;
}

/** What forwarding needs of the peer transport; PeerTransport has it. */
export interface ForwardingTransport {
  sendApp(to: NodeId, kind: string, requestId: number, payload: Uint8Array, flags?: number): boolean;
  isConnected(peer: NodeId): boolean;
}

/** The runtime settings forwarding reads (read anew on every use: the members change). */
export interface ForwardingSettings {
  readonly nodeId: NodeId;
  readonly tickMs: number;
  readonly requestTimeoutMs: number;
  readonly leaderWaitMs: number;
  readonly peers: Readonly<Record<NodeId, unknown>>;
}

/** What Forwarding needs of its node. */
export interface ForwardingOptions<Result, Reply> {
  readonly settings: () => ForwardingSettings;
  readonly raft: ForwardingRaft;
  readonly proposer: ForwardingProposer<Result>;
  readonly app: ForwardingApp<Result, Reply>;
  readonly replyCodecs: ReplyCodecs<Reply>;
  readonly transport: ForwardingTransport;
  /** The largest encoded reply to a forwarded request (size-limits.ts). */
  readonly forwardReplyBytesMax: number;
  /** The leader hint NOT_LEADER carries. */
  readonly leaderHint: () => LeaderHint;
  /** Proposes a command that undoes what a cut reply left out (the node's submit). */
  readonly release: (command: Uint8Array) => Promise<unknown>;
  readonly isStopped: () => boolean;
  readonly logger: Logger;
  /** Clock of the deadlines, in milliseconds. */
  readonly now: () => number;
  /** The in-flight table's first request id (default random, forwarder.ts). */
  readonly firstRequestId?: number;
}

/** Forwarding of client requests between followers and the leader: see the module comment. */
export class Forwarding<Result, Reply> {
  readonly #o: ForwardingOptions<Result, Reply>;
  /** Requests this follower forwarded, until their reply. */
  readonly #forwarder: Forwarder;
  /** Waiters for a leader to be known. */
  #leaderWaiters: Array<() => void> = [];
  /** Ticks since this follower's connection to its leader was seen down. */
  #leaderDownTicks = 0;

  constructor(o: ForwardingOptions<Result, Reply>) {
    this.#o = o;
    const send = (to: NodeId, id: number, payload: Uint8Array): boolean => o.transport.sendApp(to, forwardKind, id, payload, forwardFlags());
    this.#forwarder = o.firstRequestId !== undefined ? new Forwarder(send, o.firstRequestId) : new Forwarder(send);
  }

  /** Forwarded requests waiting for a reply. */
  get inFlight(): number {
    return this.#forwarder.size;
  }

  /**
   * Proposes `payload` (as leader) or forwards it to the leader, until `deadline`: see the
   * module comment. The size check is done before the first attempt.
   */
  async submit(payload: Uint8Array, deadline: number, requestId: string): Promise<Reply> {
    const o = this.#o;
    o.proposer.checkSize(payload);
    /** The node a NOT_LEADER answer named as leader: the next forward goes there. */
    let hinted: NodeId | undefined;
    for (;;) {
      if (o.isStopped()) throw new RaftqError('UNAVAILABLE', 'node is shutting down');
      const cfg = o.settings();
      if (o.raft.role === 'leader') {
        const result = await o.proposer.propose(payload, deadline);
        return await o.app.reply(result);
      }
      const leader = hinted ?? o.raft.leader;
      hinted = undefined;
      if (leader !== NONE && leader !== cfg.nodeId) {
        try {
          o.logger.debug({ reqId: requestId, leader }, 'forwarding request to the leader');
          const forwarded = await this.#forwarder.forward(leader, encodeForward(requestId, payload), deadline - o.now());
          return o.replyCodecs[forwarded.encoding].decode(forwarded.bytes);
        } catch (e) {
          // The node we forwarded to is no longer leader (it did not propose the request):
          // wait a tick, so a stale view of the leader cannot turn into a tight loop, then try
          // the leader it named, or whichever leader this node knows by then.
          if (!(e instanceof RaftqError && e.code === 'NOT_LEADER') || o.now() + o.settings().tickMs >= deadline) throw e;
          await sleep(o.settings().tickMs);
          const after = o.settings();
          const hint = e.leader?.id;
          if (hint !== undefined && hint !== leader && hint !== after.nodeId && after.peers[hint] !== undefined) hinted = hint;
          continue;
        }
      }
      await this.#waitForLeader(Math.min(deadline, o.now() + cfg.leaderWaitMs));
      if (o.raft.leader === NONE) {
        throw new RaftqError('NO_LEADER', `no leader elected within ${o.settings().leaderWaitMs} ms`);
      }
    }
  }

  /** An app frame from a peer: a forwarded request (served as leader) or the reply to one of ours. */
  onApp(from: NodeId, f: AppFrame): void {
    if (f.appKind === forwardKind) {
      void this.#serveForwarded(from, f);
    } else if (f.appKind === replyKind) {
      if (!this.#forwarder.onReply(from, f.requestId, f.payload)) this.#o.logger.debug({ peer: from, requestId: f.requestId }, 'ignored a reply that answers no request in flight to that node');
    } else {
      this.#o.logger.warn({ peer: from, kind: f.appKind }, 'ignored unknown app frame');
    }
  }

  /** The leader changed from `prev`: requests forwarded to it fail TIMEOUT (outcome unknown). */
  leaderReplaced(prev: NodeId): void {
    if (prev !== NONE && prev !== this.#o.settings().nodeId) this.#forwarder.failTo(prev, `leader ${prev} was replaced`);
  }

  /** A leader is known: requests waiting for one go on. */
  leaderKnown(): void {
    const waiters = this.#leaderWaiters;
    this.#leaderWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Once per Raft tick. A crashed leader's TCP connections drop at once: a follower that sees
   * its link to the leader down for a few ticks forgets the leader (so it grants pre-votes) and
   * campaigns after a short random delay, instead of waiting a whole election timeout.
   */
  tick(): void {
    const r = this.#o.raft;
    if (r.role !== 'follower' || r.leader === NONE || r.leader === this.#o.settings().nodeId) {
      this.#leaderDownTicks = 0;
      return;
    }
    if (this.#o.transport.isConnected(r.leader)) {
      this.#leaderDownTicks = 0;
      return;
    }
    this.#leaderDownTicks++;
    if (this.#leaderDownTicks === 2) {
      this.#o.logger.info({ leader: r.leader, term: r.term }, 'lost the connection to the leader; forgetting it');
      this.#forwarder.failTo(r.leader, 'the connection to the leader was lost');
      r.forgetLeader();
    }
  }

  /** Shutdown: forwarded requests fail TIMEOUT (the leader may still apply them). */
  failAll(why: string): void {
    this.#forwarder.failAll(why);
  }

  /** Serves a request a follower forwarded: only as leader, never forwarding it again. */
  async #serveForwarded(from: NodeId, f: AppFrame): Promise<void> {
    const o = this.#o;
    let out: Uint8Array;
    let reqId = '';
    try {
      const { requestId, command } = decodeForward(f.payload);
      reqId = requestId;
      o.logger.debug({ reqId, from }, 'serving a forwarded request');
      if (o.raft.role !== 'leader') throw new RaftqError('NOT_LEADER', `${o.settings().nodeId} is not the leader`, o.leaderHint());
      o.proposer.checkSize(command);
      const result = await o.proposer.propose(command, o.now() + o.settings().requestTimeoutMs);
      // The reply travels back in one AppFrame: one that would not fit is cut to fit (fewer
      // messages of a receive) and what was cut is released, never dropped.
      // The follower's flags choose the encoding (the rolling-upgrade rule, reply-encoding.ts).
      const encoding = replyEncodingFor(f.flags);
      const fitted = await o.app.replyWithin(result, command, o.forwardReplyBytesMax, encoding);
      out = encodeOkReply(o.replyCodecs[encoding].encode(fitted.reply), encoding);
      if (fitted.release.length > 0) {
        o.logger.warn({ reqId, from, released: fitted.release.length }, 'a forwarded reply was cut to fit a peer frame; releasing what it left out');
        for (const cmd of fitted.release) o.release(cmd).catch((e: unknown) => o.logger.warn({ err: e, reqId }, 'could not release a message left out of a reply; it returns when its lease ends'));
      }
    } catch (e) {
      const err = toRaftqError(e);
      o.logger.debug({ reqId, from, code: err.code }, 'forwarded request failed');
      out = encodeErrorReply(err);
    }
    if (!o.isStopped() && !o.transport.sendApp(from, replyKind, f.requestId, out)) {
      o.logger.warn({ reqId, from, bytes: out.byteLength }, 'could not send the reply to a forwarded request (peer not connected, or its send queue is full); it will time out there');
    }
  }

  #waitForLeader(until: number): Promise<void> {
    if (this.#o.raft.leader !== NONE) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, until - this.#o.now()));
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#leaderWaiters.push(done);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
