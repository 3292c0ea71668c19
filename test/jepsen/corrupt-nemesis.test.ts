import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededRng } from '../../raft/rng.js';
import type { TestCluster } from '../../jepsen-like/cluster.js';
import { corruptModes, corruptTargets, damageDataDir, describeDamage, faultRng, type CorruptMode } from '../../jepsen-like/corrupt-nemesis.js';
import { History } from '../../jepsen-like/history.js';
import { Nemesis, planFaults, type Fault } from '../../jepsen-like/nemesis.js';
import { powerFsSkipReason, TestMounts } from '../storage/powerfs-mounts.js';

/**
 * The corrupt nemesis on real files in a temporary directory: each mode changes exactly what
 * its record says, only files that hold node state are touched, the same seed makes the same
 * damage; and, against a stand-in cluster, whom a fault hits and the order kill, damage, restart.
 */

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'raftq-corrupt-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A data directory like LevelDB's, with deterministic contents; returns its path. */
function dataDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  const bytes = (n: number, seed: number): Buffer => {
    const r = seededRng(seed);
    return Buffer.from(Array.from({ length: n }, () => 1 + r.int(255)));
  };
  writeFileSync(join(dir, '000005.ldb'), bytes(20_000, 1));
  writeFileSync(join(dir, '000007.log'), bytes(9_000, 2));
  writeFileSync(join(dir, 'MANIFEST-000006'), bytes(300, 3));
  writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000006\n');
  writeFileSync(join(dir, '000008.log'), ''); // empty: never picked
  writeFileSync(join(dir, 'LOCK'), '');
  writeFileSync(join(dir, 'LOG'), bytes(50_000, 4)); // large, but holds no node state
  return dir;
}

/** Every file of `dir` and its bytes. */
function snapshot(dir: string, names: readonly string[]): Map<string, Buffer> {
  return new Map(names.map((n) => [n, readFileSync(join(dir, n))]));
}

const names = ['000005.ldb', '000007.log', 'MANIFEST-000006', 'CURRENT', '000008.log', 'LOCK', 'LOG'];

describe('damageDataDir', () => {
  it('each mode changes exactly what its record says, in one data file, and nothing else', () => {
    for (const mode of corruptModes) {
      for (let seed = 1; seed <= 20; seed++) {
        const dir = dataDir(`${mode}-${seed}`);
        const before = snapshot(dir, names);
        const d = damageDataDir('n1', dir, mode, seededRng(seed));
        const ctx = `${mode} seed ${seed}: ${d === undefined ? 'none' : describeDamage(d)}`;
        expect(d, ctx).toBeDefined();
        const after = snapshot(dir, names);
        for (const n of names) if (n !== d!.file) expect(after.get(n)!.equals(before.get(n)!), `${ctx}: ${n} untouched`).toBe(true);
        const was = before.get(d!.file)!;
        const now = after.get(d!.file)!;
        expect(d!.sizeBytes, ctx).toBe(was.length);
        expect(['000008.log', 'LOCK', 'LOG']).not.toContain(d!.file);
        if (mode === 'flip') {
          expect(d!.bits!.length, ctx).toBeGreaterThanOrEqual(1);
          expect(d!.bits!.length, ctx).toBeLessThanOrEqual(8);
          const want = Buffer.from(was);
          for (const b of d!.bits!) want[b.offset] = want[b.offset]! ^ (1 << b.bit);
          expect(now.equals(want), ctx).toBe(true);
          expect(now.equals(was), ctx).toBe(false);
        } else if (mode === 'truncate') {
          expect(now.length, ctx).toBe(d!.offset);
          expect(d!.offset, ctx).toBeLessThan(was.length);
          expect(d!.lengthBytes, ctx).toBe(was.length - d!.offset);
          expect(now.equals(was.subarray(0, d!.offset)), ctx).toBe(true);
        } else {
          expect(d!.offset % 4096, ctx).toBe(0);
          expect(d!.lengthBytes, ctx).toBe(Math.min(4096, was.length - d!.offset));
          const want = Buffer.from(was);
          want.fill(0, d!.offset, d!.offset + d!.lengthBytes);
          expect(now.equals(want), ctx).toBe(true);
          // The fixture has no zero byte: every byte of the chunk changed.
          expect(d!.changedBytes, ctx).toBe(d!.lengthBytes);
        }
      }
    }
  });

  it('picks files in proportion to their size, and the same seed makes the same damage', () => {
    const picks = new Map<string, number>();
    const modes: CorruptMode[] = ['flip', 'zero', 'truncate'];
    for (let seed = 1; seed <= 60; seed++) {
      const a = damageDataDir('n1', dataDir(`a-${seed}`), modes[seed % 3]!, seededRng(seed));
      const b = damageDataDir('n1', dataDir(`b-${seed}`), modes[seed % 3]!, seededRng(seed));
      expect(b).toEqual(a);
      picks.set(a!.file, (picks.get(a!.file) ?? 0) + 1);
    }
    // 20 000 of the 29 316 state bytes are in the table: about two picks in three.
    expect(picks.get('000005.ldb')).toBeGreaterThan(30);
    expect(picks.get('000007.log')).toBeGreaterThan(5);
  });

  it('does nothing to a directory whose data files hold no byte', () => {
    const dir = join(root, 'empty');
    mkdirSync(dir);
    writeFileSync(join(dir, 'LOG'), 'info');
    writeFileSync(join(dir, '000003.log'), '');
    expect(damageDataDir('n1', dir, 'flip', seededRng(1))).toBeUndefined();
    expect(readFileSync(join(dir, 'LOG'), 'utf8')).toBe('info');
  });
});

