import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDedup } from '../../jepsen-like/checkers/dedup-checker.js';
import { checkQueue } from '../../jepsen-like/checkers/queue-checker.js';
import { History } from '../../jepsen-like/history.js';
import { writeReport } from '../../jepsen-like/report.js';
import type { RunResult } from '../../jepsen-like/runner.js';

describe('report', () => {
  it('writes the report of a history of 300 000 operations (a drain failing against a lost queue)', () => {
    const h = new History();
    for (let i = 0; i < 300_000; i++) h.complete(h.invoke(1000, 'receive', 'q', { max: 1, visibilityTimeoutMs: 1000 }), 'fail', { error: 'NOT_FOUND' });
    const result: RunResult = {
      valid: false, seed: 1, workload: 'queue', nemesis: ['power'], ops: 300_000, okOps: 0, failOps: 300_000, infoOps: 0, faults: { power: 1 },
      powerCuts: { cuts: { one: 0, minority: 0, all: 1 }, filesReverted: 3, bytesDiscarded: 1000, entriesReverted: 0 },
      queue: checkQueue(h.ops), dedup: checkDedup(h.ops), drainComplete: false, nodeCrashes: [], diskStops: [], dir: '',
    };
    const dir = mkdtempSync(join(tmpdir(), 'raftq-report-'));
    try {
      writeReport(join(dir, 'report.html'), h.ops, [], result);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html).toContain('INVALID');
      expect(html).toContain('one 0, minority 0, all 1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists every damage of the corrupt nemesis', () => {
    const h = new History();
    const result: RunResult = {
      valid: true, seed: 1, workload: 'queue', nemesis: ['corrupt'], ops: 0, okOps: 0, failOps: 0, infoOps: 0, faults: { corrupt: 2 },
      corruptions: {
        scope: 'minority',
        faults: { flip: 1, truncate: 0, zero: 1 },
        damages: [
          { node: 'n2', file: '000005.ldb', role: 'table', mode: 'flip', sizeBytes: 9000, offset: 17, lengthBytes: 2, bits: [{ offset: 17, bit: 3 }, { offset: 90, bit: 0 }] },
          { node: 'n1', file: '000007.log', role: 'write-ahead-log', mode: 'zero', sizeBytes: 10000, offset: 8192, lengthBytes: 1808, changedBytes: 1700 },
        ],
      },
      queue: checkQueue(h.ops), dedup: checkDedup(h.ops), drainComplete: true, nodeCrashes: [], diskStops: [], dir: '',
    };
    const dir = mkdtempSync(join(tmpdir(), 'raftq-report-'));
    try {
      writeReport(join(dir, 'report.html'), h.ops, [], result);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html).toContain('scope minority; flip 1, truncate 0, zero 1; files damaged: 2 (n2 000005.ldb');
      expect(html).toContain('n2 000005.ldb (table, 9000 bytes): flipped 2 bits (at 17 bit 3, at 90 bit 0)');
      expect(html).toContain('n1 000007.log (write-ahead-log, 10000 bytes): zeroed 1808 bytes at 8192 (1700 were not zero)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
