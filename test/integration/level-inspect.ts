/**
 * Direct access to a stopped node's data directory for the integration tests: read the applied
 * state to compare nodes byte for byte, damage a stored log entry (in the segment files under
 * `log/`) to test corruption detection, and read the identity and recovering marker a repair
 * leaves. The key layout is src/storage/keys.ts, the record framing
 * src/storage/segment-log/record-format.ts; the process owning the directory must have exited.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { keyKind, queueStatePrefix, readU64 } from '../../src/queue/keys.js';
import { decodeMessage } from '../../src/queue/records.js';
import { decodeAppliedValue } from '../../src/storage/applied-values.js';
import { decodeRecord, type Identity, parseAppliedMeta, parseIdentity } from '../../src/storage/codec.js';
import { appliedKeyPrefixBytes, appliedMetaKey, generationPrefix, identityKey } from '../../src/storage/keys.js';
import { decodeRecord as decodeSegmentRecord } from '../../src/storage/segment-log/record-format.js';
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

/**
 * A node's applied state: its applied index and every state-machine pair (hex, in key order),
 * less the payload records, which are this node's own copies of log data (src/queue/log-bodies.ts:
 * replicas agree on messages, not on where their bodies are), listed apart by seq.
 */
export interface AppliedState {
  readonly appliedIndex: number;
  /** State-machine key (without the storage's generation prefix) -> value, both hex. */
  readonly pairs: ReadonlyMap<string, string>;
  /** Seqs of the payload records (the cold tier of bodies). */
  readonly payloadSeqs: readonly number[];
  /** Seqs of the live messages (their index records). */
  readonly messageSeqs: ReadonlySet<number>;
}

/** Reads the live generation of the applied keyspace of the stopped node at `dir`. */
export function readAppliedState(dir: string): Promise<AppliedState> {
  return withDb(dir, async (db) => {
    const raw = await db.get(appliedMetaKey);
    if (raw === undefined) throw new Error(`${dir}: no applied meta`);
    const meta = parseAppliedMeta(decodeRecord('appliedMeta', raw));
    const pairs = new Map<string, string>();
    const payloadSeqs: number[] = [];
    const messageSeqs = new Set<number>();
    for await (const [k, v] of db.iterator({ gte: generationPrefix(meta.generation), lt: generationPrefix(meta.generation + 1) })) {
      const key = k.subarray(appliedKeyPrefixBytes);
      if (key[0] === queueStatePrefix && key[1] === keyKind.payload) {
        payloadSeqs.push(readU64(key, 2));
        continue;
      }
      if (key[0] === queueStatePrefix && key[1] === keyKind.message) messageSeqs.add(decodeMessage(decodeAppliedValue(key, v, true)).seq);
      pairs.set(hex(key), hex(v));
    }
    return { appliedIndex: meta.index, pairs, payloadSeqs, messageSeqs };
  });
}

/** One record of the stopped node's segment log: where it is and how long. */
export interface StoredRecord {
  /** The segment file's path. */
  readonly file: string;
  readonly index: number;
  /** Byte offset of the record in its segment. */
  readonly offset: number;
  /** Bytes of the whole record (header and payload). */
  readonly bytes: number;
}

/** Every record of the segment log of the stopped node at `dir`, in index order (record-format.ts). */
export function storedLogRecords(dir: string): StoredRecord[] {
  const logDir = join(dir, 'log');
  const out: StoredRecord[] = [];
  for (const name of readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort()) {
    const file = join(logDir, name);
    const bytes = readFileSync(file);
    for (let at = 0; at < bytes.length;) {
      const d = decodeSegmentRecord(bytes, at);
      if (d.type !== 'valid') throw new Error(`${file} at byte ${at}: ${d.type}`);
      out.push({ file, index: d.record.index, offset: at, bytes: d.recordBytes });
      at += d.recordBytes;
    }
  }
  return out;
}

/** The indexes of the log entries stored at `dir`, ascending. */
export function storedLogIndexes(dir: string): number[] {
  return storedLogRecords(dir).map((r) => r.index);
}

/** The stored record of entry `index` at `dir`; throws if there is none. */
export function storedLogRecord(dir: string, index: number): StoredRecord {
  const r = storedLogRecords(dir).find((x) => x.index === index);
  if (r === undefined) throw new Error(`${dir}: no log entry ${index}`);
  return r;
}

/** Flips one bit in the last byte of entry `index`'s record (inside its payload, under its CRC). */
export function flipLogEntryBit(dir: string, index: number): StoredRecord {
  const r = storedLogRecord(dir, index);
  const bytes = readFileSync(r.file);
  bytes[r.offset + r.bytes - 1] = bytes[r.offset + r.bytes - 1]! ^ 0x01;
  writeFileSync(r.file, bytes);
  return r;
}

/** Cuts entry `index`'s record out of its segment: the log then jumps over it (a gap). */
export function cutLogEntry(dir: string, index: number): StoredRecord {
  const r = storedLogRecord(dir, index);
  const bytes = readFileSync(r.file);
  writeFileSync(r.file, Buffer.concat([bytes.subarray(0, r.offset), bytes.subarray(r.offset + r.bytes)]));
  return r;
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
