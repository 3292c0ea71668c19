/**
 * The in-heap index of one queue: just enough to pick the next message to deliver, to find a
 * message by offset, and to count stats. Bodies and full records stay in the keyspace.
 *
 * - `#sequence` holds every live message in offset order (typed-array columns, ~29 B each).
 * - `#special` holds the mutable state of messages that are not "fresh" (delivered at least
 *   once, delayed, returned, or dead-lettered); a fresh message is visible since its enqueue and
 *   has no entry, so a plain backlog costs no per-message objects.
 * - `#timers` is a min-heap of (visibleAtMs, offset) for invisible messages; advance(now)
 *   turns due ones visible.
 * - Standard queues pick the lowest visible offset: the lowest fresh slot (a cursor) or the top
 *   of `#visible`, a min-heap of returned offsets.
 * - FIFO queues pick by message group: `#groups` (fifo-groups.ts) keeps the groups, the ready
 *   ones, and the running batch of a receive; a group is ready when its head is visible and none
 *   of its messages is in flight, and order within a group is kept.
 *
 * Delivery order is a pure function of the keyspace and the clock (standard: lowest visible
 * offset first; FIFO: the rule of fifo-groups.ts, in-flight counts being leases with visibleAtMs
 * after the clock, which load() rebuilds from the message records), never of when advance() ran,
 * so a node restored by load() picks exactly what a node that applied every entry picks.
 */
import { assert } from '../../raft/assert.js';
import type { Delivery, QueueAttributes, QueueStats, QueueTags, RedriveTask } from './commands.js';
import { DedupWindow } from './dedup-window.js';
import { FifoGroups } from './fifo-groups.js';
import { messageIdOf } from './ids.js';
import { messageKey, payloadKey, queueKey } from './keys.js';
import { MessageSequence, slotState } from './message-sequence.js';
import { MinHeap } from './min-heap.js';
import { encodeReceipt } from './receipts.js';
import { encodeMessage, encodeQueue, type MessageRecord, type QueueRecord } from './records.js';
import type { StateWriter } from './state-store.js';

/** Mutable state of a message that is not fresh. */
interface Special {
  visibleAtMs: number;
  receiveCount: number;
  deliveryIndex: number;
  sourceQueue: string;
  sentAtMs: number;
  firstReceivedAtMs: number;
  /** Invariant: pending iff visibleAtMs > the time of the last advance(); pending ones are counted and have a timer. */
  pending: boolean;
  /** Invariant (standard queues): queued iff one entry for this offset is in #visible. */
  queued: boolean;
}

/** A live message as seen through the index. */
export interface MessageView extends MessageRecord {
  readonly offset: number;
}

/** A message entering the queue (enqueue, dead-letter move or redrive). */
export interface NewMessage {
  readonly seq: number;
  readonly visibleAtMs: number;
  readonly groupId: string;
  readonly sourceQueue: string;
  /** When the producer's enqueue was applied (now for an enqueue; kept by a move). */
  readonly sentAtMs: number;
  /** When the message was first delivered from any queue; 0 = never. */
  readonly firstReceivedAtMs: number;
}

/** Stale heap entries tolerated before a rebuild; bounds heap memory to about twice the live entries. */
const heapSlackEntriesMax = 64;

/** The in-heap index of one queue. */
export class QueueIndex {
  readonly id: number;
  readonly name: string;
  attributes: QueueAttributes;
  readonly createdAtMs: number;
  /** Invariant: above every offset ever used in this queue. */
  nextOffset: number;
  /** Invariant: only grows. */
  deadLetteredCount: number;
  /** Invariant: keys sorted, at most queueTagsMax (limits.ts). */
  tags: QueueTags;
  /** The last redrive of this queue as a dead-letter queue. */
  lastRedrive: RedriveTask | undefined;
  /** Producer and FIFO deduplication keys. */
  readonly dedup: DedupWindow;

  #sequence = new MessageSequence();
  #special = new Map<number, Special>();
  #timers = new MinHeap();
  #visible = new MinHeap();
  /** FIFO: the message groups (unused by standard queues). */
  #groups = new FifoGroups((offset) => this.#isVisible(offset), (offset) => this.#groupNoAt(offset));
  /** Invariant: pendingInFlight + pendingDelayed === number of pending specials. */
  #pendingInFlight = 0;
  #pendingDelayed = 0;
  /** Offsets delivered with visibility 0 in the current receive; candidates again after it. */
  #deferred: number[] = [];
  /** Invariant: never decreases. */
  #advancedToMs = -Infinity;

