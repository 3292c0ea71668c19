/**
 * The pure helpers of the benchmark tooling: medians, cells, targets, the markdown table and
 * the machine line of src/bench/compare-report.ts; the gap analysis and progress lines of
 * src/cli/bench-stats.ts; output parsing and ports of the comparison script; and the script's
 * own usage errors (the compiled dist/src/bench/compare.js).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { countProgressLine, gapReport } from '../../src/cli/bench-stats.js';
import { failureOf, lastJsonObject, repoRoot } from '../../src/bench/compare-procs.js';
import { raftqPeers } from '../../src/bench/compare-raftq.js';
import {
  better,
  buildRow,
  describeTarget,
  evaluateTarget,
  formatCell,
  formatNumber,
  machineLine,
  markdownTable,
  median,
  metText,
  ratio,
  summarize,
  type Attempt,
} from '../../src/bench/compare-report.js';

describe('median and summarize', () => {
  test('median of odd and even counts, unsorted input, empty', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeUndefined();
  });

  test('summarize: median / sum / max of the successful attempts, the first error, counts', () => {
    const attempts: Attempt[] = [
      { ok: true, value: 10 },
      { ok: false, error: 'boom' },
      { ok: true, value: 30 },
      { ok: true, value: 20 },
      { ok: false, error: 'later' },
    ];
    expect(summarize(attempts)).toEqual({ value: 20, ok: 3, of: 5, error: 'boom' });
    expect(summarize(attempts, 'sum').value).toBe(60);
    expect(summarize(attempts, 'max').value).toBe(30);
    expect(summarize([{ ok: false, error: 'down' }])).toEqual({ ok: 0, of: 1, error: 'down' });
    expect(summarize([])).toEqual({ ok: 0, of: 0 });
  });

  test('better picks the larger (or smaller) figure; a cell without one loses', () => {
    const a = { value: 5, ok: 1, of: 1 };
    const b = { value: 9, ok: 1, of: 1 };
    const none = { ok: 0, of: 1, error: 'x' };
    expect(better(a, b)).toBe(b);
    expect(better(a, b, false)).toBe(a);
    expect(better(none, a)).toBe(a);
    expect(better(a, none)).toBe(a);
  });
});

describe('targets', () => {
  test('ratios and their targets', () => {
    expect(ratio(150, 100)).toBe(1.5);
    expect(ratio(undefined, 100)).toBeUndefined();
    expect(ratio(100, 0)).toBeUndefined();
    const t = { kind: 'ratio', peer: 'rabbit', min: 1.5 } as const;
    expect(describeTarget(t, 'msgs/s')).toBe('>= 1.5x RabbitMQ');
    expect(evaluateTarget(t, 'msgs/s', 150, { rabbit: 100 })).toEqual({ target: '>= 1.5x RabbitMQ', met: true });
    expect(evaluateTarget(t, 'msgs/s', 149, { rabbit: 100 }).met).toBe(false);
    expect(evaluateTarget(t, 'msgs/s', 150, {}).met).toBeUndefined();
    expect(evaluateTarget(t, 'msgs/s', undefined, { rabbit: 100 }).met).toBeUndefined();
  });

  test('absolute targets', () => {
    expect(evaluateTarget({ kind: 'atMost', max: 0.5 }, 's', 0.5, {})).toEqual({ target: '<= 0.5 s', met: true });
    expect(evaluateTarget({ kind: 'atMost', max: 0.5 }, 's', 0.51, {}).met).toBe(false);
    expect(evaluateTarget({ kind: 'atLeast', min: 100_000 }, 'msgs/s', 99_999, {})).toEqual({ target: '>= 100,000 msgs/s', met: false });
    expect(describeTarget({ kind: 'atMost', max: 0 }, '')).toBe('<= 0');
  });

  test('metText: yes, no naming the missed targets, n/a for unknowns', () => {
    expect(metText([])).toBe('-');
    expect(metText([{ target: 'a', met: true }])).toBe('yes');
    expect(metText([{ target: 'a', met: true }, { target: 'b', met: false }])).toBe('no (missed b)');
    expect(metText([{ target: 'a', met: undefined }, { target: 'b', met: false }])).toBe('no (missed b; unknown a)');
    expect(metText([{ target: 'a', met: undefined }, { target: 'b', met: true }])).toBe('n/a (unknown a)');
  });
});

describe('table', () => {
  test('numbers and cells', () => {
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(12.34)).toBe('12.3');
    expect(formatNumber(0.456)).toBe('0.46');
    expect(formatCell(undefined)).toBe('-');
    expect(formatCell({ value: 5000, ok: 3, of: 3 })).toBe('5,000');
    expect(formatCell({ value: 5000, ok: 2, of: 3, error: 'x' })).toBe('5,000 (2/3 ok)');
    expect(formatCell({ value: 1, ok: 1, of: 1, note: '16 producers' })).toBe('1 (16 producers)');
    expect(formatCell({ ok: 0, of: 2, error: 'etcd did not\nstart' })).toBe('error: etcd did not start');
  });

  test('a row: figures, ratios raftq / peer, targets, verdict', () => {
    const row = buildRow({
      scenario: 'produce',
      unit: 'msgs/s',
      cells: {
        raftq: { value: 6000, ok: 3, of: 3 },
        nats: { value: 12000, ok: 3, of: 3 },
        rabbit: { value: 3000, ok: 3, of: 3 },
        etcd: { ok: 0, of: 3, error: 'no etcd' },
      },
      targets: [
        { kind: 'ratio', peer: 'nats', min: 1 },
        { kind: 'ratio', peer: 'rabbit', min: 1.5 },
        { kind: 'ratio', peer: 'etcd', min: 5 },
      ],
    });
    expect(row).toMatchObject({
      scenario: 'produce [msgs/s]',
      raftq: '6,000',
      nats: '12,000',
      rabbit: '3,000',
      etcd: 'error: no etcd',
      ratios: '0.50x NATS, 2.00x RabbitMQ',
      target: '>= 1.0x NATS, >= 1.5x RabbitMQ, >= 5.0x etcd',
      met: 'no (missed >= 1.0x NATS; unknown >= 5.0x etcd)',
    });
    const only = buildRow({ scenario: 'gap', unit: 's', cells: { raftq: { value: 0.3, ok: 1, of: 1 } }, targets: [{ kind: 'atMost', max: 0.5 }], ratioPeers: [] });
    expect([only.ratios, only.nats, only.met]).toEqual(['-', '-', 'yes']);
  });

  test('markdownTable: header, separator, one line per row, pipes escaped', () => {
    const row = buildRow({ scenario: 'a|b', unit: '', cells: { raftq: { value: 1, ok: 1, of: 1 } }, targets: [] });
    const lines = markdownTable([row]).split('\n');
    expect(lines[0]).toBe('| scenario | raftq | NATS | RabbitMQ | etcd | ratio (raftq / peer) | target | met |');
    expect(lines[1]).toBe('|---|---|---|---|---|---|---|---|');
    expect(lines[2]).toBe('| a\\|b | 1 | - | - | - | - | - | - |');
    expect(lines).toHaveLength(3);
  });

  test('machineLine', () => {
    expect(machineLine({ cores: 2, model: 'CPU X', totalMemoryBytes: 24 * 2 ** 30, node: 'v20.20.2', date: '2026-12-01T00:00:00.000Z' })).toBe(
      'machine: 2 cores (CPU X), 24.0 GiB, Node v20.20.2, 2026-12-01T00:00:00.000Z',
    );
  });
});

describe('gapReport', () => {
  test('gaps around the signal, rates before it and at the end', () => {
    const r = gapReport([100, 200, 300, 1300, 1400, 2000], 0, 1000, 2500, 150, 1000);
    expect(r).toEqual({ maxGapMs: 1000, maxGapStartRelSignalMs: -700, signalGapMs: 1000, firstAckAfterSignalMs: 300, ratePerSBeforeSignal: 2, ratePerSAtEnd: 1 });
  });

  test('writes that never resume: the gap runs to the end, no first ack', () => {
    const r = gapReport([100, 500], 0, 600, 3000, 1000, 1000);
    expect(r.firstAckAfterSignalMs).toBeNull();
    expect(r.signalGapMs).toBe(2500);
    expect(r.maxGapMs).toBe(2000);
    expect(r.maxGapStartRelSignalMs).toBe(400);
    expect(r.ratePerSAtEnd).toBe(0);
  });

  test('acks before the steady period do not count toward the longest gap', () => {
    const r = gapReport([10, 900, 1100, 1200, 1300], 0, 1150, 1300);
    expect(r.maxGapMs).toBe(100);
  });
});

describe('progress and command output', () => {
  test('countProgressLine', () => {
    expect(countProgressLine(50, 100, 2000, ['drain'])).toBe('[##########..........] 50/100 msgs  2.0 s  25 msgs/s  drain');
    expect(countProgressLine(0, 0, 0)).toBe('[####################] 0/0 msgs  0.0 s  0 msgs/s');
  });

  test('lastJsonObject finds the last JSON object line', () => {
    expect(lastJsonObject('hello\n{"a":1}\n{"b":2}\n\n')).toEqual({ b: 2 });
    expect(lastJsonObject('{"a":1}\n{broken\n')).toEqual({ a: 1 });
    expect(lastJsonObject('[1,2]\nnope')).toBeUndefined();
  });

  test('failureOf names the timeout, signal or exit code and the end of stderr', () => {
    const base = { stdout: '', elapsedMs: 12_000, timedOut: false, signal: null, code: 1 };
    expect(failureOf({ ...base, stderr: 'a\nerror: it broke\n' })).toBe('exit 1: a / error: it broke');
    expect(failureOf({ ...base, code: null, signal: 'SIGKILL', stderr: '' })).toBe('killed by SIGKILL');
    expect(failureOf({ ...base, timedOut: true, stderr: 'x' })).toBe('timed out after 12 s');
  });

  test('raftqPeers: the local cluster by default, P+i / P+100+i / P+200+i with a base port', () => {
    expect(raftqPeers(undefined)['n1']).toEqual({ host: '127.0.0.1', clientPort: 7001, peerPort: 7101, httpPort: 8001 });
    expect(raftqPeers(27000)['n3']).toEqual({ host: '127.0.0.1', clientPort: 27003, peerPort: 27103, httpPort: 27203 });
  });
});

describe('compare.js usage', () => {
  const script = join(repoRoot(), 'dist', 'src', 'bench', 'compare.js');
  test.each([
    ['an unknown scenario', ['--only', 'produce,nope']],
    ['a bad --runs', ['--runs', '0']],
    ['an unknown flag', ['--bogus']],
    ['a base port too high', ['--base-port', '65500']],
  ])('%s -> exit 2', (_name, args) => {
    const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error INVALID_ARGUMENT:');
  });

  test('--help lists the scenarios and flags', () => {
    const r = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const s of ['produce', 'http', 'batch', 'drain', 'failover', 'partition', 'memory', 'pinned', '--runs', '--failover-trials', '--pinned-bytes', '--base-port', '--out']) expect(r.stdout).toContain(s);
  });
});
