/**
 * PendingProposals (issue 15, item 3): a re-elected leader may propose at an index where its
 * proposal of an earlier term still waits; only the entry applied there decides each one.
 */
import { describe, expect, it } from 'vitest';
import { PendingProposals } from '../../src/server/pending-proposals.js';

function track(p: PendingProposals<string>, index: number, term: number, log: string[]): void {
  p.add(
    index,
    term,
    (r) => log.push(`${index}@${term} ok ${r}`),
    (e) => log.push(`${index}@${term} ${(e as { code?: string }).code ?? 'error'}`),
  );
}

describe('PendingProposals', () => {
  it('holds proposals of two terms at one index; the applied entry resolves its own and fails the other', () => {
    const p = new PendingProposals<string>();
    const log: string[] = [];
    track(p, 5, 1, log);
    track(p, 6, 1, log);
    // Leadership lost, log cut back to 4 by another leader, this node elected again in term 3.
    track(p, 5, 3, log);
    expect(p.inFlight).toBe(1);
    expect(p.size).toBe(3);
    p.settle(5, 3, 'r5');
    p.settle(6, 3, undefined);
    expect(log).toEqual(['5@1 UNAVAILABLE', '5@3 ok r5', '6@1 UNAVAILABLE']);
    expect(p.size).toBe(0);
  });

  it('an earlier term may still win its index (Figure 8): then the newer proposal there is the one not applied', () => {
    const p = new PendingProposals<string>();
    const log: string[] = [];
    track(p, 5, 1, log);
    track(p, 5, 3, log);
    p.settle(5, 1, 'old');
    expect(log).toEqual(['5@1 ok old', '5@3 UNAVAILABLE']);
  });

  it('a proposal forgotten at its deadline no longer counts toward in-flight', () => {
    const p = new PendingProposals<string>();
    const log: string[] = [];
    track(p, 7, 2, log);
    track(p, 8, 2, log);
    expect(p.inFlight).toBe(2);
    p.forget(7, 2);
    expect(p.inFlight).toBe(1);
    p.settle(7, 2, 'late');
    expect(log).toEqual([]);
    p.failAll(Object.assign(new Error('stop'), { code: 'TIMEOUT' }));
    expect(log).toEqual(['8@2 TIMEOUT']);
  });

  it('refuses two proposals at one index in one term (a broken invariant)', () => {
    const p = new PendingProposals<string>();
    track(p, 9, 4, []);
    expect(() => track(p, 9, 4, [])).toThrow(/two proposals at index 9 in term 4/);
  });
});
