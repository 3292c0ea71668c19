/**
 * An obviously-correct model of the queue state machine for model-based tests: every queue is
 * a plain array of message objects, every decision a linear scan. No indexes, no keyspace.
 * It shares only the pure helpers (validateCommand, attribute resolution, receipt codec, id
 * format) with the real state machine, so it checks the semantics, not the validation tables.
 */
import type {
  Command,
  CommandResult,
  Delivery,
  EnqueuedMessage,
  QueueAttributes,
  QueueStats,
  RedriveTask,
} from '../../src/queue/commands.js';
import { QueueError } from '../../src/queue/errors.js';
import type { Permission } from '../../src/queue/permissions.js';
import { messageIdOf, seqOf } from '../../src/queue/ids.js';
import { dedupWindowMs, queueTagsMax } from '../../src/queue/limits.js';
import { decodeReceipt, encodeReceipt } from '../../src/queue/receipts.js';
import { resolveAttributes, sameAttributes, validateCommand } from '../../src/queue/validate.js';

interface ModelMessage {
  offset: number;
  seq: number;
  enqueuedAtMs: number;
  visibleAtMs: number;
  receiveCount: number;
  deliveryIndex: number;
  groupId: string;
  sourceQueue: string;
  sentAtMs: number;
  firstReceivedAtMs: number;
}

interface ModelDedup {
  key: string;
  createdAtMs: number;
  seqs: number[];
  offsets: number[];
}

interface ModelQueue {
  id: number;
  name: string;
  attributes: QueueAttributes;
  nextOffset: number;
  deadLettered: number;
  messages: ModelMessage[];
  dedup: ModelDedup[];
  tags: Map<string, string>;
  lastRedrive: RedriveTask | undefined;
}

/** A user of the model. */
export interface ModelUser {
  permissions: Permission[];
  tokens: Array<{ id: string; hash: string; createdAtMs: number; expiresAtMs: number; revoked: boolean }>;
}

/** Payload of a message in the model. */
export interface ModelPayload {
  body: Uint8Array;
  attributes: Record<string, string>;
  dedupId: string;
}

/** The model state machine. */
export class QueueModel {
  clockMs = 0;
  nextQueueId = 1;
  queues = new Map<string, ModelQueue>();
  payloads = new Map<number, ModelPayload>();
  /** Users by name: permissions and tokens (in creation order). */
  users = new Map<string, ModelUser>();

  constructor(readonly dedupKeysMax: number) {}

