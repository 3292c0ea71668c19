/**
 * Damaging real LevelDB directories for the corruption tests: write recognizable values, find
 * their bytes in the files, flip a bit, zero a chunk, truncate.
 */
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';

/** Deterministic pseudo-random bytes (xorshift32) from `seed`: snappy cannot shrink them, so a table stores them as they are. */
export function noise(seed: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A raw LevelDB handle as the tests open it (binary keys and values). */
export type RawDb = Level<Uint8Array, Uint8Array>;

/** Opens `dir` raw (storage closed); `createIfMissing` defaults to true. */
export async function openRaw(dir: string, createIfMissing = true): Promise<RawDb> {
  const db: RawDb = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing });
  await db.open();
  return db;
}

/** A value of `bytes` bytes that spells `tag` over and over: easy to find in a file. */
export function taggedValue(tag: string, bytes: number): Uint8Array {
  const out = Buffer.alloc(bytes);
  out.fill(`<${tag}>`);
  return out;
}

/** The names in `dir` ending with `suffix`, sorted by their file number. */
export function filesEndingWith(dir: string, suffix: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(suffix)).sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
}

/** The newest write-ahead log (*.log) of `dir`. */
export function newestLog(dir: string): string {
  const logs = filesEndingWith(dir, '.log');
  const newest = logs[logs.length - 1];
  if (newest === undefined) throw new Error(`${dir}: no *.log file`);
  return join(dir, newest);
}

/** The offset of the first occurrence of `needle` in the file, or throws. */
export function findInFile(file: string, needle: Uint8Array): number {
  const at = readFileSync(file).indexOf(needle);
  if (at < 0) throw new Error(`${file}: bytes not found`);
  return at;
}

/** Flips bit `bit` (default 0) of the byte at `offset` of `file`. */
export function flipBit(file: string, offset: number, bit = 0): void {
  const b = readFileSync(file);
  if (offset >= b.length) throw new Error(`${file}: offset ${offset} beyond ${b.length} bytes`);
  b[offset] = b[offset]! ^ (1 << bit);
  writeFileSync(file, b);
}

/** Zeroes `length` bytes of `file` from `offset`. */
export function zeroRange(file: string, offset: number, length: number): void {
  const b = readFileSync(file);
  b.fill(0, offset, Math.min(b.length, offset + length));
  writeFileSync(file, b);
}

/** Cuts `file` to `bytes` bytes. */
export function truncateTo(file: string, bytes: number): void {
  truncateSync(file, bytes);
}

/** The size of `file` in bytes. */
export function sizeOf(file: string): number {
  return statSync(file).size;
}
