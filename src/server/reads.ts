/**
 * The one owner of this node's linearizable reads (issue 17, item 5; ReadIndex, Raft thesis
 * §6.4): the ReadIndex rounds this process started, until the leader names their read index,
 * and the waits for the applied index to reach it (read-waiters.ts keeps both tables). The
 * runtime holds neither; it drives this class from its ready loop (onReadStates with the
 * Ready's read states, notifyApplied after advance), from a soft-state change that names a
 * leader (onLeaderKnown) and at shutdown (failAll).
 *
 * A read's life: read() hands a fresh context to the Raft core (RawNode.readIndex), which on a
 * leader starts a heartbeat round and on a follower sends the request to the leader it knows
 * (readIndex message; the answer comes back as readIndexResp); either way the index arrives as
 * a read state in a later Ready. When the core refuses (RaftError: no leader known, or too many
 * outstanding requests) the read waits: every pending read is asked again once a soft-state
 * change names a leader (ReadIndex requests die with the leader they went to). At its deadline
 * a read without an index fails NO_LEADER if no leader is known then, TIMEOUT otherwise; one
 * with an index fails TIMEOUT if the index has not applied by the same deadline.
 *
 * The Raft core is reached through one narrow interface, so tests drive this class with a fake
 * (test/server/reads.test.ts).
 */
import { RaftError } from '../../raft/errors.js';
import { NONE, type NodeId, type ReadState } from '../../raft/types.js';
import { RaftqError } from '../errors.js';
import { AppliedWaiters, ReadIndexRequests } from './read-waiters.js';

/** What linearizable reads need of the Raft core; RawNode has it. */
export interface ReadsRaft {
  /** The leader this node knows of, NONE if none. */
  readonly leader: NodeId;
  /** The highest index applied to the application. */
  readonly applied: number;
  /** Starts a ReadIndex round for `context`. Throws RaftError when it cannot be served now. */
  readIndex(context: Uint8Array): void;
}

/** What LinearizableReads needs of its node. */
export interface LinearizableReadsOptions {
  /** This node's id: the first part of every read context (read-waiters.ts). */
  readonly self: NodeId;
  readonly raft: ReadsRaft;
  /** Wakes the ready loop once the core took a read request (it sends the heartbeats or the request). */
  readonly kick: () => void;
  /** Clock of the deadlines, in milliseconds. */
  readonly now: () => number;
}

/** The node's linearizable reads: see the module comment. */
export class LinearizableReads {
  readonly #o: LinearizableReadsOptions;
  /** Reads waiting for a read index, by context. */
  readonly #requests: ReadIndexRequests;
  /** Waiters for the applied index to reach a value; notifyApplied wakes them. */
  readonly #applied = new AppliedWaiters();

  constructor(o: LinearizableReadsOptions) {
    this.#o = o;
    this.#requests = new ReadIndexRequests(o.self, (context) => this.#ask(context));
  }

  /**
   * Waits until this node's state reflects every write committed before the call: a read
   * after it is linearizable. Rejects at `timeoutMs` with NO_LEADER (no index yet, no leader
   * known), TIMEOUT (no index yet with a leader known, or the index did not apply in time), or
   * UNAVAILABLE at shutdown.
   */
  async read(timeoutMs: number): Promise<void> {
    const deadline = this.#o.now() + timeoutMs;
    const index = await this.#requests.request(timeoutMs, () => (this.#o.raft.leader === NONE ? 'NO_LEADER' : 'TIMEOUT'));
    // The deadline covers the wait for the index to apply too: a follower cut off after it
    // learned the index must not hang the read.
    await this.waitApplied(index, deadline - this.#o.now());
  }

  /** Resolves once the applied index reaches `index`; TIMEOUT after `timeoutMs`, UNAVAILABLE at shutdown. */
  waitApplied(index: number, timeoutMs: number): Promise<void> {
    return this.#applied.wait(index, this.#o.raft.applied, timeoutMs);
  }

  /** A Ready's read states: each completes the read it names, if this process started it. */
  onReadStates(readStates: readonly ReadState[]): void {
    for (const rs of readStates) this.#requests.onReadState(rs.context, rs.index);
  }

  /** The applied index may have moved (after advance): wakes the waiters it reached. */
  notifyApplied(): void {
    this.#applied.notify(this.#o.raft.applied);
  }

  /** A soft-state change names a leader: every pending read asks again (requests die with the leader they went to). */
  onLeaderKnown(): void {
    this.#requests.retryAll();
  }

  /** Shutdown: every pending read and applied-index wait fails UNAVAILABLE. */
  failAll(): void {
    this.#requests.failAll(new RaftqError('UNAVAILABLE', 'node shut down before the read completed'));
    this.#applied.failAll(new RaftqError('UNAVAILABLE', 'node shut down before the read completed'));
  }

  /** Hands `context` to the core; a refusal (no leader right now) waits for onLeaderKnown. */
  #ask(context: Uint8Array): void {
    try {
      this.#o.raft.readIndex(context);
      this.#o.kick();
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
    }
  }
}
