/**
 * Log blocks: the entries of one save() stored under one LevelDB key, instead of one key per
 * entry. A Ready carries tens of entries under load; one key per entry cost a LevelDB operation
 * (and later a delete) each, which was the largest part of a follower's work per message.
 *
 * Key: 0x06 ++ u64be(first index) (keys.ts logBlockKey). Value:
 *
 *   u8 format (1) | u32be count | count x ( u32be length | entry value )
 *
 * where each entry value is codec.ts encodeEntryValue: its CRC-32C covers the entry's index,
 * which here is `first + position`, so a block under the wrong key, a reordered block or a
 * flipped bit is caught and reported naming the entry (log[i]), as with one key per entry.
 *
 * Blocks of one log are contiguous: block k+1 starts right after block k ends. Entries before
 * the snapshot may linger at the head of the first block until it is dropped whole.
 */
import type { Entry } from '../../raft/types.js';
import { decodeEntryValue, encodeEntryValue } from './codec.js';
import { StorageCorruptionError } from './errors.js';

const blockFormat = 1;
const blockHeaderBytes = 5;
const lengthBytes = 4;

/** Where a stored block is and what it holds. */
export interface StoredBlock {
  /** Index of the block's first entry (its key). */
  readonly first: number;
  /** Index of its last entry. Invariant: last >= first. */
  readonly last: number;
  /** Its LevelDB key (a block key, or a one-entry key of the older layout). */
  readonly key: Uint8Array;
  /** Bytes of its stored value. */
  readonly bytes: number;
}

/** The stored value of a block of consecutive entries (at least one). */
export function encodeLogBlock(entries: readonly Entry[]): Uint8Array {
  const values = entries.map(encodeEntryValue);
  let bytes = blockHeaderBytes;
  for (const v of values) bytes += lengthBytes + v.length;
  const out = Buffer.allocUnsafe(bytes);
  out[0] = blockFormat;
  out.writeUInt32BE(values.length, 1);
  let at = blockHeaderBytes;
  for (const v of values) {
    out.writeUInt32BE(v.length, at);
    out.set(v, at + lengthBytes);
    at += lengthBytes + v.length;
  }
  return out;
}

/** The number of entries in a block value, without decoding them (corrupt: throws). */
export function logBlockCount(first: number, value: Uint8Array): number {
  if (value.length < blockHeaderBytes || value[0] !== blockFormat) {
    throw new StorageCorruptionError(`log[${first}]`, first, `malformed log block (${value.length} bytes, format ${value[0] ?? 'none'})`);
  }
  const count = Buffer.from(value.buffer, value.byteOffset, value.byteLength).readUInt32BE(1);
  if (count < 1) throw new StorageCorruptionError(`log[${first}]`, first, 'empty log block');
  return count;
}

/** Byte ranges [start, end) of each entry value inside a block value (corrupt: throws). */
export function logBlockEntryRanges(first: number, value: Uint8Array): Array<[number, number]> {
  const count = logBlockCount(first, value);
  const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const ranges: Array<[number, number]> = [];
  let at = blockHeaderBytes;
  for (let k = 0; k < count; k++) {
    if (at + lengthBytes > value.length) throw new StorageCorruptionError(`log[${first + k}]`, first + k, 'log block truncated');
    const len = view.readUInt32BE(at);
    at += lengthBytes;
    if (at + len > value.length) throw new StorageCorruptionError(`log[${first + k}]`, first + k, 'log block truncated');
    ranges.push([at, at + len]);
    at += len;
  }
  if (at !== value.length) throw new StorageCorruptionError(`log[${first}]`, first, `${value.length - at} stray bytes after the last entry of the block`);
  return ranges;
}

/** Decodes and verifies (unless `verify` is false) every entry of the block stored under `first`. */
export function decodeLogBlock(first: number, value: Uint8Array, verify = true): Entry[] {
  return logBlockEntryRanges(first, value).map(([start, end], k) => decodeEntryValue(first + k, value.subarray(start, end), verify));
}
