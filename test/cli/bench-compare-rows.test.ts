/**
 * The comparison's rows with the targets of issue 17 (src/bench/compare-rows.ts), the disk
 * bound and strict targets of src/bench/compare-report.ts, the data directory measurement of
 * src/bench/compare-disk.ts and the --pinned-bytes option. No cluster, no timings.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Recorder } from '../../src/bench/compare-context.js';
import { DiskSampler, dirUsage, mib, sizeText } from '../../src/bench/compare-disk.js';
import { parseOptions, scenarioNames, type Options, type Scenario } from '../../src/bench/compare-options.js';
import { describeTarget, diskBoundTarget, evaluateTarget, segmentBytesDefault } from '../../src/bench/compare-report.js';
import { comparisonRows } from '../../src/bench/compare-rows.js';
import { segmentBytesMaxDefault } from '../../src/storage/segment-log/segment-log-options.js';

const MiB = 1024 * 1024;

/** Options for `only`, with the given sizes; the rest as parseOptions defaults them. */
function options(only: readonly Scenario[], extra: string[] = []): Options {
  const o = parseOptions(['--only', only.join(','), ...extra]);
  if (o === undefined) throw new Error('no options');
  return o;
}

function source(o: Options, rec: Recorder): Parameters<typeof comparisonRows>[0] {
  return { o, rec, has: (s: Scenario) => o.only.has(s) };
}

describe('targets of the new rows', () => {
  test('the disk bound: 1.3x live + 2 segments, as a ratio to the live bytes', () => {
    const t = diskBoundTarget(1000 * MiB, 64 * MiB);
    expect(t).toMatchObject({ kind: 'atMost', max: 1.3 + 128 / 1000 });
    expect(describeTarget(t, 'x live')).toBe('<= 1.3x live + 2 segments (1.43x here)');
    // 1000 MiB live: 1,428 MiB of directory is within, 1,429 MiB is not.
    expect(evaluateTarget(t, 'x live', 1428 / 1000, {}).met).toBe(true);
    expect(evaluateTarget(t, 'x live', 1429 / 1000, {}).met).toBe(false);
    expect(evaluateTarget(t, 'x live', undefined, {}).met).toBeUndefined();
  });

  test('the bench layer agrees with the segment log on the default segment size', () => {
    expect(segmentBytesDefault).toBe(segmentBytesMaxDefault);
  });

  test('a strict bound: below 256 MiB', () => {
    const t = { kind: 'below', max: 256 } as const;
    expect(describeTarget(t, 'MiB')).toBe('< 256 MiB');
    expect(evaluateTarget(t, 'MiB', 255.9, {})).toEqual({ target: '< 256 MiB', met: true });
    expect(evaluateTarget(t, 'MiB', 256, {}).met).toBe(false);
  });
});

