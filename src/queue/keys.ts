/**
 * The binary key scheme of the queue state in the node's LevelDB. Byte order of keys matches
 * logical order: numbers are big-endian, so iterating a prefix yields queues by name, messages
 * by offset and payloads / dedup entries by log position.
 *
 * Every key starts with {@link queueStatePrefix} (0x71, 'q'); nothing else of the node lives
 * there, so a snapshot of the queue state is exactly an iteration of that prefix. The runtime
 * keeps its own keys (applied index, raft log, hard state) outside it.
 *
 * | key                                   | value            | what                                     |
 * |---------------------------------------|------------------|------------------------------------------|
 * | 71 01                                 | MachineRecordPb  | monotonic clock, next queue id           |
 * | 71 02 <name utf8>                     | QueueRecordPb    | queue definition + counters              |
 * | 71 03 <queueId u32> <offset u64>      | MessageRecordPb  | mutable index record of a live message   |
 * | 71 04 <seq u64>                       | PayloadRecordPb  | immutable body + attributes              |
 * | 71 05 <queueId u32> <seq u64>         | DedupRecordPb    | dedup entry (older layout, read only)    |
 * | 71 06 <queueId u32> <first seq u64>   | DedupPagePb      | up to 64 dedup entries, by creation      |
 * | 71 07 <user name utf8>                | UserRecordPb     | a user: permissions, token hashes        |
 *
 * `seq` is the log position of the enqueue that created a message (entryIndex * 128 + n) or a
 * dedup entry, so it is unique, increasing, and independent of which queue holds the message:
 * a move to a dead-letter queue rewrites only the small index record, never the payload.
 */
import { assert } from '../../raft/assert.js';

/** First byte of every queue-state key. */
export const queueStatePrefix = 0x71;

/** Second byte: the sub-keyspaces listed above. */
export const keyKind = {
  machine: 0x01,
  queue: 0x02,
  message: 0x03,
  payload: 0x04,
  dedup: 0x05,
  dedupPage: 0x06,
  user: 0x07,
} as const;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const twoTo32 = 2 ** 32;

function writeU64(out: Uint8Array, at: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, () => `u64 key part ${value}`);
  writeU32(out, at, Math.floor(value / twoTo32));
  writeU32(out, at + 4, value >>> 0);
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  assert(Number.isInteger(value) && value >= 0 && value < twoTo32, () => `u32 key part ${value}`);
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** Reads a big-endian u32 at `at`. */
export function readU32(key: Uint8Array, at: number): number {
  assert(key.length >= at + 4, 'key too short for u32');
  return ((key[at]! << 24) >>> 0) + (key[at + 1]! << 16) + (key[at + 2]! << 8) + key[at + 3]!;
}

/** Reads a big-endian u64 (below 2^53) at `at`. */
export function readU64(key: Uint8Array, at: number): number {
  return readU32(key, at) * twoTo32 + readU32(key, at + 4);
}

/** The prefix of a sub-keyspace, optionally narrowed to one queue id. */
export function kindPrefix(kind: number, queueId?: number): Uint8Array {
  if (queueId === undefined) return Uint8Array.of(queueStatePrefix, kind);
  const out = new Uint8Array(6);
  out[0] = queueStatePrefix;
  out[1] = kind;
  writeU32(out, 2, queueId);
  return out;
}

/** The prefix of all queue state (for snapshots and load). */
export function allStatePrefix(): Uint8Array {
  return Uint8Array.of(queueStatePrefix);
}

/** Key of the machine record. */
export function machineKey(): Uint8Array {
  return Uint8Array.of(queueStatePrefix, keyKind.machine);
}

/** Key of a user record (principals.ts). */
export function userKey(name: string): Uint8Array {
  const nameBytes = textEncoder.encode(name);
  const out = new Uint8Array(2 + nameBytes.length);
  out[0] = queueStatePrefix;
  out[1] = keyKind.user;
  out.set(nameBytes, 2);
  return out;
}

/** Key of a queue definition. */
export function queueKey(name: string): Uint8Array {
  const nameBytes = textEncoder.encode(name);
  const out = new Uint8Array(2 + nameBytes.length);
  out[0] = queueStatePrefix;
  out[1] = keyKind.queue;
  out.set(nameBytes, 2);
  return out;
}

/** The queue name in a queue key. */
export function queueNameOfKey(key: Uint8Array): string {
  return textDecoder.decode(key.subarray(2));
}

/** A key of `kind` under one queue: 71 kind queueId(u32) n(u64). */
function queueScopedKey(kind: number, queueId: number, n: number): Uint8Array {
  const out = new Uint8Array(14);
  out[0] = queueStatePrefix;
  out[1] = kind;
  writeU32(out, 2, queueId);
  writeU64(out, 6, n);
  return out;
}

/** Key of a message index record. */
export function messageKey(queueId: number, offset: number): Uint8Array {
  return queueScopedKey(keyKind.message, queueId, offset);
}

/** Key of a payload record. */
export function payloadKey(seq: number): Uint8Array {
  const out = new Uint8Array(10);
  out[0] = queueStatePrefix;
  out[1] = keyKind.payload;
  writeU64(out, 2, seq);
  return out;
}

/** Key of a dedup entry (older layout). */
export function dedupKey(queueId: number, seq: number): Uint8Array {
  return queueScopedKey(keyKind.dedup, queueId, seq);
}

/** Key of a dedup page. */
export function dedupPageKey(queueId: number, firstSeq: number): Uint8Array {
  return queueScopedKey(keyKind.dedupPage, queueId, firstSeq);
}

/** Whether `key` starts with `prefix`. */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/** Byte-order comparison of two keys (LevelDB's default order). */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
