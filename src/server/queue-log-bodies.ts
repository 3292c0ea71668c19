/**
 * Where the queue node finds message bodies: in its Raft log (src/queue/log-bodies.ts). This
 * module reads enqueue commands out of log entries (the runtime's envelope, then the queue
 * codec) and tells the storage which applied keys copy log data (the payload records: the cold
 * tier), so that it keeps them consistent with the log (src/storage/log-copies.ts).
 */
import type { Entry } from '../../raft/types.js';
import { decodeCommand, entryOfPayloadKey, payloadKeysAfter, SnapshotBodies, type EnqueueLog, type EnqueueMessage } from '../queue/index.js';
import type { LogBackedKeys } from '../storage/index.js';
import { decodeEntry } from './entry-envelope.js';

/** What reading bodies needs of the log: DurableStorage has it. */
export interface LogEntryReader {
  firstIndex(): number;
  lastIndex(): number;
  entries(lo: number, hi: number, maxBytes: number): Entry[];
}

/** Decoded entries kept for deliveries that follow: a receive after an enqueue reads the same entries. */
const decodedCacheEntries = 64;

const noMessages: readonly EnqueueMessage[] = [];

/** The messages of an enqueue entry; none for any other entry. */
export function enqueuedIn(e: Entry): readonly EnqueueMessage[] {
  if (e.type !== 'normal' || e.data.byteLength === 0) return noMessages;
  const cmd = decodeCommand(decodeEntry(e.data).payload);
  return !(cmd instanceof Error) && cmd.type === 'enqueue' ? cmd.messages : noMessages;
}

/** The enqueue commands of a node's stored log, with a small cache of decoded entries. */
export class StoredEnqueueLog implements EnqueueLog {
  readonly #log: LogEntryReader;
  /** Decoded entries by index, oldest first (a Map keeps insertion order). */
  readonly #decoded = new Map<number, readonly EnqueueMessage[]>();

  constructor(log: LogEntryReader) {
    this.#log = log;
  }

  enqueuedAt(index: number): readonly EnqueueMessage[] | undefined {
    // Checked first, synchronously: a compaction copies the bodies it needs before the log
    // drops the entry, so whatever is not here is in the cold tier by now.
    if (index < this.#log.firstIndex() || index > this.#log.lastIndex()) return undefined;
    const cached = this.#decoded.get(index);
    if (cached !== undefined) return cached;
    const messages = enqueuedIn(this.#log.entries(index, index + 1, Number.MAX_SAFE_INTEGER)[0]!);
    this.remember(index, messages);
    return messages;
  }

  /** Keeps what an entry holds (the leader decoded it already when it proposed it). */
  remember(index: number, messages: readonly EnqueueMessage[]): void {
    // Committed entries never change, so a cached one stays right; only the oldest are evicted.
    this.#decoded.set(index, messages);
    if (this.#decoded.size > decodedCacheEntries) this.#decoded.delete(this.#decoded.keys().next().value!);
  }
}

/** The enqueue commands of a run of entries (what a snapshot covers). */
class EntriesEnqueueLog implements EnqueueLog {
  readonly #entries: readonly Entry[];
  readonly #first: number;

  constructor(entries: readonly Entry[]) {
    this.#entries = entries;
    this.#first = entries[0]?.index ?? 0;
  }

  enqueuedAt(index: number): readonly EnqueueMessage[] | undefined {
    const e = this.#entries[index - this.#first];
    return e === undefined ? undefined : enqueuedIn(e);
  }
}

/** The queue node's log-backed keys: the payload records (src/queue/log-bodies.ts). */
export const queueLogBackedKeys: LogBackedKeys = {
  entryOf: entryOfPayloadKey,
  keysAfter: payloadKeysAfter,
  snapshotCopies(entries) {
    const first = entries[0]?.index ?? 1;
    const last = entries[entries.length - 1]?.index ?? 0;
    return new SnapshotBodies(first, last, new EntriesEnqueueLog(entries));
  },
};
