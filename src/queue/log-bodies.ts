/**
 * Message bodies live in the Raft log (issue 17, "bodies only in the log"). The state machine
 * keeps only metadata: a message's `seq` says where its body is, in the enqueue entry at log
 * index `seq / 128`, at position `seq % 128` of its batch. Applying an enqueue writes nothing
 * for the body.
 *
 * The log is compacted behind snapshots, so a body must outlive its entry when its message
 * does: before the log is compacted through an index, the bodies of the messages still live
 * whose entries it drops are copied into payload records (key 71 04 seq), the *cold tier*
 * (coldBodyWrites). Where a body lives is a replica's own business: two replicas hold the same
 * messages, not necessarily the same payload records. Hence:
 * - a delivery reads the log first, and the payload record only for an entry the log no longer
 *   holds (readBodies): a compaction copies before it drops, so one of the two always has it;
 * - removing a message deletes its payload record (the state machine writes that delete; the
 *   storage drops it when the entry is still in the log and so no copy exists);
 * - a snapshot carries the bodies its receiver lacks: the payload records, plus copies of the
 *   bodies of live messages whose entries the snapshot covers but the sender's log still holds
 *   (SnapshotBodies).
 */
import { assert } from '../../raft/assert.js';
import type { Delivery, EnqueueMessage, ReceivedMessage } from './commands.js';
import { entryIndexOfSeq, positionOfSeq, seqsPerEntry } from './ids.js';
import { keyKind, payloadKey, queueStatePrefix, readU64 } from './keys.js';
import { decodeMessage, decodePayload, encodePayload } from './records.js';
import type { StateReader, StateWriter } from './state-store.js';

/** The enqueue commands of the Raft log, by entry index, as far as the log still holds them. */
export interface EnqueueLog {
  /**
   * The messages of the enqueue command at log `index`; undefined when the log no longer holds
   * that entry (compacted: the cold tier has the bodies still needed).
   */
  enqueuedAt(index: number): readonly EnqueueMessage[] | undefined;
}

/** Calls `fn` with every live message whose body's seq is in [lo, hi): the seq and when it entered its queue (QueueStateMachine.forEachLiveBody). */
export type LiveBodies = (lo: number, hi: number, fn: (seq: number, enqueuedAtMs: number) => void) => void;

/**
 * Reads messages of a log by seq, decoding each entry once for a run of seqs of the same entry
 * (deliveries and copies come mostly a batch at a time).
 */
class MessageCursor {
  readonly #log: EnqueueLog;
  #index = -1;
  #messages: readonly EnqueueMessage[] | undefined;

  constructor(log: EnqueueLog) {
    this.#log = log;
  }

