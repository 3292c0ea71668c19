/**
 * Applier (src/server/applier.ts), the apply step of the ready loop, against recording fakes of
 * the membership, the proposer, cluster time and the application.
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../raft/assert.js';
import type { ConfState, Entry } from '../../raft/types.js';
import type { AppliedCommand } from '../../src/server/application.js';
import { Applier } from '../../src/server/applier.js';
import { encodeEntry } from '../../src/server/entry-envelope.js';
import type { StateWrite } from '../../src/storage/index.js';

const key = (s: string) => new TextEncoder().encode(s);
const normal = (index: number, term: number, payload: string, elapsedMs = index): Entry => ({ index, term, type: 'normal', data: encodeEntry({ elapsedMs, wallMs: 0 }, key(payload)) });
const empty = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(0) });
const conf = (index: number, term: number): Entry => ({ index, term, type: 'conf', data: new Uint8Array(1) });

function setup(opts: { memberAdded?: boolean; resultCount?: (n: number) => number } = {}) {
  const calls: string[] = [];
  let confState: ConfState = { voters: ['n1'], learners: [] };
  const commands: AppliedCommand[] = [];
  const applier = new Applier<string>({
    membership: {
      get confState() {
        return confState;
      },
      applyConfEntry: (e) => {
        calls.push(`conf:${e.index}`);
        confState = { voters: ['n1', 'n2'], learners: [] };
        return { write: { type: 'put', key: key(`members@${e.index}`), value: new Uint8Array(0) }, memberAdded: opts.memberAdded === true };
      },
      settleApplied: (applied) => void calls.push(`membership.settle:${applied.map((a) => a.index).join(',')}`),
    },
    proposer: {
      decodedAt: (index) => (index === 2 ? 'decoded-2' : undefined),
      settleApplied: (entries, byIndex) => void calls.push(`proposer.settle:${entries.map((e) => e.index).join(',')}:${[...byIndex.values()].join(',')}`),
    },
    clusterClock: {
      apply: (_term, stamp) => ('elapsedMs' in stamp ? 1000 + stamp.elapsedMs : 0),
      takeWrite: (): StateWrite => ({ type: 'put', key: key('clock'), value: new Uint8Array(0) }),
    },
    app: {
      apply: (cmds, writes) => {
        commands.push(...cmds);
        writes.push({ type: 'put', key: key('app'), value: new Uint8Array(0) });
        const n = opts.resultCount?.(cmds.length) ?? cmds.length;
        return cmds.slice(0, n).map((c) => `r${c.index}`);
      },
    },
    memberAdded: () => void calls.push('memberAdded'),
    metrics: { applied: (n) => void calls.push(`metrics.applied:${n}`) },
  });
  return { applier, calls, commands };
}

describe('Applier', () => {
  it('hands the commands to the application in order, with cluster time and what the proposer decoded, and the writes in entry order', () => {
    const t = setup();
    const round = t.applier.apply([normal(1, 1, 'a'), normal(2, 1, 'b'), empty(3, 1), conf(4, 1), normal(5, 1, 'c')]);
    expect(t.commands.map((c) => [c.index, c.nowMs, new TextDecoder().decode(c.payload), c.decoded])).toEqual([
      [1, 1001, 'a', undefined],
      [2, 1002, 'b', 'decoded-2'],
      [5, 1005, 'c', undefined],
    ]);
    expect(round.changes.writes.map((w) => new TextDecoder().decode(w.key))).toEqual(['members@4', 'clock', 'app']);
    expect(round.changes.appliedIndex).toBe(5);
    expect(round.changes.confState).toEqual({ voters: ['n1', 'n2'], learners: [] });
    expect([...round.byIndex]).toEqual([
      [1, 'r1'],
      [2, 'r2'],
      [5, 'r5'],
    ]);
    expect(round.confApplied).toEqual([{ index: 4, term: 1 }]);
    // Nothing is completed before settle.
    expect(t.calls).toEqual(['conf:4']);
  });

  it('settle completes the proposals and the membership changes, once', () => {
    const t = setup();
    const round = t.applier.apply([normal(1, 1, 'a'), conf(2, 1)]);
    t.calls.length = 0;
    t.applier.settle(round);
    expect(t.calls).toEqual(['metrics.applied:2', 'proposer.settle:1,2:r1', 'membership.settle:2']);
  });

  it('an applied conf entry that added a member asks for a compaction', () => {
    const t = setup({ memberAdded: true });
    t.applier.apply([conf(7, 2)]);
    expect(t.calls).toEqual(['conf:7', 'memberAdded']);
  });

  it('asserts that the application returned one result per command, and that there is something to apply', () => {
    expect(() => setup({ resultCount: (n) => n - 1 }).applier.apply([normal(1, 1, 'a')])).toThrow(AssertionError);
    expect(() => setup().applier.apply([])).toThrow(AssertionError);
  });
});