  constructor(record: QueueRecord, dedupLimits: { readonly keysMax: number; readonly pageEntriesMax: number }) {
    this.id = record.id;
    this.name = record.name;
    this.attributes = record.attributes;
    this.createdAtMs = record.createdAtMs;
    this.nextOffset = record.nextOffset;
    this.deadLetteredCount = record.deadLetteredCount;
    this.tags = record.tags;
    this.lastRedrive = record.lastRedrive;
    this.dedup = new DedupWindow(record.id, dedupLimits.keysMax, record.dedupFloorSeq, dedupLimits.pageEntriesMax);
  }

  /** The queue's record for the keyspace. */
  record(): QueueRecord {
    return {
      id: this.id,
      name: this.name,
      attributes: this.attributes,
      createdAtMs: this.createdAtMs,
      nextOffset: this.nextOffset,
      deadLetteredCount: this.deadLetteredCount,
      dedupFloorSeq: this.dedup.floorSeq,
      tags: this.tags,
      ...(this.lastRedrive === undefined ? {} : { lastRedrive: this.lastRedrive }),
    };
  }

  /** Writes the queue record and the dedup window's open page (if it changed). */
  writeRecord(w: StateWriter): void {
    w.put(queueKey(this.name), encodeQueue(this.record()));
    this.dedup.flush(w);
  }

  /** Number of live messages. */
  get liveCount(): number {
    return this.#sequence.live;
  }

