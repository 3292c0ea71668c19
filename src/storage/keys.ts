/**
 * Key layout of a node's single LevelDB. The first byte of every key names its keyspace:
 *
 *   0x01                      identity        {clusterId, nodeId, formatVersion}
 *   0x02                      hard state      {term, vote, commit}
 *   0x03                      snapshot meta   {index, term, confState} of the last compaction
 *   0x04                      applied meta    {index, confState, generation} of the state machine
 *   0x05 ++ u64be(index)      log entry       crc32c | u64be term | u8 type | data (older layout, read only)
 *   0x06 ++ u64be(first)      log block       the entries of one save (log-blocks.ts)
 *   0x07                      recovering      {reason, since}: the directory was rebuilt after damage
 *   0x10 ++ u32be(gen) ++ k   applied state   the queue state machine's key k, generation gen
 *
 * Big-endian indexes make LevelDB's bytewise order the log order. Applied keys carry a
 * generation so a snapshot install can stage a whole new state beside the current one and
 * switch to it atomically (see durable-storage.ts).
 */
import { assert } from '../../raft/assert.js';

/** The identity record: which cluster and node own the directory. */
export const identityKey: Uint8Array = Uint8Array.of(0x01);
/** The hard state record. */
export const hardStateKey: Uint8Array = Uint8Array.of(0x02);
/** The snapshot metadata record (raft's view: where the log was last compacted). */
export const snapshotMetaKey: Uint8Array = Uint8Array.of(0x03);
/** The applied metadata record: applied index, its conf state and the live generation. */
export const appliedMetaKey: Uint8Array = Uint8Array.of(0x04);

/**
 * The recovering marker: present while a directory recreated after damage (repair.ts) has not
 * yet caught up with a leader.
 */
export const recoveringKey: Uint8Array = Uint8Array.of(0x07);

const logPrefix = 0x05;
const logBlockPrefix = 0x06;
const appliedPrefix = 0x10;

/** Bytes in a log key: prefix + u64 index. */
export const logKeyBytes = 9;

/** Largest applied-state generation; installs beyond it would wrap (4 billion installs). */
export const generationMax = 0xffff_fffe;

/** Writes `n` (a safe non-negative integer) as a big-endian u64 at `offset`. */
export function writeU64(view: DataView, offset: number, n: number): void {
  assert(Number.isSafeInteger(n) && n >= 0, () => `u64 out of range: ${n}`);
  view.setUint32(offset, Math.floor(n / 0x1_0000_0000));
  view.setUint32(offset + 4, n >>> 0);
}

/** Reads a big-endian u64 written by writeU64. */
export function readU64(view: DataView, offset: number): number {
  return view.getUint32(offset) * 0x1_0000_0000 + view.getUint32(offset + 4);
}

/** The key of the log entry at `index`. */
export function logKey(index: number): Uint8Array {
  assert(Number.isSafeInteger(index) && index >= 0, () => `log index out of range: ${index}`);
  return indexKey(logPrefix, index);
}

/** prefix ++ u64be(index), in a pooled Buffer. */
function indexKey(prefix: number, index: number): Uint8Array {
  // Bytes written one by one: `new DataView(key.buffer)` on a small array forces V8 to give it
  // a separate backing store (a malloc and a sweeper job per key on the hot path).
  const key = Buffer.allocUnsafe(logKeyBytes);
  key[0] = prefix;
  putU64(key, 1, index);
  return key;
}

/** Writes `n` (a safe non-negative integer) as a big-endian u64 into `out` at `at`. */
export function putU64(out: Uint8Array, at: number, n: number): void {
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  out[at] = hi >>> 24;
  out[at + 1] = (hi >>> 16) & 0xff;
  out[at + 2] = (hi >>> 8) & 0xff;
  out[at + 3] = hi & 0xff;
  out[at + 4] = lo >>> 24;
  out[at + 5] = (lo >>> 16) & 0xff;
  out[at + 6] = (lo >>> 8) & 0xff;
  out[at + 7] = lo & 0xff;
}

