/**
 * The FIFO message groups of one queue: per-group offset lists, a per-group count of messages in
 * flight, and `#readyGroups`, a min-heap of groups keyed by their head offset. A group is ready
 * when its head is visible and none of its messages is in flight (leased, lease not over): a
 * group with any message in flight is blocked, even when its head is visible again (its own
 * lease ended, or a nack), as in Amazon SQS. A receive takes the ready group with the lowest head
 * and delivers consecutive messages of it from its head (a batch), as long as each is visible,
 * then the next ready group, until it has max messages; so order within a group is kept.
 *
 * The owner (queue-index.ts) keeps the messages themselves; it tells this module which offsets
 * are visible and which group a live offset belongs to through the callbacks of the constructor,
 * and reports every change that may make a group ready (maybeQueueOf, remove, inFlightDown).
 */
import { assert } from '../../raft/assert.js';
import { MinHeap } from './min-heap.js';

/** A FIFO message group. */
interface Group {
  readonly no: number;
  readonly name: string;
  /** Invariant: offsets[head..] are the group's live messages in increasing order. */
  offsets: number[];
  head: number;
  /** Invariant: the number of the group's messages in flight (pending with receiveCount > 0). */
  inFlight: number;
  /**
   * Invariant: queued iff one entry for this group is in #readyGroups. Entries go stale lazily
   * (the head moved, or the group got blocked) and pick checks them; a group that becomes
   * ready while not queued is queued by #maybeQueueGroup.
   */
  queued: boolean;
  /** Picked by the running receive: not queued again until endReceive (no group twice per receive). */
  picked: boolean;
}

/** The group a running FIFO receive delivers from, and the offset it picked last. */
interface Batch {
  readonly group: Group;
  after: number;
  /** Messages of this batch now in flight; invariant: equals group.inFlight. */
  leased: number;
}

/** Offsets consumed at a FIFO group head before its array is compacted. */
const groupHeadSlackMax = 64;

/** The message groups of one FIFO queue, and the state of the running receive over them. */
export class FifoGroups {
  readonly #isVisible: (offset: number) => boolean;
  readonly #groupNoAt: (offset: number) => number;
  #readyGroups = new MinHeap();
  #groupsByName = new Map<string, Group>();
  #groupsByNo = new Map<number, Group>();
  #nextGroupNo = 1;
  /** The group the running receive delivers from; undefined outside a receive. */
  #batch: Batch | undefined;
  /** Groups picked by the running receive (their `picked` is set); re-examined by endReceive. */
  #pickedGroups: Group[] = [];

  /**
   * @param isVisible whether live message `offset` is visible (not pending).
   * @param groupNoAt the group number of live message `offset` (as returned by append).
   */
  constructor(isVisible: (offset: number) => boolean, groupNoAt: (offset: number) => number) {
    this.#isVisible = isVisible;
    this.#groupNoAt = groupNoAt;
  }

  /** Adds live message `offset` (above every offset of its group) to group `name`, interned; returns the group's number. */
  append(name: string, offset: number): number {
    const g = this.#intern(name);
    g.offsets.push(offset);
    return g.no;
  }

  /** The name of group `no`; undefined when it has no live message. */
  nameOf(no: number): string | undefined {
    return this.#groupsByNo.get(no)?.name;
  }

