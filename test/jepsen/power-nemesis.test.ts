import { describe, expect, it } from 'vitest';
import type { TestCluster } from '../../jepsen-like/cluster.js';
import { History } from '../../jepsen-like/history.js';
import { Nemesis, planFaults, type Fault } from '../../jepsen-like/nemesis.js';
import type { CutDiscarded } from '../../jepsen-like/power-mounts.js';

/**
 * The power nemesis against a stand-in cluster whose cuts the test completes by hand: which
 * nodes each variant hits, that a heal restarts them only after their cut, and the counts.
 */

/** A cluster of `n` nodes led by n2 that logs what the nemesis does to it. */
function fakeCluster(n: number): { cluster: TestCluster; events: string[]; finishCut: () => void } {
  const events: string[] = [];
  let finish: (() => void) | undefined;
  const fake = {
    nodes: Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}` })),
    leader: async () => 'n2',
    powerCut: (ids: readonly string[]): Promise<CutDiscarded> => {
      events.push(`cut ${ids.join(',')}`);
      return new Promise((resolve) => {
        finish = () => {
          events.push('cut done');
          resolve({ filesReverted: 1, bytesDiscarded: 100, entriesReverted: 2 });
        };
      });
    },
    startNode: (id: string) => void events.push(`start ${id}`),
  };
  return {
    cluster: fake as unknown as TestCluster,
    events,
    finishCut: () => {
      if (finish === undefined) throw new Error('no cut under way');
      finish();
    },
  };
}

const power = (variant: string, pick = 0): Fault => ({ atMs: 0, durationMs: 1000, kind: 'power', variant, pick });

/** Lets every settled promise's callbacks run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('power nemesis', () => {
  it('a heal called during a cut restarts the nodes only once the cut is done', async () => {
    const { cluster, events, finishCut } = fakeCluster(3);
    const history = new History();
    const nemesis = new Nemesis(cluster, history);
    const started = nemesis.start(power('all'));
    const healed = nemesis.heal();
    await settle();
    expect(events).toEqual(['cut n1,n2,n3']);
    finishCut();
    expect(await started).toBe('power all [n1,n2,n3] discarded 100 bytes in 1 files, 2 directory entries');
    await healed;
    expect(events).toEqual(['cut n1,n2,n3', 'cut done', 'start n1', 'start n2', 'start n3']);
    // The fault is in the history from the moment the nodes go down, its figures after the cut.
    expect(history.ops.map((o) => `${o.type} ${String(o.value)}`)).toEqual(['invoke power all [n1,n2,n3]', 'info power all [n1,n2,n3] discarded 100 bytes in 1 files, 2 directory entries', 'info heal']);
    expect(nemesis.powerCuts).toEqual({ cuts: { one: 0, minority: 0, all: 1 }, filesReverted: 1, bytesDiscarded: 100, entriesReverted: 2 });
    expect(nemesis.injected.get('power')).toBe(1);
  });

  it('one hits the picked node, minority the leader first', async () => {
    const cases: Array<[number, string, number, string]> = [
      [3, 'one', 0.9, 'n3'],
      [3, 'minority', 0, 'n2'],
      [5, 'minority', 0, 'n2,n1'],
      [5, 'minority', 0.5, 'n2,n3'],
      [5, 'all', 0, 'n1,n2,n3,n4,n5'],
    ];
    for (const [n, variant, pick, want] of cases) {
      const { cluster, events, finishCut } = fakeCluster(n);
      const nemesis = new Nemesis(cluster, new History());
      const started = nemesis.start(power(variant, pick));
      await settle();
      finishCut();
      await started;
      expect(events[0], `${variant} of ${n} nodes, pick ${pick}`).toBe(`cut ${want}`);
    }
  });

  it('schedules only power faults when it is the only family, in all three variants', () => {
    let x = 7;
    const rng = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const plan = planFaults(['power'], 600_000, rng);
    expect(new Set(plan.map((f) => f.kind))).toEqual(new Set(['power']));
    expect(new Set(plan.map((f) => f.variant))).toEqual(new Set(['one', 'minority', 'all']));
  });
});