/** The index a log key stands for, or null when `key` is not a well-formed log key. */
export function logKeyIndex(key: Uint8Array): number | null {
  return indexOfKey(logPrefix, key);
}

/** The index of a prefix ++ u64be(index) key, or null when `key` is not one of `prefix`. */
function indexOfKey(prefix: number, key: Uint8Array): number | null {
  if (key.length !== logKeyBytes || key[0] !== prefix) return null;
  return readU64(new DataView(key.buffer, key.byteOffset, key.byteLength), 1);
}

/** The key of the log block whose first entry is `first`. */
export function logBlockKey(first: number): Uint8Array {
  assert(Number.isSafeInteger(first) && first >= 1, () => `log block index out of range: ${first}`);
  return indexKey(logBlockPrefix, first);
}

/** The first index a log block key stands for, or null when `key` is not one. */
export function logBlockKeyIndex(key: Uint8Array): number | null {
  return indexOfKey(logBlockPrefix, key);
}

/** Bounds of the log block keyspace. */
export const logBlockRange = { gte: Uint8Array.of(logBlockPrefix), lt: Uint8Array.of(logBlockPrefix + 1) } as const;

/** Lower (inclusive) and upper (exclusive) bounds of the one-key-per-entry log keyspace (older layout). */
export const logRange = { gte: Uint8Array.of(logPrefix), lt: Uint8Array.of(logPrefix + 1) } as const;

/** The prefix of every applied key of generation `gen`. */
export function generationPrefix(gen: number): Uint8Array {
  assert(Number.isInteger(gen) && gen >= 0 && gen <= generationMax + 1, () => `bad generation ${gen}`);
  const p = new Uint8Array(appliedKeyPrefixBytes);
  writeGenerationPrefix(p, gen);
  return p;
}

function writeGenerationPrefix(out: Uint8Array, gen: number): void {
  out[0] = appliedPrefix;
  out[1] = gen >>> 24;
  out[2] = (gen >>> 16) & 0xff;
  out[3] = (gen >>> 8) & 0xff;
  out[4] = gen & 0xff;
}

/** Bytes of the internal prefix in front of every applied key. */
export const appliedKeyPrefixBytes = 5;

/** The stored key of the state machine's `key` in generation `gen`. */
export function appliedKey(gen: number, key: Uint8Array): Uint8Array {
  assert(Number.isInteger(gen) && gen >= 0 && gen <= generationMax + 1, 'bad generation');
  const k = Buffer.allocUnsafe(appliedKeyPrefixBytes + key.length);
  writeGenerationPrefix(k, gen);
  k.set(key, appliedKeyPrefixBytes);
  return k;
}

/** Bounds of the whole applied keyspace, every generation. */
export const appliedRange = { gte: Uint8Array.of(appliedPrefix), lt: Uint8Array.of(appliedPrefix + 1) } as const;

/**
 * The smallest key greater than every key starting with `prefix`, or null if there is none
 * (an empty or all-0xff prefix).
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | null {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const b = prefix[i]!;
    if (b !== 0xff) {
      // A copy (Uint8Array.from, not slice: Buffer#slice would alias `prefix` and mutate it).
      const end = Uint8Array.from(prefix.subarray(0, i + 1));
      end[i] = b + 1;
      return end;
    }
  }
  return null;
}

/** A readable name for a stored key, for error messages: "log[42]", "hardState", hex otherwise. */
export function describeKey(key: Uint8Array): string {
  const index = logKeyIndex(key) ?? logBlockKeyIndex(key);
  if (index !== null) return `log[${index}]`;
  if (key.length === 1) {
    const names: Record<number, string> = { 1: 'identity', 2: 'hardState', 3: 'snapshotMeta', 4: 'appliedMeta', 7: 'recovering' };
    const name = names[key[0]!];
    if (name !== undefined) return name;
  }
  return `0x${Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex')}`;
}