  /** The message `seq`, or undefined when the log no longer holds its entry. */
  at(seq: number): EnqueueMessage | undefined {
    const index = entryIndexOfSeq(seq);
    if (index !== this.#index) {
      this.#index = index;
      this.#messages = this.#log.enqueuedAt(index);
    }
    if (this.#messages === undefined) return undefined;
    const m = this.#messages[positionOfSeq(seq)];
    assert(m !== undefined, () => `message ${seq} is not in its enqueue entry ${index}`);
    return m;
  }

  /** The message `seq`, whose entry the log must still hold. */
  held(seq: number): EnqueueMessage {
    const m = this.at(seq);
    assert(m !== undefined, () => `entry ${entryIndexOfSeq(seq)} of live message ${seq} left the log before its body was copied`);
    return m;
  }
}

/**
 * Attaches bodies, attributes and dedup ids to the deliveries of a receive result (call after the apply
 * batch is stored): from the log, else from the payload records, in one multi-get. A message
 * whose body is in neither (removed meanwhile, e.g. its queue purged) is left out.
 */
export async function readBodies(reader: StateReader, log: EnqueueLog, deliveries: readonly Delivery[]): Promise<ReceivedMessage[]> {
  const found = new Array<{ body: Uint8Array; attributes: Readonly<Record<string, string>>; dedupId: string } | undefined>(deliveries.length);
  const cold: number[] = [];
  const cursor = new MessageCursor(log);
  deliveries.forEach((d, i) => {
    const m = cursor.at(d.seq);
    if (m === undefined) cold.push(i);
    else found[i] = { body: m.body, attributes: m.attributes ?? {}, dedupId: m.dedupId ?? '' };
  });
  if (cold.length > 0) {
    const keys = cold.map((i) => payloadKey(deliveries[i]!.seq));
    const values = reader.getMany !== undefined ? await reader.getMany(keys) : await Promise.all(keys.map((k) => reader.get(k)));
    values.forEach((bytes, j) => {
      if (bytes === undefined) return;
      // The read handed us `bytes` of our own: the body may stay a view into them.
      const p = decodePayload(bytes, false);
      found[cold[j]!] = { body: p.body, attributes: p.attributes, dedupId: p.dedupId };
    });
  }
  const out: ReceivedMessage[] = [];
  deliveries.forEach((d, i) => {
    const f = found[i];
    if (f === undefined) return;
    const { seq: _seq, ...rest } = d;
    void _seq;
    out.push({ ...rest, body: f.body, attributes: { ...f.attributes }, dedupId: f.dedupId });
  });
  return out;
}

/**
 * Writes the payload records that let the log drop entries from `from` on: one per live message
 * whose body is in them (`live`), copied from `log`, which must still hold them. Stops after the
 * entry at which the copies reach `bytesMax` bytes of bodies, or after `through`. Returns the
 * last entry index covered (every live body up to it is copied: the entry before the next live
 * body not copied) and the copies written.
 */
export function coldBodyWrites(live: LiveBodies, from: number, through: number, bytesMax: number, log: EnqueueLog, w: StateWriter): { readonly through: number; readonly copies: number } {
  assert(from >= 1 && through >= from && bytesMax > 0, () => `cold range [${from}, ${through}] of ${bytesMax} bytes`);
  const picked: Array<{ seq: number; enqueuedAtMs: number }> = [];
  live(from * seqsPerEntry, (through + 1) * seqsPerEntry, (seq, enqueuedAtMs) => void picked.push({ seq, enqueuedAtMs }));
  picked.sort((a, b) => a.seq - b.seq);
  const cursor = new MessageCursor(log);
  let bytes = 0;
  let copies = 0;
  let entry = -1;
  for (const b of picked) {
    const index = entryIndexOfSeq(b.seq);
    // Whole entries only: the copies end at an entry boundary.
    if (index !== entry && bytes >= bytesMax) return { through: index - 1, copies };
    entry = index;
    const m = cursor.held(b.seq);
    w.put(payloadKey(b.seq), encodePayload({ body: m.body, attributes: m.attributes ?? {}, sentAtMs: b.enqueuedAtMs, dedupId: m.dedupId ?? '' }), true);
    bytes += m.body.byteLength;
    copies++;
  }
  return { through, copies };
}

/** The log index whose body the payload record `key` copies; undefined for any other key. */
export function entryOfPayloadKey(key: Uint8Array): number | undefined {
  if (key.length !== 10 || key[0] !== queueStatePrefix || key[1] !== keyKind.payload) return undefined;
  return entryIndexOfSeq(readU64(key, 2));
}

/** The range of payload record keys of bodies in entries after `index`: [gte, lt). */
export function payloadKeysAfter(index: number): { readonly gte: Uint8Array; readonly lt: Uint8Array } {
  return { gte: payloadKey((index + 1) * seqsPerEntry), lt: Uint8Array.of(queueStatePrefix, keyKind.payload + 1) };
}

/**
 * Completes a snapshot of the applied state with the bodies it must carry from the log: it sees
 * every pair the snapshot sends (observe), and then yields a payload record for each live
 * message whose entry lies in [from, through] (the log the snapshot covers but the sender still
 * keeps) and has no payload record yet (finish).
 */
export class SnapshotBodies {
  readonly #from: number;
  readonly #through: number;
  readonly #log: EnqueueLog;
  /** Live messages with their bodies in [from, through], by seq: when they entered their queue. */
  readonly #wanted = new Map<number, number>();
  /** Seqs with a payload record among the pairs sent. */
  readonly #present = new Set<number>();

  /** Bodies of entries [from, through], read from `log`, which holds them. */
  constructor(from: number, through: number, log: EnqueueLog) {
    this.#from = from;
    this.#through = through;
    this.#log = log;
  }

  /** Sees one pair of the snapshot. */
  observe(key: Uint8Array, value: Uint8Array): void {
    if (key.length < 2 || key[0] !== queueStatePrefix) return;
    if (key[1] === keyKind.payload) {
      this.#present.add(readU64(key, 2));
    } else if (key[1] === keyKind.message) {
      const r = decodeMessage(value);
      const index = entryIndexOfSeq(r.seq);
      if (index >= this.#from && index <= this.#through) this.#wanted.set(r.seq, r.enqueuedAtMs);
    }
  }

  /** The payload records the snapshot still needs, in key order. */
  *finish(): Generator<[Uint8Array, Uint8Array]> {
    const seqs = [...this.#wanted.keys()].filter((s) => !this.#present.has(s)).sort((a, b) => a - b);
    const cursor = new MessageCursor(this.#log);
    for (const seq of seqs) {
      const m = cursor.held(seq);
      yield [payloadKey(seq), encodePayload({ body: m.body, attributes: m.attributes ?? {}, sentAtMs: this.#wanted.get(seq)!, dedupId: m.dedupId ?? '' })];
    }
  }
}
