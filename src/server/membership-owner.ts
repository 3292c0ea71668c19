/**
 * The one owner of a node's membership (issue 17, item 5): the applied configuration, the
 * address book, the addresses the transport dials, and the membership changes this leader
 * proposed until their entry applies. The runtime holds none of these; it drives this class
 * from its ready loop (applyConfEntry, then settleApplied once the round is durable), from a
 * snapshot install (adoptSnapshot) and at shutdown (failAll). Encodings and the bookkeeping
 * rules are in membership.ts.
 *
 * The Raft core and the transport are reached through two narrow interfaces, so tests drive
 * this class with fakes (test/server/membership-owner.test.ts).
 */
import type { Logger } from 'pino';
import { assert } from '../../raft/assert.js';
import { applyConfChange, decodeConfChange } from '../../raft/conf-change.js';
import { RaftError } from '../../raft/errors.js';
import { NONE, type ConfChange, type ConfState, type Entry, type NodeId } from '../../raft/types.js';
import { RaftqError } from '../errors.js';
import type { StateWrite } from '../storage/index.js';
import type { PeerAddress } from '../transport/index.js';
import { pendingWithDeadline, type Settle } from './deadline.js';
import { toRaftqError } from './error-map.js';
import { memberConfChange, type ReplicationStatus } from './member-change.js';
import {
  clusterNodes,
  decodeAddressBook,
  decodeMemberContext,
  encodeAddressBook,
  isMember,
  membersKey,
  membersView,
  restrictToMembers,
  type ClusterNode,
  type ClusterStatus,
  type MemberAction,
  type MembershipResult,
  type MembersStatus,
  type MembersView,
} from './membership.js';
import type { PeerConfig } from './peer-config.js';

/** What membership needs of the Raft core; RawNode has it. */
export interface MembershipRaft {
  readonly role: string;
  readonly leader: NodeId;
  readonly applied: number;
  /** Index of the newest conf entry in the log; a change is pending while it is above `applied`. */
  readonly pendingConfIndex: number;
  /** The configuration of the newest conf entry in the log. */
  confState(): ConfState;
  /** The commit index and (leader only) each member's replication progress. */
  status(): ReplicationStatus;
  /** Appends a conf entry; throws RaftError when the core refuses it. */
  proposeConfChange(cc: ConfChange): { index: number; term: number };
}

/** The transport's directory of peers to dial; PeerTransport has it. */
export interface PeerDirectory {
  addPeer(id: NodeId, addr: PeerAddress): void;
  removePeer(id: NodeId): void;
}

/** What Membership needs of its node. */
export interface MembershipOptions {
  readonly self: NodeId;
  /** The data directory, named in the error that tells an operator to wipe it. */
  readonly dataDir: string;
  readonly raft: MembershipRaft;
  readonly transport: PeerDirectory;
  readonly logger: Logger;
  /** The address book at startup (startupAddressBook); the transport was given these addresses. */
  readonly book: Readonly<Record<NodeId, PeerConfig>>;
  /** The applied configuration at startup, as stored. */
  readonly confState: ConfState;
  /** Wakes the ready loop once a change was proposed. */
  readonly kick: () => void;
}

/** The leader's id and client-facing addresses, as NOT_LEADER errors carry them. */
export interface LeaderHint {
  readonly leader?: { id: string; http?: string; client?: string };
}

/** A membership change this leader proposed at some index, until its entry applies. */
interface ConfWaiter extends Settle<ConfState> {
  readonly term: number;
}

/** The node's membership: see the module comment. */
export class Membership {
  readonly #o: MembershipOptions;
  /** Every address this node knows (flags, persisted book, conf contexts), by node id. */
  #book: Record<NodeId, PeerConfig>;
  /**
   * The addresses the transport dials, self included: the book restricted to the applied
   * configuration's members (all of it while that has no voters). Replaced, never mutated.
   */
  #peers: Readonly<Record<NodeId, PeerConfig>>;
  /** The configuration as of the applied index (persisted with the applied state). */
  #confState: ConfState;
  /** Changes this leader proposed, by log index. Invariant: at most one (a second is refused). */
  readonly #waiters = new Map<number, ConfWaiter>();

  constructor(o: MembershipOptions) {
    this.#o = o;
    this.#book = { ...o.book };
    this.#peers = o.book;
    this.#confState = o.confState;
  }

  /** The configuration as of the applied index. */
  get confState(): ConfState {
    return this.#confState;
  }