describe.skipIf(powerFsSkipReason !== '')(`damageDataDir on a powerfs mount${powerFsSkipReason}`, () => {
  const mounts = new TestMounts();
  afterEach(() => mounts.unmountAll());

  it('makes its damage durable: a power cut right after it keeps the damage', async () => {
    for (const mode of corruptModes) {
      const fs = await mounts.mount('raftq-corrupt-powerfs');
      const path = join(fs.mountPoint, '000005.ldb');
      const fd = openSync(path, 'w');
      writeSync(fd, Buffer.alloc(10_000, 0xa5));
      fsyncSync(fd);
      closeSync(fd);
      const dirFd = openSync(fs.mountPoint, 'r'); // the new file's directory entry, durable too
      fsyncSync(dirFd);
      closeSync(dirFd);
      const d = damageDataDir('n1', fs.mountPoint, mode, seededRng(7))!;
      const damaged = readFileSync(path);
      await fs.cut();
      expect(readFileSync(path).equals(damaged), `${mode}: ${describeDamage(d)}`).toBe(true);
      expect(damaged.equals(Buffer.alloc(10_000, 0xa5)), mode).toBe(false);
    }
  });
});

describe('corruptTargets', () => {
  it('a minority: one node of 3, one or two of 5; every node with scope all', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const pick = seed / 51;
      expect(corruptTargets(['n1', 'n2', 'n3'], 'minority', pick, faultRng(pick))).toHaveLength(1);
      const five = corruptTargets(['n1', 'n2', 'n3', 'n4', 'n5'], 'minority', pick, faultRng(pick));
      expect(five.length).toBeGreaterThanOrEqual(1);
      expect(five.length).toBeLessThanOrEqual(2);
      expect(new Set(five).size).toBe(five.length);
      expect(corruptTargets(['n1', 'n2', 'n3'], 'all', pick, faultRng(pick))).toEqual(['n1', 'n2', 'n3']);
    }
    const sizes = new Set(Array.from({ length: 50 }, (_, k) => corruptTargets(['n1', 'n2', 'n3', 'n4', 'n5'], 'minority', k / 50, faultRng(k / 50)).length));
    expect(sizes).toEqual(new Set([1, 2]));
  });
});

describe('corrupt nemesis', () => {
  /** Nodes n1..n<n> with data directories under root; logs kills and starts. */
  function fakeCluster(n: number): { cluster: TestCluster; events: string[] } {
    const events: string[] = [];
    const nodes = Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}`, dataDir: dataDir(`node${i + 1}`) }));
    const fake = {
      nodes,
      leader: async () => 'n2',
      node: (id: string) => nodes.find((x) => x.id === id)!,
      killAndWait: async (id: string) => void events.push(`kill ${id}`),
      startNode: (id: string) => void events.push(`start ${id}`),
    };
    return { cluster: fake as unknown as TestCluster, events };
  }

  const corrupt = (variant: CorruptMode, pick: number): Fault => ({ atMs: 0, durationMs: 1000, kind: 'corrupt', variant, pick });

  it('kills the targets, damages them, records exactly what it did, and restarts them at the heal', async () => {
    const { cluster, events } = fakeCluster(3);
    const history = new History();
    const nemesis = new Nemesis(cluster, history);
    const description = await nemesis.start(corrupt('zero', 0.5));
    expect(events).toEqual(['kill n2']);
    const damages = nemesis.corruptions.damages;
    expect(damages).toHaveLength(1);
    expect(damages[0]!.node).toBe('n2');
    expect(description).toBe(`corrupt zero [n2]: ${describeDamage(damages[0]!)}`);
    expect(description).toMatch(/^corrupt zero \[n2\]: n2 \S+ \((table|write-ahead-log|manifest|current), \d+ bytes\): zeroed \d+ bytes at \d+ \(\d+ were not zero\)$/);
    await nemesis.heal();
    expect(events).toEqual(['kill n2', 'start n2']);
    expect(history.ops.map((o) => `${o.type} ${String(o.value)}`)).toEqual(['invoke corrupt zero [n2]', `info ${description}`, 'info heal']);
    expect(nemesis.corruptions.faults).toEqual({ flip: 0, truncate: 0, zero: 1 });
    expect(nemesis.injected.get('corrupt')).toBe(1);
    expect(nemesis.windows.map((w) => w.label)).toEqual(['corrupt zero [n2]']);
  });

  it('scope all damages every node in one fault', async () => {
    const { cluster, events } = fakeCluster(3);
    const nemesis = new Nemesis(cluster, new History(), { corruptScope: 'all' });
    await nemesis.start(corrupt('flip', 0.1));
    expect(events).toEqual(['kill n1', 'kill n2', 'kill n3']);
    expect(nemesis.corruptions.damages.map((d) => d.node)).toEqual(['n1', 'n2', 'n3']);
  });

  it('schedules only corrupt faults when it is the only family, in all three modes', () => {
    let x = 7;
    const rng = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const plan = planFaults(['corrupt'], 600_000, rng);
    expect(new Set(plan.map((f) => f.kind))).toEqual(new Set(['corrupt']));
    expect(new Set(plan.map((f) => f.variant))).toEqual(new Set(corruptModes));
  });
});
