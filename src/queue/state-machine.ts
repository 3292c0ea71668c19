/**
 * The queue state machine: applies commands from the Raft log, synchronously and
 * deterministically, writing its state to a StateWriter (see keys.ts for the keyspace).
 *
 * Determinism: time is only `ctx.nowMs` (cluster time, src/server/cluster-clock.ts), made monotonic;
 * ids and keys derive from `ctx.index`; iteration orders are fixed. Two machines fed the same
 * commands write byte-identical keyspaces, and load() of a keyspace continues exactly like the
 * machine that wrote it.
 *
 * Never throws on a command: validateCommand and validateAgainstState run again inside apply and
 * turn into an error result. An AssertionError means a bug in raftq and must stop the node.
 */
import { assert } from '../../raft/assert.js';
import {
  errorResult,
  type AckCommand,
  type AckOutcome,
  type ChangeVisibilityCommand,
  type Command,
  type CommandResult,
  type CreateQueueCommand,
  type PrincipalCommand,
  type Delivery,
  type EnqueueCommand,
  type EnqueuedMessage,
  type QueueAttributes,
  type QueueInfo,
  type QueueTags,
  type ReceiveCommand,
  type RedriveCommand,
} from './commands.js';
import { QueueError } from './errors.js';
import { messageIdOf, seqOf, seqsPerEntry } from './ids.js';
import { keyKind, kindPrefix, machineKey, queueKey, readU32, readU64 } from './keys.js';
import { dedupKeysMax, dedupPageEntriesMax } from './limits.js';
import { PrincipalStore } from './principals.js';
import { QueueIndex } from './queue-index.js';
import { decodeReceipt } from './receipts.js';
import { decodeDedup, decodeDedupPage, decodeMachine, decodeMessage, decodeQueue, encodeMachine } from './records.js';
import type { StateReader, StateWriter } from './state-store.js';
import { mergeTags, removeTags, resolveAttributes, sortedTags, validateAgainstState, validateCommand, type QueueLookup } from './validate.js';

/** Where and when an entry is applied. */
export interface ApplyContext {
  /** Raft log index of the entry; strictly increasing across apply calls. */
  readonly index: number;
  /** The leader's wall-clock stamp carried in the entry (ms since epoch). */
  readonly nowMs: number;
}

/** Options of a state machine; defaults are the production values. */
export interface QueueStateMachineOptions {
  /** Dedup keys kept per queue (see limits.ts); tests lower it to exercise eviction. */
  readonly dedupKeysMax?: number;
  /** Dedup entries per stored page (see limits.ts); tests lower it to exercise page turnover. */
  readonly dedupPageEntriesMax?: number;
}

/** The seq slot of an entry reserved for its producer dedup entry (messages use 0..99). */
const producerDedupSlot = seqsPerEntry - 1;

/** The deterministic queue state machine. */
export class QueueStateMachine implements QueueLookup {
  /** Invariant: never decreases; equals the machine record's clockMs in the keyspace. */
  #clockMs = 0;
  /** Invariant: above every queue id ever assigned. */
  #nextQueueId = 1;
  /** Invariant: strictly increasing over apply calls (0 before the first). */
  #lastIndex = 0;
  #queues = new Map<string, QueueIndex>();
  #queuesById = new Map<number, QueueIndex>();
  /** Users and tokens (principals.ts). */
  readonly principals = new PrincipalStore();
  readonly #dedupLimits: { readonly keysMax: number; readonly pageEntriesMax: number };
  /**
   * While applyBatch runs: queue and machine records are written once, at the end of the batch,
   * instead of after every command (an enqueue rewrites its queue record; a batch of 64 would
   * write it 64 times). Invariant: empty and false outside applyBatch.
   */
  readonly #dirtyQueues = new Set<QueueIndex>();
  #machineDirty = false;
  #deferring = false;

  /** An empty state machine (no queues). Use load() to resume from a keyspace. */
  constructor(options: QueueStateMachineOptions = {}) {
    this.#dedupLimits = { keysMax: options.dedupKeysMax ?? dedupKeysMax, pageEntriesMax: options.dedupPageEntriesMax ?? dedupPageEntriesMax };
  }

