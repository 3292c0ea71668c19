/** Shared helpers of the storage tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { RaftError, type RaftErrorCode } from '../../raft/errors.js';
import type { Entry } from '../../raft/types.js';

/** An entry whose data is `index` repeated, `index % 7` bytes long. */
export function entry(index: number, term: number): Entry {
  return { index, term, type: index % 5 === 0 ? 'conf' : 'normal', data: new Uint8Array(index % 7).fill(index & 0xff) };
}

/** Entries [lo, hi] with terms from `termOf`. */
export function entries(lo: number, hi: number, termOf: (i: number) => number = () => 1): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(entry(i, termOf(i)));
  return out;
}

/** A fresh temporary directory; remove it with removeDir. */
export function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'raftq-storage-'));
}

/** Removes a temporary directory. */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Asserts that `fn` throws a RaftError with `code`. */
export function expectRaftError(fn: () => unknown, code: RaftErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected RaftError ${code}`).toBeInstanceOf(RaftError);
  expect((caught as RaftError).code).toBe(code);
}

/** UTF-8 bytes of `s`. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Plain arrays for comparing Buffers with Uint8Arrays. */
export function bytes(b: Uint8Array | undefined): number[] | undefined {
  return b === undefined ? undefined : Array.from(b);
}