  /** Users and tokens, by linear scans (limits: 10,000 users, 100 live tokens a user). */
  #applyPrincipal(cmd: Extract<Command, { type: 'putUser' | 'deleteUser' | 'createToken' | 'revokeToken' }>, now: number): CommandResult {
    const live = (t: ModelUser['tokens'][number]): boolean => !t.revoked && (t.expiresAtMs === 0 || now < t.expiresAtMs);
    switch (cmd.type) {
      case 'putUser': {
        const old = this.users.get(cmd.name);
        if (old === undefined && this.users.size >= 10_000) return fail('INVALID_ARGUMENT');
        this.users.set(cmd.name, { permissions: cmd.permissions.map((p) => ({ resource: p.resource, actions: [...p.actions] })), tokens: old?.tokens ?? [] });
        return { ok: true, type: 'putUser', created: old === undefined };
      }
      case 'deleteUser':
        if (!this.users.delete(cmd.name)) return fail('NOT_FOUND');
        return { ok: true, type: 'deleteUser' };
      case 'createToken': {
        const u = this.users.get(cmd.user);
        if (u === undefined) return fail('NOT_FOUND');
        if ([...this.users.values()].some((x) => x.tokens.some((t) => t.id === cmd.tokenId))) return fail('INVALID_ARGUMENT');
        if (cmd.expiresAtMs !== 0 && cmd.expiresAtMs <= now) return fail('INVALID_ARGUMENT');
        if (u.tokens.filter(live).length >= 100) return fail('INVALID_ARGUMENT');
        if (u.tokens.length >= 100) u.tokens = u.tokens.filter(live);
        u.tokens.push({ id: cmd.tokenId, hash: cmd.hash, createdAtMs: now, expiresAtMs: cmd.expiresAtMs, revoked: false });
        return { ok: true, type: 'createToken' };
      }
      case 'revokeToken': {
        const t = this.users.get(cmd.user)?.tokens.find((x) => x.id === cmd.tokenId);
        if (t === undefined) return fail('NOT_FOUND');
        t.revoked = true;
        return { ok: true, type: 'revokeToken' };
      }
    }
  }

  /** Applies a command; error results carry only the code (messages are not compared). */
  apply(cmd: Command, index: number, nowMs: number): CommandResult {
    this.clockMs = Math.max(this.clockMs, nowMs);
    const now = this.clockMs;
    const invalid = validateCommand(cmd);
    if (invalid !== undefined) return fail(invalid.code);
    if (cmd.type === 'expire') {
      let expiredMessages = 0;
      let expiredDedupKeys = 0;
      for (const q of this.queues.values()) {
        expiredMessages += this.#expireRetention(q, now);
        const before = q.dedup.length;
        q.dedup = q.dedup.filter((d) => d.createdAtMs + dedupWindowMs > now);
        expiredDedupKeys += before - q.dedup.length;
      }
      return { ok: true, type: 'expire', expiredMessages, expiredDedupKeys };
    }
    if (cmd.type === 'putUser' || cmd.type === 'deleteUser' || cmd.type === 'createToken' || cmd.type === 'revokeToken') return this.#applyPrincipal(cmd, now);
    const q = this.queues.get(cmd.queue);
    if (cmd.type === 'createQueue') {
      const attributes = resolveAttributes(cmd.queue, cmd.attributes);
      if (q !== undefined) return sameAttributes(q.attributes, attributes) ? { ok: true, type: 'createQueue', created: false } : fail('QUEUE_EXISTS');
      if (attributes.deadLetterQueue !== '' && !this.queues.has(attributes.deadLetterQueue)) return fail('QUEUE_NOT_FOUND');
      this.queues.set(cmd.queue, {
        id: this.nextQueueId++,
        name: cmd.queue,
        attributes,
        nextOffset: 0,
        deadLettered: 0,
        messages: [],
        dedup: [],
        tags: new Map(Object.entries(cmd.tags ?? {})),
        lastRedrive: undefined,
      });
      return { ok: true, type: 'createQueue', created: true };
    }
    if (q === undefined) return fail('QUEUE_NOT_FOUND');
    switch (cmd.type) {
      case 'deleteQueue':
        for (const m of q.messages) this.payloads.delete(m.seq);
        this.queues.delete(q.name);
        return { ok: true, type: 'deleteQueue', deletedMessages: q.messages.length };
      case 'purgeQueue': {
        for (const m of q.messages) this.payloads.delete(m.seq);
        const purgedMessages = q.messages.length;
        q.messages = [];
        return { ok: true, type: 'purgeQueue', purgedMessages };
      }
      case 'setQueueAttributes': {
        const dlq = cmd.attributes.deadLetterQueue;
        if (dlq !== undefined && !this.queues.has(dlq)) return fail('QUEUE_NOT_FOUND');
        q.attributes = resolveAttributes(q.name, cmd.attributes, q.attributes);
        return { ok: true, type: 'setQueueAttributes' };
      }
      case 'tagQueue': {
        const merged = new Map(q.tags);
        for (const [k, v] of Object.entries(cmd.tags)) merged.set(k, v);
        if (merged.size > queueTagsMax) return fail('INVALID_ARGUMENT');
        q.tags = merged;
        return { ok: true, type: 'tagQueue' };
      }
      case 'untagQueue':
        for (const k of cmd.keys) q.tags.delete(k);
        return { ok: true, type: 'untagQueue' };
      case 'enqueue':
        return this.#enqueue(q, cmd, index, now);
      case 'receive':
        return this.#receive(q, cmd.max, cmd.visibilityTimeoutMs ?? q.attributes.visibilityTimeoutMs, index, now);
      case 'ack':
        return {
          ok: true,
          type: 'ack',
          outcomes: cmd.receipts.map((text) => {
            const found = this.#byReceipt(q, text);
            if (found === 'gone' || found === 'stale') return found;
            q.messages = q.messages.filter((m) => m !== found);
            this.payloads.delete(found.seq);
            return 'deleted';
          }),
        };
      case 'changeVisibility': {
        const found = this.#byReceipt(q, cmd.receipt);
        if (found === 'gone') return { ok: true, type: 'changeVisibility', outcome: 'gone' };
        if (found === 'stale') return fail('STALE_RECEIPT');
        found.visibleAtMs = now + cmd.visibilityTimeoutMs;
        return { ok: true, type: 'changeVisibility', outcome: 'changed' };
      }
      case 'redrive': {
        const destination = cmd.destination === undefined ? undefined : this.queues.get(cmd.destination);
        if (cmd.destination !== undefined && destination === undefined) return fail('QUEUE_NOT_FOUND');
        let moved = 0;
        for (const m of [...q.messages]) {
          const target = destination ?? (m.sourceQueue === '' ? undefined : this.queues.get(m.sourceQueue));
          if (target === undefined) continue;
          q.messages = q.messages.filter((x) => x !== m);
          this.#append(target, m.seq, now, now, m.groupId, '', m.sentAtMs, m.firstReceivedAtMs);
          moved++;
        }
        q.lastRedrive = { taskIndex: index, startedAtMs: now, moved, destination: cmd.destination ?? '' };
        return { ok: true, type: 'redrive', moved, taskIndex: index };
      }
    }
  }

  /** Stats of a queue at the model clock. */
  stats(name: string): QueueStats | undefined {
    const q = this.queues.get(name);
    if (q === undefined) return undefined;
    const now = this.clockMs;
    const oldest = q.messages.reduce((min, m) => Math.min(min, m.enqueuedAtMs), Infinity);
    return {
      visible: q.messages.filter((m) => m.visibleAtMs <= now).length,
      inFlight: q.messages.filter((m) => m.visibleAtMs > now && m.receiveCount > 0).length,
      delayed: q.messages.filter((m) => m.visibleAtMs > now && m.receiveCount === 0).length,
      oldestMessageAgeMs: oldest === Infinity ? 0 : now - oldest,
      deadLettered: q.deadLettered,
    };
  }

  #byReceipt(q: ModelQueue, text: string): ModelMessage | 'gone' | 'stale' {
    const r = decodeReceipt(text);
    if (r instanceof QueueError) throw r;
    const m = r.queueId === q.id ? q.messages.find((x) => x.offset === r.offset) : undefined;
    if (m === undefined) return 'gone';
    return m.receiveCount === r.receiveCount && m.deliveryIndex === r.deliveryIndex ? m : 'stale';
  }

  #append(q: ModelQueue, seq: number, now: number, visibleAtMs: number, groupId: string, sourceQueue: string, sentAtMs: number, firstReceivedAtMs: number): number {
    const offset = q.nextOffset++;
    q.messages.push({ offset, seq, enqueuedAtMs: now, visibleAtMs, receiveCount: 0, deliveryIndex: 0, groupId, sourceQueue, sentAtMs, firstReceivedAtMs });
    return offset;
  }

  /** Tags of a queue (keys sorted), or undefined. */
  tags(name: string): Record<string, string> | undefined {
    const q = this.queues.get(name);
    if (q === undefined) return undefined;
    return Object.fromEntries([...q.tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** The last redrive of a queue, or undefined. */
  lastRedrive(name: string): RedriveTask | undefined {
    return this.queues.get(name)?.lastRedrive;
  }

  /** The attributes of a queue, or undefined. */
  attributes(name: string): QueueAttributes | undefined {
    return this.queues.get(name)?.attributes;
  }

  #dedupLookup(q: ModelQueue, key: string, now: number): ModelDedup | undefined {
    return q.dedup.find((d) => d.key === key && d.createdAtMs + dedupWindowMs > now);
  }

  #dedupInsert(q: ModelQueue, d: ModelDedup): void {
    q.dedup = q.dedup.filter((x) => x.key !== d.key);
    while (q.dedup.length >= this.dedupKeysMax) q.dedup.shift();
    q.dedup.push(d);
  }

  #enqueue(q: ModelQueue, cmd: Extract<Command, { type: 'enqueue' }>, index: number, now: number): CommandResult {
    if (cmd.messages.some((m) => m.body.length > q.attributes.maxMessageBytes)) return fail('TOO_LARGE');
    const key = cmd.producerKey === undefined ? undefined : 'idempotencyKey' in cmd.producerKey ? `i:${cmd.producerKey.idempotencyKey}` : `p:${cmd.producerKey.sequence}:${cmd.producerKey.producerId}`;
    if (key !== undefined) {
      const hit = this.#dedupLookup(q, key, now);
      if (hit !== undefined) return { ok: true, type: 'enqueue', messages: ids(hit.seqs, hit.offsets), duplicate: true };
    }
    const seqs: number[] = [];
    const offsets: number[] = [];
    cmd.messages.forEach((m, n) => {
      const dkey = q.attributes.fifo && m.dedupId !== undefined ? `d:${m.dedupId}` : undefined;
      const hit = dkey === undefined ? undefined : this.#dedupLookup(q, dkey, now);
      if (hit !== undefined) {
        seqs.push(hit.seqs[0]!);
        offsets.push(hit.offsets[0]!);
        return;
      }
      const seq = seqOf(index, n);
      this.payloads.set(seq, { body: m.body, attributes: { ...(m.attributes ?? {}) }, dedupId: m.dedupId ?? '' });
      const delay = q.attributes.fifo ? q.attributes.delayMs : (m.delayMs ?? q.attributes.delayMs);
      const offset = this.#append(q, seq, now, now + delay, m.groupId ?? '', '', now, 0);
      if (dkey !== undefined) this.#dedupInsert(q, { key: dkey, createdAtMs: now, seqs: [seq], offsets: [offset] });
      seqs.push(seq);
      offsets.push(offset);
    });
    if (key !== undefined) this.#dedupInsert(q, { key, createdAtMs: now, seqs, offsets });
    return { ok: true, type: 'enqueue', messages: ids(seqs, offsets), duplicate: false };
  }

  #expireRetention(q: ModelQueue, now: number): number {
    const gone = q.messages.filter((m) => m.enqueuedAtMs + q.attributes.retentionMs <= now);
    for (const m of gone) this.payloads.delete(m.seq);
    q.messages = q.messages.filter((m) => m.enqueuedAtMs + q.attributes.retentionMs > now);
    return gone.length;
  }

  #receive(q: ModelQueue, max: number, visibilityTimeoutMs: number, index: number, now: number): CommandResult {
    this.#expireRetention(q, now);
    const dlq = q.attributes.deadLetterQueue === '' ? undefined : this.queues.get(q.attributes.deadLetterQueue);
    const delivered = new Set<ModelMessage>();
    const messages: Delivery[] = [];
    let deadLettered = 0;
    // A candidate: visible at `now` and not delivered by this receive (visibility 0 keeps it visible).
    const visible = (x: ModelMessage): boolean => x.visibleAtMs <= now && !delivered.has(x);
    // FIFO: the group being delivered and the offset picked from it last.
    let batch: { groupId: string; after: number } | undefined;
    const pickFifo = (): ModelMessage | undefined => {
      if (batch !== undefined) {
        const b = batch;
        const next = q.messages.find((x) => x.groupId === b.groupId && x.offset > b.after);
        if (next !== undefined && visible(next)) return next;
        batch = undefined;
      }
      // Messages are in offset order: the first visible head of a group with nothing in flight.
      const isHead = (m: ModelMessage): boolean => !q.messages.some((x) => x.groupId === m.groupId && x.offset < m.offset);
      const inFlight = (groupId: string): boolean => q.messages.some((x) => x.groupId === groupId && x.receiveCount > 0 && x.visibleAtMs > now);
      return q.messages.find((x) => visible(x) && isHead(x) && !inFlight(x.groupId));
    };
    while (messages.length < max) {
      const m = q.attributes.fifo ? pickFifo() : q.messages.find(visible);
      if (m === undefined) break;
      if (q.attributes.fifo) batch = { groupId: m.groupId, after: m.offset };
      if (dlq !== undefined && m.receiveCount >= q.attributes.maxReceiveCount) {
        q.messages = q.messages.filter((x) => x !== m);
        this.#append(dlq, m.seq, now, now, m.groupId, q.name, m.sentAtMs, m.firstReceivedAtMs);
        q.deadLettered++;
        deadLettered++;
        continue;
      }
      m.receiveCount++;
      m.deliveryIndex = index;
      m.visibleAtMs = now + visibilityTimeoutMs;
      if (m.firstReceivedAtMs === 0) m.firstReceivedAtMs = now;
      delivered.add(m);
      messages.push({
        id: messageIdOf(m.seq),
        offset: m.offset,
        receipt: encodeReceipt({ queueId: q.id, offset: m.offset, receiveCount: m.receiveCount, deliveryIndex: index }),
        receiveCount: m.receiveCount,
        enqueuedAtMs: m.enqueuedAtMs,
        sentAtMs: m.sentAtMs,
        firstReceivedAtMs: m.firstReceivedAtMs,
        groupId: m.groupId,
        seq: m.seq,
      });
    }
    return { ok: true, type: 'receive', messages, deadLettered };
  }
}

function fail(code: CommandResult extends infer R ? (R extends { ok: false; code: infer C } ? C : never) : never): CommandResult {
  return { ok: false, code, message: '' };
}

function ids(seqs: readonly number[], offsets: readonly number[]): EnqueuedMessage[] {
  return seqs.map((seq, i) => ({ id: messageIdOf(seq), offset: offsets[i]! }));
}