  /** The addresses of the members (every known address while no membership is known), self included. */
  get peers(): Readonly<Record<NodeId, PeerConfig>> {
    return this.#peers;
  }

  /** The leader's id and client-facing addresses, when a leader is known. */
  leaderHint(): LeaderHint {
    const id = this.#o.raft.leader;
    if (id === NONE) return {};
    const p = this.#peers[id];
    const leader: { id: string; http?: string; client?: string } = { id };
    if (p?.httpPort !== undefined) leader.http = `${p.host}:${p.httpPort}`;
    if (p?.clientPort !== undefined) leader.client = `${p.host}:${p.clientPort}`;
    return { leader };
  }

  /**
   * Changes the membership by one server and resolves once the conf entry applied here: `add`
   * makes `id` a learner (`addr` required unless the book knows it), `promote` makes a
   * caught-up learner a voter, `remove` removes a voter or learner. Throws NOT_LEADER with the
   * leader hint (NO_LEADER when none is known) off the leader, INVALID_ARGUMENT for a change
   * that makes no sense for the current configuration, UNAVAILABLE while another change is
   * pending or a learner has not caught up, TIMEOUT when the entry did not apply within
   * `timeoutMs` (outcome unknown).
   */
  async change(action: MemberAction, id: NodeId, addr: PeerConfig | undefined, timeoutMs: number): Promise<MembershipResult> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new RaftqError('INVALID_ARGUMENT', `bad node id ${JSON.stringify(id)}: 1-64 characters of [A-Za-z0-9_-]`);
    const raft = this.#o.raft;
    if (raft.role !== 'leader') {
      const hint = this.leaderHint();
      if (hint.leader === undefined) throw new RaftqError('NO_LEADER', 'no leader is known to change the membership');
      throw new RaftqError('NOT_LEADER', `${this.#o.self} is not the leader; ask ${hint.leader.id}`, hint);
    }
    const cc = memberConfChange(action, id, addr, { confState: raft.confState(), book: this.#book, peers: this.#peers, status: () => raft.status() });
    const pendingConf = raft.pendingConfIndex;
    if (pendingConf > raft.applied || this.#waiters.size > 0) {
      // The core's own check, made early (a change proposed here may not be in the log yet):
      // the same error, mapped by the one table.
      throw toRaftqError(new RaftError('CONF_CHANGE_PENDING', `another membership change (entry ${pendingConf}) is not applied yet; retry when it is`));
    }
    let at: { index: number; term: number };
    try {
      at = raft.proposeConfChange(cc);
    } catch (e) {
      throw toRaftqError(e);
    }
    this.#o.logger.info({ action, id, index: at.index, term: at.term }, 'proposed membership change');
    this.#o.kick();
    const confState = await pendingWithDeadline<ConfState>(
      timeoutMs,
      (settle) => {
        assert(this.#waiters.size === 0, () => `a membership change is already waiting while one was proposed at ${at.index}`);
        this.#waiters.set(at.index, { term: at.term, ...settle });
      },
      () => {
        this.#waiters.delete(at.index);
        return new RaftqError('TIMEOUT', `membership change at ${at.index} did not apply within ${timeoutMs} ms; its outcome is unknown (see GET /v1/cluster/members)`);
      },
    );
    return { action, id, index: at.index, confState };
  }

  /**
   * Applies the committed conf entry `e` in memory: the configuration and the address book
   * change, and the returned write persists the book with the round. `memberAdded` says the
   * entry made a new member, which must be brought up by a snapshot: the caller compacts the
   * log through it so no leader can replay the log to that member from index 1. Throws
   * INTERNAL when this node knows no membership (a joining node learns it from a snapshot).
   */
  applyConfEntry(e: Entry): { readonly write: StateWrite; readonly memberAdded: boolean } {
    assert(e.type === 'conf', () => `entry ${e.index} is not a conf entry`);
    const log = this.#o.logger;
    const self = this.#o.self;
    const cc = decodeConfChange(e.data);
    const before = this.#confState;
    if (before.voters.length === 0) {
      // Never apply a conf entry onto no membership (the core asserts the same).
      throw new RaftqError('INTERNAL', `conf entry ${e.index} (${cc.type} ${cc.nodeId}) reached a node that knows no membership; a joining node must install a snapshot first. Wipe ${this.#o.dataDir} and join again.`);
    }
    this.#confState = applyConfChange(before, cc);
    const addr = decodeMemberContext(cc.context);
    if (addr !== undefined && cc.type !== 'removeNode') this.#book[cc.nodeId] = addr;
    else if (cc.context !== undefined && cc.context !== '' && addr === undefined) log.warn({ index: e.index, context: cc.context }, 'conf change context is not an address; ignored');
    if (cc.type === 'removeNode' && !isMember(this.#confState, cc.nodeId)) delete this.#book[cc.nodeId];
    const memberAdded = !isMember(before, cc.nodeId) && isMember(this.#confState, cc.nodeId);
    const write: StateWrite = { type: 'put', key: membersKey, value: encodeAddressBook(restrictToMembers(this.#book, this.#confState, self)) };
    log.info({ index: e.index, change: cc.type, node: cc.nodeId, confState: this.#confState }, 'membership changed');
    if (cc.nodeId === self && cc.type === 'removeNode') log.warn({ index: e.index }, 'this node was removed from the cluster; stop it and wipe its data directory');
    return { write, memberAdded };
  }

  /**
   * The round that applied the conf entries `applied` (in log order) is durable: the transport
   * dials the new members and forgets removed ones, and the changes this leader proposed at
   * those indexes complete (UNAVAILABLE when another term's entry applied there instead).
   */
  settleApplied(applied: ReadonlyArray<{ readonly index: number; readonly term: number }>): void {
    if (applied.length === 0) return;
    this.#syncPeers();
    let prev = 0;
    for (const c of applied) {
      assert(c.index > prev, () => `conf entries settled out of order: ${c.index} after ${prev}`);
      prev = c.index;
      const w = this.#waiters.get(c.index);
      if (w === undefined) continue;
      this.#waiters.delete(c.index);
      if (w.term === c.term) w.resolve(this.#confState);
      else w.reject(new RaftqError('UNAVAILABLE', `leadership changed: the membership change at index ${c.index} was not applied; retry`));
    }
  }

  /**
   * The storage switched to a snapshot through `snapshot.index`: its configuration and its
   * stored address book (`storedBook`, the value at membersKey) replace what this node knew,
   * and changes waiting at indexes the snapshot covers fail TIMEOUT (outcome unknown).
   */
  adoptSnapshot(snapshot: { readonly index: number; readonly confState: ConfState }, storedBook: Uint8Array | undefined): void {
    this.#confState = snapshot.confState;
    this.#book = { ...this.#book, ...decodeAddressBook(storedBook) };
    this.#syncPeers();
    for (const [i, w] of this.#waiters) {
      if (i > snapshot.index) continue;
      this.#waiters.delete(i);
      w.reject(new RaftqError('TIMEOUT', 'a snapshot replaced the log before the membership change applied; outcome unknown'));
    }
  }

  /** Fails every waiting change with `err` (shutdown). */
  failAll(err: Error): void {
    for (const w of this.#waiters.values()) w.reject(err);
    this.#waiters.clear();
  }

  /** The members with their addresses and, on the leader, replication progress (match, state, active). */
  members(st: MembersStatus): MembersView {
    return membersView(this.#confState, this.#book, st);
  }

  /** Every node this one dials (self included), with what `st` knows of it. */
  nodes(st: ClusterStatus): ClusterNode[] {
    return clusterNodes(this.#peers, st);
  }

  /**
   * Brings the dialed addresses and the transport in line with the applied configuration:
   * members get dialed, removed members are dropped.
   */
  #syncPeers(): void {
    const cs = this.#confState;
    const self = this.#o.self;
    const log = this.#o.logger;
    const next = cs.voters.length === 0 ? { ...this.#book } : restrictToMembers(this.#book, cs, self);
    const prev = this.#peers;
    for (const id of Object.keys(prev)) {
      if (id !== self && next[id] === undefined) {
        this.#o.transport.removePeer(id);
        log.info({ peer: id }, 'peer removed from the transport');
      }
    }
    for (const [id, p] of Object.entries(next)) {
      if (id === self) continue;
      const old = prev[id];
      if (old === undefined || old.host !== p.host || old.peerPort !== p.peerPort) {
        this.#o.transport.addPeer(id, { host: p.host, port: p.peerPort });
        log.info({ peer: id, addr: `${p.host}:${p.peerPort}` }, 'peer added to the transport');
      }
    }
    for (const id of [...cs.voters, ...cs.learners]) {
      if (id !== self && next[id] === undefined) log.warn({ peer: id }, 'member has no known address: pass it in --peers');
    }
    this.#peers = next;
  }
}