  /** Queues every ready group (after load). */
  queueReady(): void {
    for (const g of this.#groupsByNo.values()) this.#maybeQueueGroup(g);
  }

  /** Message `offset` became visible or a candidate again: its group may be ready (its head, or the last in flight). */
  maybeQueueOf(offset: number): void {
    this.#maybeQueueGroup(this.#groupOf(offset));
  }

  /** Message `offset` got in flight (leased). */
  inFlightUp(offset: number): void {
    this.#groupOf(offset).inFlight++;
  }

  /** Message `offset` is no longer in flight; the caller makes it a candidate or removes it. */
  inFlightDown(offset: number): void {
    const g = this.#groupOf(offset);
    assert(g.inFlight > 0, () => `group ${g.name} in-flight count below zero`);
    g.inFlight--;
  }

  /**
   * The next message of the running batch (the live message of its group after the one picked
   * last, when visible); else the head of the ready group with the lowest head, which starts a
   * new batch. Undefined when none.
   */
  pick(): number | undefined {
    const b = this.#batch;
    if (b !== undefined) {
      const next = this.#nextInGroup(b.group, b.after);
      if (next !== undefined && this.#isVisible(next)) {
        b.after = next;
        return next;
      }
      this.#batch = undefined;
    }
    while (this.#readyGroups.size > 0) {
      const key = this.#readyGroups.peekKey();
      const g = this.#groupsByNo.get(this.#readyGroups.peekValue());
      this.#readyGroups.pop();
      if (g === undefined) continue;
      assert(g.queued && !g.picked, () => `group ${g.name} popped while not queued or already picked`);
      g.queued = false;
      // Not ready any more (blocked, or its head invisible): queued again when it becomes ready.
      const head = this.#headOf(g);
      if (head === undefined || !this.#isVisible(head) || g.inFlight > 0) continue;
      if (head !== key) {
        this.#maybeQueueGroup(g);
        continue;
      }
      g.picked = true;
      this.#pickedGroups.push(g);
      this.#batch = { group: g, after: head, leased: 0 };
      return head;
    }
    return undefined;
  }

  /** Asserts that `offset`, about to be delivered, is the last pick of the running batch, whose group has nothing else in flight. */
  assertDeliverable(offset: number): void {
    const b = this.#batch;
    assert(b !== undefined && b.after === offset, () => `FIFO deliver of ${offset} outside its group's batch`);
    assert(b.group.inFlight === b.leased, () => `group ${b.group.name} had ${b.group.inFlight - b.leased} in flight before its batch`);
  }

  /** The message just delivered by the running batch got in flight (after inFlightUp). */
  leased(): void {
    if (this.#batch !== undefined) this.#batch.leased++;
  }

  /** Ends a receive: the groups picked by it are queued again when ready (nothing of them in flight). */
  endReceive(): void {
    this.#batch = undefined;
    const picked = this.#pickedGroups;
    this.#pickedGroups = [];
    for (const g of picked) g.picked = false;
    for (const g of picked) this.#maybeQueueGroup(g);
  }

  /** Removes live message `offset` of group `groupNo`; a group left empty is dropped. */
  remove(groupNo: number, offset: number): void {
    const g = this.#groupsByNo.get(groupNo);
    assert(g !== undefined, () => `group ${groupNo} missing`);
    if (g.offsets[g.head] === offset) {
      g.head++;
    } else {
      const i = g.offsets.indexOf(offset, g.head);
      assert(i >= 0, () => `offset ${offset} missing from group ${g.name}`);
      g.offsets.splice(i, 1);
    }
    if (g.head === g.offsets.length) {
      assert(g.inFlight === 0, () => `emptied group ${g.name} still counts ${g.inFlight} in flight`);
      this.#groupsByName.delete(g.name);
      this.#groupsByNo.delete(g.no);
      return;
    }
    if (g.head > groupHeadSlackMax && g.head * 2 > g.offsets.length) {
      g.offsets = g.offsets.slice(g.head);
      g.head = 0;
    }
    this.#maybeQueueGroup(g);
  }

  /** Drops every group (purge / delete); never inside a receive. */
  clear(): void {
    this.#readyGroups.clear();
    this.#groupsByName.clear();
    this.#groupsByNo.clear();
    assert(this.#batch === undefined && this.#pickedGroups.length === 0, 'clear during a receive');
  }

  /**
   * Asserts the groups' invariants by recounting them, O(messages): no receive running, each
   * group's in-flight count (`inFlight`: the offsets of every message in flight), and that every
   * ready group (head visible, nothing in flight) is queued, or pick could miss it.
   */
  assertInvariants(inFlight: Iterable<number>): void {
    assert(this.#batch === undefined && this.#pickedGroups.length === 0, 'invariants checked inside a receive');
    const groupInFlight = new Map<number, number>();
    for (const offset of inFlight) {
      const no = this.#groupOf(offset).no;
      groupInFlight.set(no, (groupInFlight.get(no) ?? 0) + 1);
    }
    for (const g of this.#groupsByNo.values()) {
      const head = this.#headOf(g);
      assert(head !== undefined, () => `empty group ${g.name} kept`);
      assert(g.inFlight === (groupInFlight.get(g.no) ?? 0), () => `group ${g.name} counts ${g.inFlight} in flight`);
      assert(!g.picked, () => `group ${g.name} still picked`);
      const ready = g.inFlight === 0 && this.#isVisible(head);
      assert(!ready || g.queued, () => `ready group ${g.name} is not queued`);
    }
  }

  /** The group of live message `offset`. */
  #groupOf(offset: number): Group {
    const g = this.#groupsByNo.get(this.#groupNoAt(offset));
    assert(g !== undefined, () => `group of offset ${offset} missing`);
    return g;
  }

  #intern(name: string): Group {
    let g = this.#groupsByName.get(name);
    if (g === undefined) {
      g = { no: this.#nextGroupNo++, name, offsets: [], head: 0, inFlight: 0, queued: false, picked: false };
      this.#groupsByName.set(name, g);
      this.#groupsByNo.set(g.no, g);
    }
    return g;
  }

  #headOf(g: Group): number | undefined {
    return g.head < g.offsets.length ? g.offsets[g.head] : undefined;
  }

  /** The first live offset of `g` above `after`, or undefined. */
  #nextInGroup(g: Group, after: number): number | undefined {
    let lo = g.head;
    let hi = g.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (g.offsets[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo < g.offsets.length ? g.offsets[lo] : undefined;
  }

  /** Queues `g` in #readyGroups if it is ready (head visible, nothing in flight) and not queued or picked. */
  #maybeQueueGroup(g: Group): void {
    const head = this.#headOf(g);
    if (g.queued || g.picked || g.inFlight > 0 || head === undefined || !this.#isVisible(head)) return;
    g.queued = true;
    this.#readyGroups.push(head, g.no);
  }
}
