import { RaftqError } from '../errors.js';
import type { RequestBody, ResultName } from '../proto/client-wire.js';
import { backoffMs, sleep } from './backoff.js';
import { ClientConnection, parseAddress, type ConnectionOptions, type Ok } from './connection.js';
import { asRaftqError, isRetryable } from './errors.js';

/** Resolved settings of a Router (see ClientOptions for their meaning and units). */
export interface RouterSettings extends ConnectionOptions {
  readonly nodes: readonly string[];
  readonly requestTimeoutMs: number;
  readonly retryTimeoutMs: number;
  readonly retryDelayMs: number;
  readonly retryDelayMsMax: number;
}

/** Options of one call. */
export interface CallOptions {
  /** Extra milliseconds this request may take (a long poll's wait). */
  readonly extraTimeoutMs?: number;
  /**
   * An error code that, after an attempt whose outcome is unknown (timeout, connection lost),
   * means that attempt succeeded: a retried deleteQueue that finds no queue.
   */
  readonly doneIfAfterUnknown?: RaftqError['code'];
  /**
   * An error code that, after an attempt whose outcome is unknown, may have been caused by that
   * very attempt, so it proves nothing: reported as TIMEOUT (outcome unknown) with the error as
   * its cause. A nack or changeVisibility that applied makes its receipt stale once the message
   * is delivered again, so a retry answered STALE_RECEIPT cannot say whether the first applied.
   */
  readonly unknownIfAfterUnknown?: RaftqError['code'];
}

/**
 * How long an address that failed is tried after the others, in milliseconds: long enough to
 * skip a dead node during a failover, short enough to come back to it once it restarts.
 */
const addressPenaltyMs = 5_000;

/**
 * Finds and keeps a connection to the cluster, preferably to the leader, and runs requests on
 * it with retries: on connection loss or a retryable error it backs off (exponentially, with
 * jitter) and tries again, on another node when the connection is gone, until retryTimeoutMs.
 *
 * Leader discovery: every node answers (a follower forwards to the leader), but the leader
 * answers sooner. A node names the leader in its hello, in responses when its view changes, and
 * in NOT_LEADER errors; the router then opens a connection to the leader and moves new requests
 * there, letting the old connection finish what is in flight.
 */
export class Router {
  readonly settings: RouterSettings;
  /** The connection new requests go to; undefined while there is none. */
  #current: ClientConnection | undefined;
  #connecting: Promise<ClientConnection> | undefined;
  /** Every open connection (the current one, and older ones draining). */
  readonly #open = new Set<ClientConnection>();
  /** The latest leader named by any node. */
  #leader: { id: string; client?: string } | undefined;
  /** A connection to the leader being opened in the background, if any. */
  #switching: Promise<void> | undefined;
  /** When each address last failed (ms since the epoch). */
  readonly #failedAt = new Map<string, number>();
  /** Rotates the starting point through the configured nodes. */
  #nextNode = 0;
  readonly #closer = new AbortController();

  constructor(settings: RouterSettings) {
    if (settings.nodes.length === 0) throw new TypeError('connect: nodes must list at least one "host:port" address');
    for (const a of settings.nodes) parseAddress(a);
    this.settings = settings;
    this.#nextNode = Math.floor(Math.random() * settings.nodes.length);
  }

  /** Aborted when the router closes (sleeps end, loops stop). */
  get closeSignal(): AbortSignal {
    return this.#closer.signal;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closer.signal.aborted;
  }

  /** Sends `body` and returns its `expect` result, retrying as the class comment says. */
  async call<K extends ResultName>(body: RequestBody, expect: K, opts: CallOptions = {}): Promise<Ok<K> | undefined> {
    const deadline = Date.now() + this.settings.retryTimeoutMs;
    let outcomeUnknown = false;
    for (let attempt = 0; ; attempt++) {
      this.#checkOpen();
      let sent = false;
      try {
        const conn = await this.connection();
        sent = true;
        return await conn.request(body, expect, this.settings.requestTimeoutMs + (opts.extraTimeoutMs ?? 0));
      } catch (e) {
        const err = asRaftqError(e);
        if (opts.doneIfAfterUnknown === err.code && outcomeUnknown) return undefined;
        if (opts.unknownIfAfterUnknown === err.code && outcomeUnknown) {
          throw new RaftqError('TIMEOUT', `an earlier attempt's outcome is unknown (its connection was lost or it timed out), and a retry was answered ${err.code}, which that attempt may have caused: the outcome is unknown`, { cause: err });
        }
        if (!isRetryable(err) || this.closed) throw err;
        if (sent && (err.code === 'TIMEOUT' || err.code === 'UNAVAILABLE')) outcomeUnknown = true;
        let delay = backoffMs(attempt, this.settings.retryDelayMs, this.settings.retryDelayMsMax);
        if (err.code === 'NOT_LEADER' && err.leader !== undefined) {
          this.noteLeader(err.leader);
          if (attempt === 0) delay = 0;
        }
        if (Date.now() + delay > deadline) throw err;
        await sleep(delay, this.closeSignal);
      }
    }
  }

