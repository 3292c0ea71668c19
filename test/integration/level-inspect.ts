/**
 * Direct access to a stopped node's LevelDB for the integration tests: read the applied state
 * to compare nodes byte for byte, damage a stored log entry to test corruption detection, and
 * read the identity and recovering marker a repair leaves.
 * The key layout is src/storage/keys.ts; the process owning the directory must have exited
 * (LevelDB's LOCK).
 */
import { Level } from 'level';
import { decodeRecord, type Identity, parseAppliedMeta, parseIdentity } from '../../src/storage/codec.js';
import { appliedKeyPrefixBytes, appliedMetaKey, generationPrefix, identityKey, logBlockKeyIndex, logBlockRange } from '../../src/storage/keys.js';
import { logBlockEntryRanges } from '../../src/storage/log-blocks.js';
import { readRecoveringMarker, type RecoveringMarker } from '../../src/storage/recovering.js';

type Db = Level<Uint8Array, Uint8Array>;

async function withDb<T>(dir: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db: Db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false });
  await db.open();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** A node's applied state: its applied index and every state-machine pair (hex, in key order). */
export interface AppliedState {
  readonly appliedIndex: number;
  /** State-machine key (without the storage's generation prefix) -> value, both hex. */
  readonly pairs: ReadonlyMap<string, string>;
}

/** Reads the live generation of the applied keyspace of the stopped node at `dir`. */
export function readAppliedState(dir: string): Promise<AppliedState> {
  return withDb(dir, async (db) => {
    const raw = await db.get(appliedMetaKey);
    if (raw === undefined) throw new Error(`${dir}: no applied meta`);
    const meta = parseAppliedMeta(decodeRecord('appliedMeta', raw));
    const pairs = new Map<string, string>();
    for await (const [k, v] of db.iterator({ gte: generationPrefix(meta.generation), lt: generationPrefix(meta.generation + 1) })) {
      pairs.set(hex(k.subarray(appliedKeyPrefixBytes)), hex(v));
    }
    return { appliedIndex: meta.index, pairs };
  });
}

/** The stored log blocks of the stopped node at `dir`: first index and entry count, ascending. */
export function storedLogBlocks(dir: string): Promise<Array<{ first: number; count: number }>> {
  return withDb(dir, async (db) => {
    const out: Array<{ first: number; count: number }> = [];
    for await (const [k, v] of db.iterator(logBlockRange)) {
      const first = logBlockKeyIndex(k);
      if (first !== null) out.push({ first, count: logBlockEntryRanges(first, v).length });
    }
    return out;
  });
}

/** The indexes of the log entries stored at `dir`, ascending. */
export async function storedLogIndexes(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const b of await storedLogBlocks(dir)) for (let k = 0; k < b.count; k++) out.push(b.first + k);
  return out;
}

/**
 * Flips one bit of the stored value of log entry `index` (byte `offset` of the entry, default
 * its last one: inside the entry's data, past its checksum) inside its block and writes the
 * block back. Returns the entry value's length.
 */
export function flipLogEntryBit(dir: string, index: number, offset?: number): Promise<number> {
  return withDb(dir, async (db) => {
    for await (const [key, value] of db.iterator(logBlockRange)) {
      const first = logBlockKeyIndex(key);
      if (first === null) continue;
      const ranges = logBlockEntryRanges(first, value);
      const range = ranges[index - first];
      if (index < first || range === undefined) continue;
      const damaged = Uint8Array.from(value);
      const at = range[0] + (offset ?? range[1] - range[0] - 1);
      damaged[at] = damaged[at]! ^ 0x01;
      await db.put(key, damaged, { sync: true });
      return range[1] - range[0];
    }
    throw new Error(`${dir}: no log entry ${index}`);
  });
}

/** The recovering marker (src/storage/recovering.ts) of the stopped node at `dir`, or undefined. */
export function readRecovering(dir: string): Promise<RecoveringMarker | undefined> {
  return withDb(dir, (db) => readRecoveringMarker(db, true));
}

/** The identity record of the stopped node at `dir`. */
export function readIdentity(dir: string): Promise<Identity> {
  return withDb(dir, async (db) => {
    const raw = await db.get(identityKey);
    if (raw === undefined) throw new Error(`${dir}: no identity`);
    return parseIdentity(decodeRecord('identity', raw));
  });
}
