import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pendingWithDeadline, type Settle } from '../../src/server/deadline.js';

describe('pendingWithDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('settles through the filed Settle before the deadline and clears its timer', async () => {
    let filed: Settle<number> | undefined;
    const expire = vi.fn(() => new Error('late'));
    const p = pendingWithDeadline<number>(1000, (s) => (filed = s), expire);
    expect(vi.getTimerCount()).toBe(1);
    filed!.resolve(7);
    await expect(p).resolves.toBe(7);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(expire).not.toHaveBeenCalled();
  });

  it('at the deadline runs expire once (which unfiles) and rejects with its error; a late settle changes nothing', async () => {
    const filed = new Set<Settle<string>>();
    let mine: Settle<string> | undefined;
    const p = pendingWithDeadline<string>(
      250,
      (s) => filed.add((mine = s)),
      () => {
        filed.delete(mine!);
        return new Error('expired');
      },
    );
    const outcome = p.then(
      (v) => `resolved ${v}`,
      (e: Error) => `rejected ${e.message}`,
    );
    vi.advanceTimersByTime(249);
    expect(filed.size).toBe(1);
    vi.advanceTimersByTime(1);
    expect(filed.size).toBe(0);
    mine!.resolve('too late');
    expect(await outcome).toBe('rejected expired');
  });

  it('may be settled inside file (a request that could not be sent); a negative timeout counts as 0', async () => {
    const rejected = pendingWithDeadline<void>(1000, (s) => s.reject(new Error('unreachable')), () => new Error('late'));
    await expect(rejected).rejects.toThrow('unreachable');
    expect(vi.getTimerCount()).toBe(0);
    const expired = pendingWithDeadline<void>(-5, () => undefined, () => new Error('at once'));
    vi.advanceTimersByTime(0);
    await expect(expired).rejects.toThrow('at once');
  });
});