  /**
   * A connection to the cluster: the current one, or a new one (to the leader when known, else
   * to the configured nodes in turn). Throws UNAVAILABLE when no node could be reached.
   */
  connection(): Promise<ClientConnection> {
    this.#checkOpen();
    if (this.#current !== undefined && !this.#current.closed) return Promise.resolve(this.#current);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /**
   * A node named `leader` as the leader: new requests should go there. Opens a connection to
   * it in the background when the current one is to another node.
   */
  noteLeader(leader: { id: string; client?: string }): void {
    this.#leader = leader;
    const cur = this.#current;
    if (cur === undefined || cur.closed || cur.nodeId === leader.id || leader.client === undefined || this.#switching !== undefined || this.closed) return;
    this.#switching = this.#open1(leader.client)
      .then((conn) => {
        if (this.closed || conn.nodeId !== this.#leader?.id) {
          conn.closeWhenIdle();
          return;
        }
        const old = this.#current;
        this.#current = conn;
        if (old !== undefined && old !== conn) old.closeWhenIdle();
      })
      .catch(() => {
        // Unreachable from here (say, a hostname only the cluster resolves): keep the
        // current connection, whose node forwards to the leader.
      })
      .finally(() => {
        this.#switching = undefined;
      });
  }

  /**
   * Closes every connection; calls in progress fail with UNAVAILABLE. Resolves once every
   * socket is fully closed (and a connection being opened has been closed too).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.#closer.abort();
    const open = [...this.#open];
    for (const c of open) c.close(new RaftqError('UNAVAILABLE', 'client closed'));
    this.#current = undefined;
    await Promise.all([...open.map((c) => c.socketClosed), this.#connecting?.catch(() => {}), this.#switching]);
  }

  async #connect(): Promise<ClientConnection> {
    let lastErr: RaftqError | undefined;
    for (const address of this.#candidates()) {
      this.#checkOpen();
      try {
        const conn = await this.#open1(address);
        this.#current = conn;
        if (conn.helloLeader !== undefined) this.noteLeader(conn.helloLeader);
        return conn;
      } catch (e) {
        lastErr = asRaftqError(e);
        // A refused token is the same on every node: no use trying the others, nor retrying.
        if (lastErr.code === 'UNAUTHENTICATED') throw lastErr;
      }
    }
    throw new RaftqError('UNAVAILABLE', `no raftq node reachable at ${this.settings.nodes.join(', ')}${lastErr !== undefined ? ` (last: ${lastErr.message})` : ''}`, {
      cause: lastErr,
    });
  }

  /** Addresses to try: the leader first, then the configured nodes in turn; recent failures last. */
  #candidates(): string[] {
    const nodes = this.settings.nodes;
    const start = this.#nextNode++ % nodes.length;
    const ordered = [...nodes.slice(start), ...nodes.slice(0, start)];
    const leaderAddress = this.#leader?.client;
    if (leaderAddress !== undefined) ordered.unshift(leaderAddress);
    const unique = [...new Set(ordered)];
    const now = Date.now();
    const fresh = unique.filter((a) => now - (this.#failedAt.get(a) ?? 0) >= addressPenaltyMs);
    const failed = unique.filter((a) => !fresh.includes(a)).sort((a, b) => this.#failedAt.get(a)! - this.#failedAt.get(b)!);
    return [...fresh, ...failed];
  }

  /** Opens one connection, tracking it; records the address as failed when it cannot. */
  async #open1(address: string): Promise<ClientConnection> {
    try {
      const conn = await ClientConnection.open(address, this.settings, {
        onLeader: (_c, leader) => this.noteLeader(leader),
        onClose: (c) => {
          this.#open.delete(c);
          if (this.#current === c) {
            this.#current = undefined;
            if (!this.closed) this.#failedAt.set(c.address, Date.now());
          }
        },
      });
      if (this.closed) {
        conn.close();
        await conn.socketClosed;
        throw new RaftqError('UNAVAILABLE', 'client closed');
      }
      this.#open.add(conn);
      this.#failedAt.delete(address);
      return conn;
    } catch (e) {
      this.#failedAt.set(address, Date.now());
      throw e;
    }
  }

  #checkOpen(): void {
    if (this.closed) throw new RaftqError('UNAVAILABLE', 'client closed');
  }
}
