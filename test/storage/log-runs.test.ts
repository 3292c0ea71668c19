/** LogRuns (src/storage/log-runs.ts): the byte accounting of the stored log behind compaction decisions. */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../raft/assert.js';
import { entryBytes, LogRuns } from '../../src/storage/log-runs.js';
import { entries } from './helpers.js';

const bytesOf = (lo: number, hi: number): number => entries(lo, hi).reduce((n, e) => n + entryBytes(e), 0);
/** What a straddling run keeps of its head: the bytes of [from, to). */
const kept = (from: number, to: number): number => (from < to ? bytesOf(from, to - 1) : 0);

describe('LogRuns', () => {
  it('accounts saves as runs; an overwrite keeps the head of the run it cuts', () => {
    const runs = new LogRuns();
    runs.append(entries(1, 6), kept);
    runs.append(entries(7, 9), kept);
    expect(runs.bytes).toBe(bytesOf(1, 9));
    runs.append(entries(4, 5), kept); // cuts [1, 6] after 3, drops [7, 9]
    expect(runs.bytes).toBe(bytesOf(1, 5));
    runs.checkCovers(1, 5);
    expect(() => runs.checkCovers(1, 6)).toThrow(AssertionError);
  });

  it('names the compaction index keeping a byte budget of whole runs, always the one holding upTo', () => {
    const runs = new LogRuns();
    for (const [lo, hi] of [[1, 3], [4, 6], [7, 9]] as const) runs.append(entries(lo, hi), kept);
    expect(runs.indexKeepingBytes(9, runs.bytes, 0)).toBe(0);
    expect(runs.indexKeepingBytes(9, 1, 0)).toBe(6);
    expect(runs.indexKeepingBytes(9, bytesOf(4, 9), 0)).toBe(3);
    expect(runs.indexKeepingBytes(5, 1, 0)).toBe(3);
    expect(runs.indexKeepingBytes(9, 1, 7)).toBe(7); // never below the floor (the snapshot)
  });

  it('drops runs wholly behind a compaction and keeps one that straddles it', () => {
    const runs = new LogRuns();
    runs.append(entries(1, 3), kept);
    runs.append(entries(4, 6), kept);
    runs.dropThrough(4);
    expect(runs.bytes).toBe(bytesOf(4, 6));
    runs.checkCovers(5, 6);
    runs.clear();
    expect(runs.bytes).toBe(0);
    runs.checkCovers(11, 10); // an empty log
  });
});