  /** Rebuilds a state machine from its keyspace (startup, or after installing a snapshot). */
  static async load(reader: StateReader, options: QueueStateMachineOptions = {}): Promise<QueueStateMachine> {
    const sm = new QueueStateMachine(options);
    const machine = await reader.get(machineKey());
    if (machine !== undefined) {
      const m = decodeMachine(machine);
      sm.#clockMs = m.clockMs;
      sm.#nextQueueId = m.nextQueueId;
    }
    for await (const [, value] of reader.iterate(kindPrefix(keyKind.queue))) {
      const record = decodeQueue(value);
      assert(record.id < sm.#nextQueueId, () => `queue id ${record.id} >= nextQueueId`);
      sm.#addQueue(new QueueIndex(record, sm.#dedupLimits));
    }
    for await (const [key, value] of reader.iterate(kindPrefix(keyKind.message))) {
      const q = sm.#queuesById.get(readU32(key, 2));
      assert(q !== undefined, () => `message record of unknown queue ${readU32(key, 2)}`);
      q.restore(readU64(key, 6), decodeMessage(value));
    }
    for (const q of sm.#queues.values()) q.finishRestore(sm.#clockMs);
    await sm.principals.load(reader);
    // Dedup entries: the older one-key-per-entry layout first (it predates every page), then pages.
    for await (const [key, value] of reader.iterate(kindPrefix(keyKind.dedup))) {
      const q = sm.#queuesById.get(readU32(key, 2));
      assert(q !== undefined, () => `dedup record of unknown queue ${readU32(key, 2)}`);
      q.dedup.restoreLegacy(readU64(key, 6), decodeDedup(value));
    }
    for await (const [key, value] of reader.iterate(kindPrefix(keyKind.dedupPage))) {
      const q = sm.#queuesById.get(readU32(key, 2));
      assert(q !== undefined, () => `dedup page of unknown queue ${readU32(key, 2)}`);
      q.dedup.restorePage(readU64(key, 6), decodeDedupPage(value));
    }
    return sm;
  }

  /**
   * Calls `fn` with every live message of every queue whose body's seq is in [lo, hi): the seq
   * and when it entered its queue. For the copies of bodies a log compaction needs (log-bodies.ts).
   */
  forEachLiveBody(lo: number, hi: number, fn: (seq: number, enqueuedAtMs: number) => void): void {
    for (const q of this.#queuesById.values()) q.forEachLiveBody(lo, hi, fn);
  }

  /** Index of the last entry applied (0 before the first). */
  get lastIndex(): number {
    return this.#lastIndex;
  }

  /** The monotonic clock: the largest entry stamp applied so far. */
  get clockMs(): number {
    return this.#clockMs;
  }

  /** The attributes of queue `name`, or undefined. */
  queueAttributes(name: string): QueueAttributes | undefined {
    return this.#queues.get(name)?.attributes;
  }

  /** The tags of queue `name`, or undefined. */
  queueTags(name: string): QueueTags | undefined {
    return this.#queues.get(name)?.tags;
  }

  /** Checks a principal command against the users and tokens at the machine's clock (QueueLookup). */
  validatePrincipalCommand(cmd: PrincipalCommand): QueueError | undefined {
    return this.principals.validateAgainstState(cmd, this.#clockMs);
  }

  /** A queue with its stats at the state machine clock, or undefined. */
  getQueue(name: string): QueueInfo | undefined {
    const q = this.#queues.get(name);
    if (q === undefined) return undefined;
    return {
      name: q.name,
      attributes: q.attributes,
      createdAtMs: q.createdAtMs,
      stats: q.stats(this.#clockMs),
      tags: { ...q.tags },
      ...(q.lastRedrive === undefined ? {} : { lastRedrive: q.lastRedrive }),
    };
  }

  /**
   * When, on this machine's clock (ms), a leased or delayed message of queue `name` may next
   * become visible; Infinity when none or no such queue. Never later than the truth, possibly
   * earlier (see QueueIndex.nextTimerAtMs). Read-only: long polls wake on it.
   */
  nextVisibleAtMs(name: string): number {
    return this.#queues.get(name)?.nextTimerAtMs() ?? Infinity;
  }

  /** Asserts every queue index's invariants by recounting them, O(messages): for tests, between applies. */
  assertInvariants(): void {
    for (const q of this.#queues.values()) q.assertInvariants();
  }

  /** Every queue, by name. */
  listQueues(): QueueInfo[] {
    return this.#sortedQueues().map((q) => this.getQueue(q.name)!);
  }

  /**
   * Applies committed commands in order, as apply() does one by one, but writes each touched
   * queue record and the machine record once, after the last command. The keyspace after the
   * batch is byte-identical to applying the commands one at a time (the records hold the final
   * values either way), so nodes that batch differently still agree at every batch boundary.
   */
  applyBatch(commands: ReadonlyArray<{ readonly cmd: Command; readonly ctx: ApplyContext }>, w: StateWriter): CommandResult[] {
    assert(!this.#deferring, 'applyBatch re-entered');
    this.#deferring = true;
    try {
      return commands.map(({ cmd, ctx }) => this.apply(cmd, ctx, w));
    } finally {
      this.#deferring = false;
      for (const q of this.#dirtyQueues) q.writeRecord(w);
      this.#dirtyQueues.clear();
      if (this.#machineDirty) this.#writeMachine(w);
      this.#machineDirty = false;
    }
  }

  /**
   * Applies one committed command. Synchronous and deterministic; writes go to `w`, which the
   * runtime commits in one batch with the applied index.
   */
  apply(cmd: Command, ctx: ApplyContext, w: StateWriter): CommandResult {
    assert(Number.isSafeInteger(ctx.index) && ctx.index > this.#lastIndex, () => `apply index ${ctx.index} after ${this.#lastIndex}`);
    assert(Number.isFinite(ctx.nowMs), 'entry stamp must be finite');
    this.#lastIndex = ctx.index;
    if (ctx.nowMs > this.#clockMs) {
      this.#clockMs = ctx.nowMs;
      this.#touchMachine(w);
    }
    const err = validateCommand(cmd) ?? validateAgainstState(cmd, this);
    if (err !== undefined) return errorResult(err.code, err.message);
    const now = this.#clockMs;
    switch (cmd.type) {
      case 'createQueue':
        return this.#createQueue(cmd, now, w);
      case 'deleteQueue': {
        const q = this.#queues.get(cmd.queue)!;
        const deletedMessages = q.clear(w);
        q.dedup.clear(w);
        w.del(queueKey(q.name));
        this.#dirtyQueues.delete(q);
        this.#queues.delete(q.name);
        this.#queuesById.delete(q.id);
        return { ok: true, type: 'deleteQueue', deletedMessages };
      }
      case 'purgeQueue': {
        const q = this.#queues.get(cmd.queue)!;
        return { ok: true, type: 'purgeQueue', purgedMessages: q.clear(w) };
      }
      case 'setQueueAttributes': {
        const q = this.#queues.get(cmd.queue)!;
        q.attributes = resolveAttributes(q.name, cmd.attributes, q.attributes);
        this.#touchQueue(q, w);
        return { ok: true, type: 'setQueueAttributes' };
      }
      case 'tagQueue': {
        const q = this.#queues.get(cmd.queue)!;
        q.tags = mergeTags(q.tags, cmd.tags);
        this.#touchQueue(q, w);
        return { ok: true, type: 'tagQueue' };
      }
      case 'untagQueue': {
        const q = this.#queues.get(cmd.queue)!;
        q.tags = removeTags(q.tags, cmd.keys);
        this.#touchQueue(q, w);
        return { ok: true, type: 'untagQueue' };
      }
      case 'enqueue':
        return this.#enqueue(cmd, ctx.index, now, w);
      case 'receive':
        return this.#receive(cmd, ctx.index, now, w);
      case 'ack':
        return this.#ack(cmd, w);
      case 'changeVisibility':
        return this.#changeVisibility(cmd, now, w);
      case 'redrive':
        return this.#redrive(cmd, ctx.index, now, w);
      case 'expire': {
        let expiredMessages = 0;
        let expiredDedupKeys = 0;
        for (const q of this.#sortedQueues()) {
          expiredMessages += q.expireRetention(w, now);
          const keys = q.dedup.expire(w, now);
          // The dedup floor moved: it lives in the queue record.
          if (keys > 0) this.#touchQueue(q, w);
          expiredDedupKeys += keys;
        }
        return { ok: true, type: 'expire', expiredMessages, expiredDedupKeys };
      }
      case 'putUser':
      case 'deleteUser':
      case 'createToken':
      case 'revokeToken':
        return this.principals.apply(cmd, now, w);
    }
  }

  #createQueue(cmd: CreateQueueCommand, now: number, w: StateWriter): CommandResult {
    if (this.#queues.has(cmd.queue)) return { ok: true, type: 'createQueue', created: false };
    const q = new QueueIndex(
      {
        id: this.#nextQueueId++,
        name: cmd.queue,
        attributes: resolveAttributes(cmd.queue, cmd.attributes),
        createdAtMs: now,
        nextOffset: 0,
        deadLetteredCount: 0,
        dedupFloorSeq: 0,
        tags: sortedTags(cmd.tags ?? {}),
      },
      this.#dedupLimits,
    );
    this.#addQueue(q);
    this.#touchQueue(q, w);
    this.#touchMachine(w);
    return { ok: true, type: 'createQueue', created: true };
  }

  #enqueue(cmd: EnqueueCommand, index: number, now: number, w: StateWriter): CommandResult {
    const q = this.#queues.get(cmd.queue)!;
    const producerKey = cmd.producerKey === undefined ? undefined : producerDedupKey(cmd.producerKey);
    if (producerKey !== undefined) {
      const hit = q.dedup.lookup(producerKey, now);
      if (hit !== undefined) return { ok: true, type: 'enqueue', messages: replay(hit.seqs, hit.offsets), duplicate: true };
    }
    const seqs: number[] = [];
    const offsets: number[] = [];
    const fifo = q.attributes.fifo;
    for (let n = 0; n < cmd.messages.length; n++) {
      const m = cmd.messages[n]!;
      const dedupId = fifo && m.dedupId !== undefined ? `d:${m.dedupId}` : undefined;
      const hit = dedupId === undefined ? undefined : q.dedup.lookup(dedupId, now);
      if (hit !== undefined) {
        seqs.push(hit.seqs[0]!);
        offsets.push(hit.offsets[0]!);
        continue;
      }
      const seq = seqOf(index, n);
      // The body stays in the log entry (log-bodies.ts): nothing is written for it.
      const delayMs = fifo ? q.attributes.delayMs : (m.delayMs ?? q.attributes.delayMs);
      const offset = q.append(w, { seq, visibleAtMs: now + delayMs, groupId: m.groupId ?? '', sourceQueue: '', sentAtMs: now, firstReceivedAtMs: 0 }, now);
      if (dedupId !== undefined) q.dedup.insert(w, dedupId, { seq, createdAtMs: now, seqs: [seq], offsets: [offset] });
      seqs.push(seq);
      offsets.push(offset);
    }
    if (producerKey !== undefined) {
      q.dedup.insert(w, producerKey, { seq: seqOf(index, producerDedupSlot), createdAtMs: now, seqs, offsets });
    }
    this.#touchQueue(q, w);
    return { ok: true, type: 'enqueue', messages: replay(seqs, offsets), duplicate: false };
  }

  #receive(cmd: ReceiveCommand, index: number, now: number, w: StateWriter): CommandResult {
    const q = this.#queues.get(cmd.queue)!;
    q.expireRetention(w, now);
    q.advance(now);
    const visibilityTimeoutMs = cmd.visibilityTimeoutMs ?? q.attributes.visibilityTimeoutMs;
    const { maxReceiveCount, deadLetterQueue } = q.attributes;
    const dlq = deadLetterQueue === '' ? undefined : this.#queues.get(deadLetterQueue);
    const messages: Delivery[] = [];
    let deadLettered = 0;
    while (messages.length < cmd.max) {
      const offset = q.pickNext();
      if (offset === undefined) break;
      const m = q.lookup(offset)!;
      if (dlq !== undefined && m.receiveCount >= maxReceiveCount) {
        q.remove(w, offset, false);
        dlq.append(w, { seq: m.seq, visibleAtMs: now, groupId: m.groupId, sourceQueue: q.name, sentAtMs: m.sentAtMs, firstReceivedAtMs: m.firstReceivedAtMs }, now);
        deadLettered++;
        continue;
      }
      messages.push(q.deliver(w, offset, now, visibilityTimeoutMs, index));
    }
    q.endReceive();
    if (deadLettered > 0) {
      q.deadLetteredCount += deadLettered;
      this.#touchQueue(q, w);
      this.#touchQueue(dlq!, w);
    }
    return { ok: true, type: 'receive', messages, deadLettered };
  }

  #ack(cmd: AckCommand, w: StateWriter): CommandResult {
    const q = this.#queues.get(cmd.queue)!;
    const outcomes: AckOutcome[] = cmd.receipts.map((text) => {
      const r = decodeReceipt(text);
      assert(!(r instanceof QueueError), 'receipt passed validation');
      if (r.queueId !== q.id) return 'gone';
      const m = q.lookup(r.offset);
      if (m === undefined) return 'gone';
      if (m.receiveCount !== r.receiveCount || m.deliveryIndex !== r.deliveryIndex) return 'stale';
      q.remove(w, r.offset, true);
      return 'deleted';
    });
    return { ok: true, type: 'ack', outcomes };
  }

  #changeVisibility(cmd: ChangeVisibilityCommand, now: number, w: StateWriter): CommandResult {
    const q = this.#queues.get(cmd.queue)!;
    const r = decodeReceipt(cmd.receipt);
    assert(!(r instanceof QueueError), 'receipt passed validation');
    const m = r.queueId === q.id ? q.lookup(r.offset) : undefined;
    if (m === undefined) return { ok: true, type: 'changeVisibility', outcome: 'gone' };
    if (m.receiveCount !== r.receiveCount || m.deliveryIndex !== r.deliveryIndex) {
      return errorResult('STALE_RECEIPT', 'the message was delivered again since this receipt');
    }
    q.setVisibility(w, r.offset, now + cmd.visibilityTimeoutMs, now);
    return { ok: true, type: 'changeVisibility', outcome: 'changed' };
  }

  /**
   * Moves the messages of dead-letter queue `cmd.queue`, in offset order: each to its source
   * queue (those without one stay), or every one to `cmd.destination`. The message keeps its
   * payload, group, sentAtMs and firstReceivedAtMs; the dead-letter queue's record keeps the task.
   */
  #redrive(cmd: RedriveCommand, index: number, now: number, w: StateWriter): CommandResult {
    const dlq = this.#queues.get(cmd.queue)!;
    const destination = cmd.destination === undefined ? undefined : this.#queues.get(cmd.destination);
    assert(cmd.destination === undefined || (destination !== undefined && destination !== dlq), 'redrive destination passed validation');
    dlq.advance(now);
    const touched = new Set<QueueIndex>();
    let moved = 0;
    for (const offset of dlq.liveOffsets()) {
      const m = dlq.lookup(offset)!;
      const target = destination ?? (m.sourceQueue === '' ? undefined : this.#queues.get(m.sourceQueue));
      if (target === undefined) continue;
      dlq.remove(w, offset, false);
      target.append(w, { seq: m.seq, visibleAtMs: now, groupId: m.groupId, sourceQueue: '', sentAtMs: m.sentAtMs, firstReceivedAtMs: m.firstReceivedAtMs }, now);
      touched.add(target);
      moved++;
    }
    dlq.lastRedrive = { taskIndex: index, startedAtMs: now, moved, destination: cmd.destination ?? '' };
    touched.add(dlq);
    for (const q of touched) this.#touchQueue(q, w);
    return { ok: true, type: 'redrive', moved, taskIndex: index };
  }

  #addQueue(q: QueueIndex): void {
    assert(!this.#queues.has(q.name) && !this.#queuesById.has(q.id), () => `duplicate queue ${q.name}`);
    this.#queues.set(q.name, q);
    this.#queuesById.set(q.id, q);
  }

  #sortedQueues(): QueueIndex[] {
    return [...this.#queues.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Writes `q`'s record now, or at the end of the running applyBatch. */
  #touchQueue(q: QueueIndex, w: StateWriter): void {
    if (this.#deferring) this.#dirtyQueues.add(q);
    else q.writeRecord(w);
  }

  /** Writes the machine record now, or at the end of the running applyBatch. */
  #touchMachine(w: StateWriter): void {
    if (this.#deferring) this.#machineDirty = true;
    else this.#writeMachine(w);
  }

  #writeMachine(w: StateWriter): void {
    w.put(machineKey(), encodeMachine({ clockMs: this.#clockMs, nextQueueId: this.#nextQueueId }));
  }
}

function producerDedupKey(key: NonNullable<EnqueueCommand['producerKey']>): string {
  return 'idempotencyKey' in key ? `i:${key.idempotencyKey}` : `p:${key.sequence}:${key.producerId}`;
}

function replay(seqs: readonly number[], offsets: readonly number[]): EnqueuedMessage[] {
  return seqs.map((seq, i) => ({ id: messageIdOf(seq), offset: offsets[i]! }));
}
