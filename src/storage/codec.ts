/**
 * Value encodings of the raft keyspaces. Every value starts with a CRC-32C written on store and
 * verified on load; a mismatch is a StorageCorruptionError naming the key.
 *
 * - Log entry: crc32c(u64be index ++ rest) | u64be term | u8 type | data. The index comes from
 *   the key and is covered by the checksum, so an entry copied under the wrong key is caught.
 * - Metadata records (identity, hard state, snapshot meta, applied meta, recovering marker):
 *   crc32c | UTF-8 JSON.
 *   They are small and rare; JSON keeps them readable with `level` tooling.
 */
import { assert } from '../../raft/assert.js';
import type { ConfState, Entry, EntryType, HardState, SnapshotMeta } from '../../raft/types.js';
import { crc32c } from './crc32.js';
import { StorageCorruptionError } from './errors.js';
import { putU64, readU64 } from './keys.js';

const crcBytes = 4;
/** crc + term + type. */
const entryHeaderBytes = crcBytes + 8 + 1;
const entryTypeCodes: Record<EntryType, number> = { normal: 0, conf: 1 };

/** Scratch for the index bytes a checksum covers; safe to share (JS runs one call at a time). */
const indexScratch = new Uint8Array(8);

/** The CRC-32C of an entry index as big-endian u64: the seed of the entry's checksum. */
function indexCrc(index: number): number {
  putU64(indexScratch, 0, index);
  return crc32c(indexScratch);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Encodes a log entry's stored value (its index lives in the key). */
export function encodeEntryValue(e: Entry): Uint8Array {
  assert(Number.isSafeInteger(e.index) && e.index >= 1 && e.term >= 1, () => `bad entry ${e.index}/${e.term}`);
  // A pooled Buffer (no backing store of its own) filled byte by byte: no DataView on the hot path.
  const v = Buffer.allocUnsafe(entryHeaderBytes + e.data.length);
  putU64(v, crcBytes, e.term);
  v[crcBytes + 8] = entryTypeCodes[e.type];
  v.set(e.data, entryHeaderBytes);
  v.writeUInt32BE(crc32c(v.subarray(crcBytes), indexCrc(e.index)), 0);
  return v;
}

/**
 * Decodes and verifies the stored value of the entry at `index`. `verify` false skips the
 * checksum (only the skip-checksums negative control).
 */
export function decodeEntryValue(index: number, v: Uint8Array, verify = true): Entry {
  const key = `log[${index}]`;
  if (v.length < entryHeaderBytes) throw new StorageCorruptionError(key, index, `value of ${v.length} bytes is shorter than the ${entryHeaderBytes}-byte header`);
  const view = viewOf(v);
  const stored = view.getUint32(0);
  const actual = verify ? crc32c(v.subarray(crcBytes), indexCrc(index)) : stored;
  if (stored !== actual) throw new StorageCorruptionError(key, index, `checksum mismatch (stored ${hex32(stored)}, computed ${hex32(actual)})`);
  const typeCode = v[crcBytes + 8];
  const type: EntryType | undefined = typeCode === 0 ? 'normal' : typeCode === 1 ? 'conf' : undefined;
  if (type === undefined) throw new StorageCorruptionError(key, index, `unknown entry type ${typeCode}`);
  // slice: the entry outlives the buffer LevelDB handed us and must not alias it.
  return { index, term: readU64(view, crcBytes), type, data: v.slice(entryHeaderBytes) };
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Encodes a metadata record as crc32c | JSON. */
export function encodeRecord(record: object): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(record));
  const v = new Uint8Array(crcBytes + json.length);
  v.set(json, crcBytes);
  viewOf(v).setUint32(0, crc32c(json));
  return v;
}

/**
 * Verifies and parses a metadata record stored under the key named `keyName`. `verify` false
 * skips the checksum (only the skip-checksums negative control).
 */
export function decodeRecord(keyName: string, v: Uint8Array, verify = true): Record<string, unknown> {
  if (v.length < crcBytes) throw new StorageCorruptionError(keyName, null, 'record shorter than its checksum');
  const json = v.subarray(crcBytes);
  if (verify && viewOf(v).getUint32(0) !== crc32c(json)) throw new StorageCorruptionError(keyName, null, 'checksum mismatch');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(json));
  } catch (err) {
    throw new StorageCorruptionError(keyName, null, `undecodable record: ${String(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new StorageCorruptionError(keyName, null, 'record is not an object');
  return parsed as Record<string, unknown>;
}

/** Reads a field of a decoded record, checking its type. */
function field<T extends 'number' | 'string' | 'object'>(
  keyName: string,
  r: Record<string, unknown>,
  name: string,
  type: T,
): T extends 'number' ? number : T extends 'string' ? string : Record<string, unknown> {
  const v = r[name];
  if (typeof v !== type || v === null) throw new StorageCorruptionError(keyName, null, `field ${name} is not a ${type}`);
  return v as T extends 'number' ? number : T extends 'string' ? string : Record<string, unknown>;
}

function stringArray(keyName: string, v: unknown, name: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new StorageCorruptionError(keyName, null, `field ${name} is not a string array`);
  return v as string[];
}

/** Parses a conf state nested in a record. */
export function parseConfState(keyName: string, r: Record<string, unknown>): ConfState {
  return { voters: stringArray(keyName, r['voters'], 'voters'), learners: stringArray(keyName, r['learners'], 'learners') };
}

/** Parses the hard state record. */
export function parseHardState(r: Record<string, unknown>): HardState {
  const k = 'hardState';
  return { term: field(k, r, 'term', 'number'), vote: field(k, r, 'vote', 'string'), commit: field(k, r, 'commit', 'number') };
}

/** Parses the snapshot meta record. */
export function parseSnapshotMeta(r: Record<string, unknown>): SnapshotMeta {
  const k = 'snapshotMeta';
  return { index: field(k, r, 'index', 'number'), term: field(k, r, 'term', 'number'), confState: parseConfState(k, field(k, r, 'confState', 'object')) };
}

/** What the state machine has applied: written with every applied batch. */
export interface AppliedMeta {
  /** Index of the last entry whose effects are in the applied keyspace. */
  readonly index: number;
  /** Membership as of `index`. */
  readonly confState: ConfState;
  /** The applied-state generation holding the live keys (see keys.ts). */
  readonly generation: number;
}

/** Parses the applied meta record. */
export function parseAppliedMeta(r: Record<string, unknown>): AppliedMeta {
  const k = 'appliedMeta';
  return { index: field(k, r, 'index', 'number'), confState: parseConfState(k, field(k, r, 'confState', 'object')), generation: field(k, r, 'generation', 'number') };
}

/** The owner of a data directory. */
export interface Identity {
  readonly clusterId: string;
  readonly nodeId: string;
  /** Layout version; bumped on incompatible key layout changes. */
  readonly formatVersion: number;
}

/** Parses the identity record. */
export function parseIdentity(r: Record<string, unknown>): Identity {
  const k = 'identity';
  return { clusterId: field(k, r, 'clusterId', 'string'), nodeId: field(k, r, 'nodeId', 'string'), formatVersion: field(k, r, 'formatVersion', 'number') };
}