describe('comparisonRows', () => {
  test('the existing rows carry the targets of issue 17', () => {
    const rec = new Recorder();
    const rows = comparisonRows(source(options(['produce', 'batch', 'drain', 'failover', 'memory']), rec));
    const target = (prefix: string): string | undefined => rows.find((r) => r.scenario.startsWith(prefix))?.target;
    expect(target('produce: 256 B')).toBe('>= 1.0x NATS, >= 1.5x RabbitMQ, >= 5.0x etcd');
    expect(target('produce: p99')).toBe('<= 20 ms');
    expect(target('batch:')).toBe('>= 100,000 msgs/s');
    expect(target('drain:')).toBe('>= 1.0x NATS');
    expect(target('failover: kill -9')).toBe('<= 0.5 s');
    expect(target('failover: acknowledged')).toBe('<= 0');
    expect(target('memory: max node RSS')).toBe('<= 300 MB');
    expect(target('restart: follower')).toBe('<= 3 s');
    expect(target('restart: leader')).toBe('<= 3 s');
  });

  test('the drain row is met against NATS, whatever RabbitMQ did', () => {
    const rec = new Recorder();
    rec.add('drain.rate', 'raftq', { ok: true, value: 21_000 });
    rec.add('drain.rate', 'nats', { ok: true, value: 20_000 });
    rec.add('drain.rate', 'rabbit', { ok: true, value: 30_000 });
    const [row] = comparisonRows(source(options(['drain']), rec));
    expect(row).toMatchObject({ ratios: '1.05x NATS, 0.70x RabbitMQ', met: 'yes' });
  });

  test('the disk row: largest directory / live bytes, with both in MiB, against the bound for this backlog', () => {
    const rec = new Recorder();
    const live = 50_000 * 1024;
    const dir = 82_206_720;
    rec.add('disk.ratio', 'raftq', { ok: true, value: dir / live, raw: { liveBytes: live, maxDirBytes: dir } });
    const rows = comparisonRows(source(options(['memory'], ['--backlog', '50000']), rec));
    const disk = rows.find((r) => r.scenario.startsWith('disk:'));
    expect(disk).toMatchObject({
      scenario: 'disk: largest node data directory / live bytes, 50,000 x 1 KiB backlog [x live]',
      raftq: '1.61 (78.4 MiB dir, 48.8 MiB live)',
      target: '<= 1.3x live + 2 segments (3.92x here)',
      met: 'yes',
    });
    expect(rows.map((r) => r.scenario.split(':')[0])).toEqual(['memory', 'disk', 'restart', 'restart']);
  });

  test('the disk row misses with a full backlog twice the bound, and says why when it has no figure', () => {
    const rec = new Recorder();
    rec.add('disk.ratio', 'raftq', { ok: true, value: 2.5, raw: { liveBytes: 1_024_000_000, maxDirBytes: 2_560_000_000 } });
    const [missed] = comparisonRows(source(options(['memory']), rec)).filter((r) => r.scenario.startsWith('disk:'));
    expect(missed?.met).toBe('no (missed <= 1.3x live + 2 segments (1.43x here))');
    const failed = new Recorder();
    failed.add('disk.ratio', 'raftq', { ok: false, error: 'the backlog holds 10 of 20 messages: no disk figure' });
    const [none] = comparisonRows(source(options(['memory']), failed)).filter((r) => r.scenario.startsWith('disk:'));
    expect(none).toMatchObject({ raftq: 'error: the backlog holds 10 of 20 messages: no disk figure', met: 'n/a (unknown <= 1.3x live + 2 segments (1.43x here))' });
  });

  test('the pinned row: the largest peak in MiB, the end size as a note, met below 256 MiB', () => {
    const rec = new Recorder();
    rec.add('pinned.dir', 'raftq', { ok: true, value: 76.6, raw: { maxPeakDirBytes: 76.6 * MiB, maxEndDirBytes: 65 * MiB } });
    const rows = comparisonRows(source(options(['pinned'], ['--pinned-bytes', String(2 * 1024 * MiB)]), rec));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      scenario: 'pinned: 1 message under a 12 h lease while 2 GiB of 16 KiB messages pass, largest node data directory [MiB]',
      raftq: '76.6 (peak; end 65.0 MiB)',
      target: '< 256 MiB',
      met: 'yes',
    });
    const over = new Recorder();
    over.add('pinned.dir', 'raftq', { ok: true, value: 2100, raw: { maxPeakDirBytes: 2100 * MiB, maxEndDirBytes: 2090 * MiB } });
    expect(comparisonRows(source(options(['pinned']), over))[0]?.met).toBe('no (missed < 256 MiB)');
  });

  test('no disk or pinned row unless their scenario ran', () => {
    const rows = comparisonRows(source(options(['produce']), new Recorder()));
    expect(rows.some((r) => r.scenario.startsWith('disk:') || r.scenario.startsWith('pinned:'))).toBe(false);
  });
});

describe('options', () => {
  test('pinned is a scenario, --pinned-bytes defaults to 2 GiB', () => {
    expect(scenarioNames).toContain('pinned');
    expect(options(['pinned']).pinnedBytes).toBe(2 * 1024 ** 3);
    expect(options(['pinned'], ['--pinned-bytes', '50000000']).pinnedBytes).toBe(50_000_000);
    expect(() => parseOptions(['--pinned-bytes', '0'])).toThrow(/--pinned-bytes must be within/);
  });
});

describe('data directory use', () => {
  const root = mkdtempSync(join(tmpdir(), 'raftq-disk-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('dirUsage counts every file under the directory, recursively', async () => {
    const dir = join(root, 'node');
    mkdirSync(join(dir, 'log', 'deep'), { recursive: true });
    writeFileSync(join(dir, 'a'), Buffer.alloc(10_000, 1));
    writeFileSync(join(dir, 'log', 'b'), Buffer.alloc(70_000, 2));
    writeFileSync(join(dir, 'log', 'deep', 'c'), Buffer.alloc(5, 3));
    const u = await dirUsage(dir);
    expect(u.files).toBe(3);
    expect(u.apparentBytes).toBe(80_005);
    // Allocated blocks: at least the data, in whole blocks.
    expect(u.bytes).toBeGreaterThanOrEqual(80_005);
    expect(u.bytes % 512).toBe(0);
    expect(await dirUsage(join(root, 'missing'))).toEqual({ bytes: 0, apparentBytes: 0, files: 0 });
  });

  test('DiskSampler keeps each directory peak and its last size', async () => {
    const dir = join(root, 'sampled');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'big'), Buffer.alloc(200_000, 1));
    const sampler = new DiskSampler([{ id: 'n1', dir }], 3_600_000);
    await sampler.sample();
    rmSync(join(dir, 'big'));
    writeFileSync(join(dir, 'small'), Buffer.alloc(1000, 1));
    const [d] = await sampler.stop();
    expect(d).toMatchObject({ id: 'n1', samples: 2, peakApparentBytes: 200_000 });
    expect(d!.peakBytes).toBeGreaterThanOrEqual(200_000);
    expect(d!.lastBytes).toBeLessThan(d!.peakBytes);
    expect(mib(1.5 * MiB)).toBe('1.5 MiB');
    expect(sizeText(50_000_000)).toBe('47.7 MiB');
    expect(sizeText(2 * 1024 * MiB)).toBe('2 GiB');
    expect(sizeText(1.25 * 1024 * MiB)).toBe('1.25 GiB');
  });
});