  /** Appends a message at the next offset, writes its index record, returns the offset. */
  append(w: StateWriter, m: NewMessage, nowMs: number): number {
    this.advance(nowMs);
    const offset = this.nextOffset++;
    const fresh = m.visibleAtMs <= nowMs && m.sourceQueue === '' && m.sentAtMs === nowMs && m.firstReceivedAtMs === 0;
    const visibleAtMs = fresh ? nowMs : m.visibleAtMs;
    this.#insert(
      offset,
      {
        seq: m.seq,
        enqueuedAtMs: nowMs,
        sentAtMs: m.sentAtMs,
        firstReceivedAtMs: m.firstReceivedAtMs,
        visibleAtMs,
        receiveCount: 0,
        deliveryIndex: 0,
        groupId: m.groupId,
        sourceQueue: m.sourceQueue,
      },
      fresh,
    );
    this.#writeMessage(w, offset, true);
    const s = this.#special.get(offset);
    if (s?.pending !== true && (this.attributes.fifo || !fresh)) this.#makeCandidate(offset);
    return offset;
  }

  /** Adds a message read from the keyspace during load (in offset order). Call finishRestore() after the last. */
  restore(offset: number, r: MessageRecord): void {
    assert(offset < this.nextOffset, () => `message offset ${offset} beyond nextOffset of ${this.name}`);
    const fresh =
      r.receiveCount === 0 &&
      r.deliveryIndex === 0 &&
      r.sourceQueue === '' &&
      r.visibleAtMs === r.enqueuedAtMs &&
      r.sentAtMs === r.enqueuedAtMs &&
      r.firstReceivedAtMs === 0;
    this.#insert(offset, r, fresh);
  }

  /** Completes load at clock `clockMs`: queues every visible message as a candidate. */
  finishRestore(clockMs: number): void {
    this.#advancedToMs = clockMs;
    for (const [offset, s] of this.#special) {
      if (s.visibleAtMs > clockMs) this.#setPending(offset, s);
    }
    if (this.attributes.fifo) {
      this.#groups.queueReady();
    } else {
      for (const [offset, s] of this.#special) if (!s.pending) this.#makeCandidate(offset);
    }
  }

  #insert(offset: number, r: MessageRecord, fresh: boolean): void {
    const groupNo = this.attributes.fifo ? this.#groups.append(r.groupId, offset) : 0;
    this.#sequence.append(offset, r.enqueuedAtMs, r.seq, groupNo, fresh ? slotState.fresh : slotState.special);
    if (fresh) return;
    const s: Special = {
      visibleAtMs: r.visibleAtMs,
      receiveCount: r.receiveCount,
      deliveryIndex: r.deliveryIndex,
      sourceQueue: r.sourceQueue,
      sentAtMs: r.sentAtMs,
      firstReceivedAtMs: r.firstReceivedAtMs,
      pending: false,
      queued: false,
    };
    this.#special.set(offset, s);
    if (this.#advancedToMs !== -Infinity && s.visibleAtMs > this.#advancedToMs) this.#setPending(offset, s);
  }

  /** Makes messages whose visibleAtMs <= nowMs visible. */
  advance(nowMs: number): void {
    assert(nowMs >= this.#advancedToMs, () => `clock went back: ${nowMs} < ${this.#advancedToMs}`);
    this.#advancedToMs = nowMs;
    while (this.#timers.peekKey() <= nowMs) {
      const due = this.#timers.peekKey();
      const offset = this.#timers.peekValue();
      this.#timers.pop();
      const s = this.#special.get(offset);
      if (s === undefined || !s.pending || s.visibleAtMs !== due) continue;
      this.#clearPending(offset, s);
      this.#makeCandidate(offset);
    }
  }

  /**
   * The earliest visibleAtMs among invisible (leased or delayed) messages; Infinity when none.
   * Never later than the true next expiry, possibly earlier (timers made stale by an ack or a
   * new lease are dropped lazily): a hint for waking long polls, never used for delivery.
   */
  nextTimerAtMs(): number {
    return this.#timers.peekKey();
  }

  /** The offset of the next message to deliver, removed from the candidates; undefined when none. */
  pickNext(): number | undefined {
    if (!this.attributes.fifo) return this.#pickStandard();
    const offset = this.#groups.pick();
    return offset === undefined ? undefined : this.#picked(offset);
  }

  #pickStandard(): number | undefined {
    const slot = this.#sequence.firstFreshSlot();
    const freshOffset = slot >= 0 ? this.#sequence.offsetAt(slot) : Infinity;
    while (this.#visible.size > 0) {
      const s = this.#special.get(this.#visible.peekValue());
      if (s !== undefined && !s.pending) break;
      this.#visible.pop();
      if (s !== undefined) s.queued = false;
    }
    const returnedOffset = this.#visible.peekKey();
    if (freshOffset === Infinity && returnedOffset === Infinity) return undefined;
    if (freshOffset < returnedOffset) {
      this.#toSpecial(slot);
      return freshOffset;
    }
    this.#visible.pop();
    this.#special.get(returnedOffset)!.queued = false;
    return returnedOffset;
  }

  /** Makes a picked FIFO message special (deliver mutates it) and returns its offset. */
  #picked(offset: number): number {
    const slot = this.#sequence.find(offset);
    if (this.#sequence.stateAt(slot) === slotState.fresh) this.#toSpecial(slot);
    return offset;
  }

  /** Delivers a picked message: in flight until nowMs + visibilityTimeoutMs, receiveCount + 1. */
  deliver(w: StateWriter, offset: number, nowMs: number, visibilityTimeoutMs: number, index: number): Delivery {
    const s = this.#special.get(offset);
    assert(s !== undefined && !s.pending, () => `deliver of non-candidate ${offset}`);
    if (this.attributes.fifo) this.#groups.assertDeliverable(offset);
    s.receiveCount++;
    s.deliveryIndex = index;
    if (s.firstReceivedAtMs === 0) s.firstReceivedAtMs = nowMs;
    s.visibleAtMs = nowMs + visibilityTimeoutMs;
    if (s.visibleAtMs > nowMs) {
      this.#setPending(offset, s);
      if (this.attributes.fifo) this.#groups.leased();
    } else this.#deferred.push(offset);
    this.#writeMessage(w, offset);
    const view = this.lookup(offset)!;
    return {
      id: messageIdOf(view.seq),
      offset,
      receipt: encodeReceipt({ queueId: this.id, offset, receiveCount: s.receiveCount, deliveryIndex: index }),
      receiveCount: s.receiveCount,
      enqueuedAtMs: view.enqueuedAtMs,
      sentAtMs: view.sentAtMs,
      firstReceivedAtMs: view.firstReceivedAtMs,
      groupId: view.groupId,
      seq: view.seq,
    };
  }

  /**
   * Ends a receive: messages delivered with visibility 0 become candidates again, and FIFO groups
   * picked by it may be queued again (when ready: nothing of them in flight).
   */
  endReceive(): void {
    this.#groups.endReceive();
    for (const offset of this.#deferred) {
      const s = this.#special.get(offset);
      if (s !== undefined && !s.pending) this.#makeCandidate(offset);
    }
    this.#deferred = [];
    this.#maybeRebuildHeaps();
  }

  /** The live message at `offset`. */
  lookup(offset: number): MessageView | undefined {
    const slot = this.#sequence.find(offset);
    if (slot < 0) return undefined;
    const s = this.#special.get(offset);
    const groupId = this.attributes.fifo ? (this.#groups.nameOf(this.#sequence.groupAt(slot)) ?? '') : '';
    const enqueuedAtMs = this.#sequence.enqueuedAtMsAt(slot);
    return {
      offset,
      seq: this.#sequence.seqAt(slot),
      enqueuedAtMs,
      sentAtMs: s?.sentAtMs ?? enqueuedAtMs,
      firstReceivedAtMs: s?.firstReceivedAtMs ?? 0,
      visibleAtMs: s?.visibleAtMs ?? enqueuedAtMs,
      receiveCount: s?.receiveCount ?? 0,
      deliveryIndex: s?.deliveryIndex ?? 0,
      groupId,
      sourceQueue: s?.sourceQueue ?? '',
    };
  }

  /** Sets when a delivered message becomes visible again (changeVisibility / nack). */
  setVisibility(w: StateWriter, offset: number, visibleAtMs: number, nowMs: number): void {
    this.advance(nowMs);
    const s = this.#special.get(offset);
    assert(s !== undefined && s.receiveCount > 0, () => `setVisibility of undelivered ${offset}`);
    if (s.pending) this.#clearPending(offset, s);
    s.visibleAtMs = visibleAtMs;
    if (visibleAtMs > nowMs) this.#setPending(offset, s);
    else this.#makeCandidate(offset);
    this.#writeMessage(w, offset);
    this.#maybeRebuildHeaps();
  }

  /** Removes a live message: its index record, and its payload unless the message moves on. */
  remove(w: StateWriter, offset: number, deletePayload: boolean): void {
    const slot = this.#sequence.find(offset);
    assert(slot >= 0, () => `remove of missing offset ${offset} in ${this.name}`);
    const seq = this.#sequence.seqAt(slot);
    const groupNo = this.#sequence.groupAt(slot);
    const s = this.#special.get(offset);
    if (s !== undefined) {
      if (s.pending) this.#clearPending(offset, s);
      this.#special.delete(offset);
    }
    this.#sequence.remove(slot);
    w.del(messageKey(this.id, offset));
    if (deletePayload) w.del(payloadKey(seq));
    if (this.attributes.fifo) this.#groups.remove(groupNo, offset);
  }

  /** Removes messages past retention at nowMs (a prefix in offset order); returns how many. */
  expireRetention(w: StateWriter, nowMs: number): number {
    let n = 0;
    for (let slot = this.#sequence.firstSlot(); slot >= 0; slot = this.#sequence.firstSlot()) {
      if (this.#sequence.enqueuedAtMsAt(slot) + this.attributes.retentionMs > nowMs) break;
      this.remove(w, this.#sequence.offsetAt(slot), true);
      n++;
    }
    if (n > 0) this.#maybeRebuildHeaps();
    return n;
  }

  /** Removes every message (purge / delete); returns how many. */
  clear(w: StateWriter): number {
    const n = this.#sequence.live;
    this.#sequence.forEachLive((slot) => {
      w.del(messageKey(this.id, this.#sequence.offsetAt(slot)));
      w.del(payloadKey(this.#sequence.seqAt(slot)));
    });
    this.#sequence.clear();
    this.#special.clear();
    this.#timers.clear();
    this.#visible.clear();
    this.#groups.clear();
    this.#pendingInFlight = this.#pendingDelayed = 0;
    return n;
  }

  /** Calls `fn` with every live message whose body's seq is in [lo, hi): the seq and when it entered this queue. */
  forEachLiveBody(lo: number, hi: number, fn: (seq: number, enqueuedAtMs: number) => void): void {
    this.#sequence.forEachSeqIn(lo, hi, fn);
  }

  /** Offsets of every live message in order (a copy). */
  liveOffsets(): number[] {
    return this.#sequence.liveOffsets();
  }

  /** Stats at nowMs (the state machine clock). */
  stats(nowMs: number): QueueStats {
    this.advance(nowMs);
    const first = this.#sequence.firstSlot();
    const pending = this.#pendingInFlight + this.#pendingDelayed;
    return {
      visible: this.#sequence.live - pending,
      inFlight: this.#pendingInFlight,
      delayed: this.#pendingDelayed,
      oldestMessageAgeMs: first < 0 ? 0 : nowMs - this.#sequence.enqueuedAtMsAt(first),
      deadLettered: this.deadLetteredCount,
    };
  }

  /**
   * Asserts the index's invariants by recounting them, O(messages): the pending counters, and
   * for FIFO queues those of the groups (FifoGroups.assertInvariants). For tests, between
   * commands (never inside a receive).
   */
  assertInvariants(): void {
    assert(this.#deferred.length === 0, 'invariants checked inside a receive');
    let inFlight = 0;
    let delayed = 0;
    const inFlightOffsets: number[] = [];
    for (const [offset, s] of this.#special) {
      assert(this.#sequence.find(offset) >= 0, () => `special ${offset} is not live`);
      assert(s.pending === s.visibleAtMs > this.#advancedToMs, () => `pending of ${offset} disagrees with its visibleAtMs`);
      if (!s.pending) {
        assert(this.attributes.fifo || s.queued, () => `visible ${offset} of ${this.name} is no candidate`);
      } else if (s.receiveCount === 0) {
        delayed++;
      } else {
        inFlight++;
        inFlightOffsets.push(offset);
      }
    }
    assert(inFlight === this.#pendingInFlight && delayed === this.#pendingDelayed, () => `pending counters of ${this.name} off`);
    this.#groups.assertInvariants(this.attributes.fifo ? inFlightOffsets : []);
  }

  #toSpecial(slot: number): void {
    const offset = this.#sequence.offsetAt(slot);
    this.#sequence.markSpecial(slot);
    const enqueuedAtMs = this.#sequence.enqueuedAtMsAt(slot);
    this.#special.set(offset, {
      visibleAtMs: enqueuedAtMs,
      receiveCount: 0,
      deliveryIndex: 0,
      sourceQueue: '',
      sentAtMs: enqueuedAtMs,
      firstReceivedAtMs: 0,
      pending: false,
      queued: false,
    });
  }

  #isVisible(offset: number): boolean {
    const s = this.#special.get(offset);
    return s === undefined || !s.pending;
  }

  #setPending(offset: number, s: Special): void {
    assert(!s.pending, 'already pending');
    s.pending = true;
    if (s.receiveCount > 0) {
      this.#pendingInFlight++;
      if (this.attributes.fifo) this.#groups.inFlightUp(offset);
    } else this.#pendingDelayed++;
    this.#timers.push(s.visibleAtMs, offset);
  }

  /** Ends pending; the caller makes the message a candidate or removes it (a FIFO group may become ready). */
  #clearPending(offset: number, s: Special): void {
    assert(s.pending, 'not pending');
    s.pending = false;
    if (s.receiveCount > 0) {
      this.#pendingInFlight--;
      if (this.attributes.fifo) this.#groups.inFlightDown(offset);
    } else this.#pendingDelayed--;
  }

  /** The group number of live FIFO message `offset`. */
  #groupNoAt(offset: number): number {
    const slot = this.#sequence.find(offset);
    assert(slot >= 0, () => `group of missing offset ${offset}`);
    return this.#sequence.groupAt(slot);
  }

  #makeCandidate(offset: number): void {
    if (this.attributes.fifo) {
      // Any message of a group becoming visible may make it ready: its head, or the last in flight.
      this.#groups.maybeQueueOf(offset);
      return;
    }
    const s = this.#special.get(offset);
    if (s === undefined || s.queued) return;
    s.queued = true;
    this.#visible.push(offset, offset);
  }

  /** Drops stale heap entries once they outnumber live ones, so heap memory stays bounded. */
  #maybeRebuildHeaps(): void {
    const pending = this.#pendingInFlight + this.#pendingDelayed;
    if (this.#timers.size > 2 * pending + heapSlackEntriesMax) {
      this.#timers.clear();
      for (const [offset, s] of this.#special) if (s.pending) this.#timers.push(s.visibleAtMs, offset);
    }
    if (this.#visible.size > 2 * this.#special.size + heapSlackEntriesMax) {
      this.#visible.clear();
      for (const s of this.#special.values()) s.queued = false;
      for (const [offset, s] of this.#special) if (!s.pending) this.#makeCandidate(offset);
    }
  }

  /** Writes the record of `offset`; `created` when the offset is new (offsets are never reused). */
  #writeMessage(w: StateWriter, offset: number, created = false): void {
    const view = this.lookup(offset);
    assert(view !== undefined, () => `write of missing offset ${offset}`);
    const { offset: _offset, ...record } = view;
    void _offset;
    w.put(messageKey(this.id, offset), encodeMessage(record), created);
  }
}
