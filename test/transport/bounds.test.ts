import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/transport/backoff.js';
import { SendQueue, messageBytesEstimate } from '../../src/transport/send-queue.js';
import { heartbeat } from './helpers.js';

describe('Backoff', () => {
  it('doubles from the initial delay to the cap, with jitter in [ceiling/2, ceiling)', () => {
    const lowest = new Backoff(() => 0, 50, 2000);
    expect(Array.from({ length: 8 }, () => lowest.nextDelayMs())).toStrictEqual([25, 50, 100, 200, 400, 800, 1000, 1000]);
    const highest = new Backoff(() => 0.999, 50, 2000);
    for (let i = 0; i < 10; i++) expect(highest.nextDelayMs()).toBeLessThan(2000);
    lowest.reset();
    expect(lowest.nextDelayMs()).toBe(25);
  });
});

describe('SendQueue', () => {
  it('refuses messages beyond its message bound and its byte bound', () => {
    const byCount = new SendQueue(2, 1 << 20);
    expect([1, 2, 3].map((n) => byCount.maybePush(heartbeat('a', 'b', n)))).toStrictEqual([true, true, false]);
    const big = { ...heartbeat('a', 'b', 1), context: new Uint8Array(1000) };
    const byBytes = new SendQueue(100, messageBytesEstimate(big) * 2);
    expect([1, 2, 3].map(() => byBytes.maybePush(big))).toStrictEqual([true, true, false]);
    expect(byBytes.takeAll()).toHaveLength(2);
    expect(byBytes.bytes).toBe(0);
  });
});
