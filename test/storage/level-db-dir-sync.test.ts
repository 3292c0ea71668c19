import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fsyncDir, openDbWith } from '../../src/storage/level-db.js';

/**
 * Every directory fsync of openDb goes through its DirSync (the skip-dir-fsync negative control
 * replaces it with a no-op, so one it missed would make the control prove less): the durable
 * mkdir, the fsync after LevelDB's open, the fsync after a synced write that created a file.
 */
let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('openDbWith', () => {
  it('makes the directory fsyncs of a durable open and of a log switch through its DirSync', async () => {
    dir = mkdtempSync(join(tmpdir(), 'raftq-dirsync-'));
    const calls: string[] = [];
    const dataDir = join(dir, 'a', 'b');
    const db = await openDbWith(dataDir, {
      syncDir: (d) => {
        calls.push(d);
        return fsyncDir(d);
      },
    });
    try {
      // mkdir -p of a/b: b in a, a in dir; then the data directory after the open.
      expect(calls).toEqual([join(dir, 'a'), dir, dataDir]);
      const logs = (): string => readdirSync(dataDir).filter((f) => f.endsWith('.log')).join(',');
      const first = logs();
      const value = new Uint8Array(256 * 1024).fill(3);
      // LevelDB's 4 MiB write buffer: a new log file within 32 synced writes of 256 KiB.
      for (let i = 0; i < 32 && logs() === first; i++) await db.put(Uint8Array.of(i), value, { sync: true });
      expect(logs(), 'LevelDB switched to a new log file').not.toBe(first);
      expect(calls.slice(3)).toContain(dataDir);
      // Unsynced writes never fsync the directory.
      const n = calls.length;
      await db.put(Uint8Array.of(99), value);
      expect(calls.length).toBe(n);
    } finally {
      await db.close();
    }
  });
});
