/**
 * The state machine's queue attributes beyond the core ones (contentBasedDeduplication,
 * receiveWaitTimeMs, redriveAllowPolicy), queue tags, message metadata (sentAtMs,
 * firstReceivedAtMs, dedupId) and redrive to a destination with its task record: applied,
 * kept across a restart (load from the keyspace), and the same whether bodies come from the
 * log or from the cold payload records.
 */
import { describe, expect, it } from 'vitest';
import type { CommandResult } from '../../src/queue/commands.js';
import { Harness, t0Ms, text, utf8 } from './harness.js';

function code(r: CommandResult): string {
  return r.ok ? 'ok' : r.code;
}

describe('queue attributes: contentBasedDeduplication, receiveWaitTimeMs, redriveAllowPolicy', () => {
  it('defaults on create, compared by the idempotent create, changed by setQueueAttributes, kept by a restart', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q.fifo' });
    expect(h.sm.getQueue('q.fifo')!.attributes).toMatchObject({ contentBasedDeduplication: false, receiveWaitTimeMs: 0, redriveAllowPolicy: '' });
    expect(h.ok({ type: 'createQueue', queue: 'q.fifo', attributes: { contentBasedDeduplication: false, receiveWaitTimeMs: 0, redriveAllowPolicy: '' } })).toMatchObject({ created: false });
    expect(code(h.apply({ type: 'createQueue', queue: 'q.fifo', attributes: { contentBasedDeduplication: true } }))).toBe('QUEUE_EXISTS');
    expect(code(h.apply({ type: 'createQueue', queue: 'q.fifo', attributes: { receiveWaitTimeMs: 1000 } }))).toBe('QUEUE_EXISTS');
    expect(code(h.apply({ type: 'createQueue', queue: 'q.fifo', attributes: { redriveAllowPolicy: '{}' } }))).toBe('QUEUE_EXISTS');

    const policy = '{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:r:1:src.fifo"]}';
    h.ok({ type: 'setQueueAttributes', queue: 'q.fifo', attributes: { contentBasedDeduplication: true, receiveWaitTimeMs: 20_000, redriveAllowPolicy: policy } });
    const want = { contentBasedDeduplication: true, receiveWaitTimeMs: 20_000, redriveAllowPolicy: policy, visibilityTimeoutMs: 30_000 };
    expect(h.sm.getQueue('q.fifo')!.attributes).toMatchObject(want);
    // A later setQueueAttributes that leaves them out keeps them.
    h.ok({ type: 'setQueueAttributes', queue: 'q.fifo', attributes: { visibilityTimeoutMs: 30_000 } });
    await h.restart();
    expect(h.sm.getQueue('q.fifo')!.attributes).toMatchObject(want);
    expect(h.ok({ type: 'createQueue', queue: 'q.fifo', attributes: { contentBasedDeduplication: true, receiveWaitTimeMs: 20_000, redriveAllowPolicy: policy } })).toMatchObject({ created: false });
  });

  it('refuses contentBasedDeduplication on a standard queue', () => {
    const h = new Harness();
    expect(code(h.apply({ type: 'createQueue', queue: 'q', attributes: { contentBasedDeduplication: true } }))).toBe('INVALID_ARGUMENT');
    h.ok({ type: 'createQueue', queue: 'q' });
    expect(code(h.apply({ type: 'setQueueAttributes', queue: 'q', attributes: { contentBasedDeduplication: true } }))).toBe('INVALID_ARGUMENT');
  });
});

describe('removing a redrive policy', () => {
  it('maxReceiveCount 0 with deadLetterQueue \'\' removes it; either alone is refused', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'dlq' });
    h.ok({ type: 'createQueue', queue: 'q', attributes: { maxReceiveCount: 1, deadLetterQueue: 'dlq' } });
    expect(code(h.apply({ type: 'setQueueAttributes', queue: 'q', attributes: { maxReceiveCount: 0, deadLetterQueue: 'dlq' } }))).toBe('INVALID_ARGUMENT');
    expect(code(h.apply({ type: 'setQueueAttributes', queue: 'q', attributes: { maxReceiveCount: 2, deadLetterQueue: '' } }))).toBe('INVALID_ARGUMENT');
    h.ok({ type: 'setQueueAttributes', queue: 'q', attributes: { maxReceiveCount: 0, deadLetterQueue: '' } });
    expect(h.sm.getQueue('q')!.attributes).toMatchObject({ maxReceiveCount: 0, deadLetterQueue: '' });
    // Without a policy a message is delivered past any count, never dead-lettered.
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('m') }] });
    for (let i = 0; i < 3; i++) expect(h.ok({ type: 'receive', queue: 'q', max: 1, visibilityTimeoutMs: 0 })).toMatchObject({ deadLettered: 0 });
    await h.restart();
    expect(h.sm.getQueue('q')!.attributes).toMatchObject({ maxReceiveCount: 0, deadLetterQueue: '' });
  });
});

describe('queue tags', () => {
  it('applies tags on create only, merges with tagQueue, removes with untagQueue, keeps them across a restart', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', tags: { team: 'core', env: 'dev' } });
    expect(h.sm.getQueue('q')!.tags).toEqual({ env: 'dev', team: 'core' });
    // An idempotent repeat ignores its tags.
    expect(h.ok({ type: 'createQueue', queue: 'q', tags: { other: 'x' } })).toMatchObject({ created: false });
    expect(h.sm.getQueue('q')!.tags).toEqual({ env: 'dev', team: 'core' });

    expect(h.ok({ type: 'tagQueue', queue: 'q', tags: { env: 'prod', cost: '' } })).toEqual({ ok: true, type: 'tagQueue' });
    expect(Object.entries(h.sm.getQueue('q')!.tags)).toEqual([['cost', ''], ['env', 'prod'], ['team', 'core']]);
    expect(h.ok({ type: 'untagQueue', queue: 'q', keys: ['team', 'absent'] })).toEqual({ ok: true, type: 'untagQueue' });
    expect(h.sm.getQueue('q')!.tags).toEqual({ cost: '', env: 'prod' });

    await h.restart();
    expect(Object.entries(h.sm.getQueue('q')!.tags)).toEqual([['cost', ''], ['env', 'prod']]);
    // QueueInfo hands out a copy.
    (h.sm.getQueue('q')!.tags as Record<string, string>)['env'] = 'changed';
    expect(h.sm.getQueue('q')!.tags['env']).toBe('prod');
  });

  it('refuses a merge beyond 50 tags and commands on a missing queue', () => {
    const h = new Harness();
    const tags = (from: number, n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${from + i}`, 'v']));
    h.ok({ type: 'createQueue', queue: 'q', tags: tags(0, 40) });
    expect(code(h.apply({ type: 'tagQueue', queue: 'q', tags: tags(40, 11) }))).toBe('INVALID_ARGUMENT');
    expect(Object.keys(h.sm.getQueue('q')!.tags)).toHaveLength(40);
    h.ok({ type: 'tagQueue', queue: 'q', tags: tags(35, 15) });
    expect(Object.keys(h.sm.getQueue('q')!.tags)).toHaveLength(50);
    expect(code(h.apply({ type: 'tagQueue', queue: 'nope', tags: {} }))).toBe('QUEUE_NOT_FOUND');
    expect(code(h.apply({ type: 'untagQueue', queue: 'nope', keys: ['k'] }))).toBe('QUEUE_NOT_FOUND');
  });

  it('a deleted and re-created queue starts without tags', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', tags: { a: '1' } });
    h.ok({ type: 'deleteQueue', queue: 'q' });
    h.ok({ type: 'createQueue', queue: 'q' });
    expect(h.sm.getQueue('q')!.tags).toEqual({});
  });
});

describe('message metadata: sentAtMs, firstReceivedAtMs, dedupId', () => {
  it('keeps sentAtMs and firstReceivedAtMs across a dead-letter move, a redrive and a restart', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'dlq' });
    h.ok({ type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 1000, maxReceiveCount: 1, deadLetterQueue: 'dlq' } });
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('a') }] });
    const sentAtMs = t0Ms;
    h.nowMs += 500;
    const [first] = h.receive('q');
    expect(first).toMatchObject({ sentAtMs, firstReceivedAtMs: t0Ms + 500, enqueuedAtMs: t0Ms, receiveCount: 1 });
    h.nowMs += 1000;
    const [second] = h.receive('q', 10, 0);
    expect(second).toBeUndefined();
    expect(h.sm.getQueue('q')!.stats.deadLettered).toBe(1);

    h.nowMs += 100;
    await h.restart();
    const [inDlq] = h.receive('dlq', 10, 0);
    expect(inDlq).toMatchObject({ sentAtMs, firstReceivedAtMs: t0Ms + 500, enqueuedAtMs: t0Ms + 1500, receiveCount: 1 });

    h.nowMs += 100;
    h.ok({ type: 'redrive', queue: 'dlq' });
    await h.restart();
    const back = await h.receiveMessages('q', 10, 0);
    expect(back.map((m) => [text(m.body), m.sentAtMs, m.firstReceivedAtMs, m.enqueuedAtMs, m.receiveCount])).toEqual([['a', sentAtMs, t0Ms + 500, t0Ms + 1700, 1]]);
  });

  it('a message never moved has sentAtMs = enqueuedAtMs, and firstReceivedAtMs stays at the first delivery', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q', attributes: { visibilityTimeoutMs: 0 } });
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('a') }] }, 10);
    const [d1] = h.receive('q');
    h.nowMs += 250;
    const [d2] = h.receive('q');
    expect([d1!.sentAtMs, d1!.enqueuedAtMs, d1!.firstReceivedAtMs]).toEqual([t0Ms + 10, t0Ms + 10, t0Ms + 10]);
    expect([d2!.receiveCount, d2!.firstReceivedAtMs]).toEqual([2, t0Ms + 10]);
  });

  it('reads dedupId from the log and, after compaction, from the payload record', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q.fifo', attributes: { visibilityTimeoutMs: 0 } });
    h.ok({ type: 'enqueue', queue: 'q.fifo', messages: [{ body: utf8('a'), groupId: 'g', dedupId: 'd-1' }, { body: utf8('b'), groupId: 'h' }] });
    const fromLog = await h.receiveMessages('q.fifo');
    expect(fromLog.map((m) => [text(m.body), m.dedupId])).toEqual([['a', 'd-1'], ['b', '']]);
    expect(h.compactLog()).toBe(2);
    const fromCold = await h.receiveMessages('q.fifo');
    expect(fromCold.map((m) => [text(m.body), m.dedupId])).toEqual([['a', 'd-1'], ['b', '']]);
  });
});

describe('redrive to a destination, and the task record', () => {
  it('moves every message (those without a source too) to the destination, in offset order, and records the task', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'dlq' });
    h.ok({ type: 'createQueue', queue: 'src', attributes: { visibilityTimeoutMs: 0, maxReceiveCount: 1, deadLetterQueue: 'dlq' } });
    h.ok({ type: 'createQueue', queue: 'other' });
    h.ok({ type: 'enqueue', queue: 'src', messages: [{ body: utf8('a') }, { body: utf8('b') }] });
    h.receive('src');
    h.receive('src');
    h.ok({ type: 'enqueue', queue: 'dlq', messages: [{ body: utf8('direct') }] }, 5);
    expect(h.sm.getQueue('dlq')!.stats.visible).toBe(3);
    expect(h.sm.getQueue('dlq')!.lastRedrive).toBeUndefined();

    const r = h.ok({ type: 'redrive', queue: 'dlq', destination: 'other' }, 7);
    expect(r).toEqual({ ok: true, type: 'redrive', moved: 3, taskIndex: h.index });
    const task = { taskIndex: h.index, startedAtMs: h.nowMs, moved: 3, destination: 'other' };
    expect(h.sm.getQueue('dlq')!.lastRedrive).toEqual(task);
    expect(h.sm.getQueue('src')!.stats.visible).toBe(0);
    const moved = await h.receiveMessages('other');
    expect(moved.map((m) => [text(m.body), m.offset, m.receiveCount])).toEqual([['a', 0, 1], ['b', 1, 1], ['direct', 2, 1]]);
    expect(moved.map((m) => m.firstReceivedAtMs === h.nowMs)).toEqual([false, false, true]);

    await h.restart();
    expect(h.sm.getQueue('dlq')!.lastRedrive).toEqual(task);

    // Without a destination: back to each source; the record tells so with destination ''.
    h.ok({ type: 'redrive', queue: 'dlq' });
    expect(h.sm.getQueue('dlq')!.lastRedrive).toEqual({ taskIndex: h.index, startedAtMs: h.nowMs, moved: 0, destination: '' });
  });

  it('keeps FIFO groups in order in a FIFO destination', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'dlq.fifo' });
    h.ok({ type: 'createQueue', queue: 'dest.fifo', attributes: { visibilityTimeoutMs: 0 } });
    h.ok({ type: 'enqueue', queue: 'dlq.fifo', messages: ['a1', 'b1', 'a2'].map((b) => ({ body: utf8(b), groupId: b[0]! })) });
    h.ok({ type: 'redrive', queue: 'dlq.fifo', destination: 'dest.fifo' });
    const got = await h.receiveMessages('dest.fifo');
    expect(got.map((m) => [text(m.body), m.groupId])).toEqual([['a1', 'a'], ['a2', 'a'], ['b1', 'b']]);
  });

  it('refuses a missing destination, another FIFO kind, or the queue itself; changes nothing', () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'dlq' });
    h.ok({ type: 'createQueue', queue: 'f.fifo' });
    h.ok({ type: 'enqueue', queue: 'dlq', messages: [{ body: utf8('a') }] });
    expect(code(h.apply({ type: 'redrive', queue: 'dlq', destination: 'nope' }))).toBe('QUEUE_NOT_FOUND');
    expect(code(h.apply({ type: 'redrive', queue: 'dlq', destination: 'f.fifo' }))).toBe('INVALID_ARGUMENT');
    expect(code(h.apply({ type: 'redrive', queue: 'dlq', destination: 'dlq' }))).toBe('INVALID_ARGUMENT');
    expect(h.sm.getQueue('dlq')!.stats.visible).toBe(1);
    expect(h.sm.getQueue('dlq')!.lastRedrive).toBeUndefined();
  });
});

describe('message attributes', () => {
  it('accepts values of 262144 characters and keys starting with ":", and delivers them', async () => {
    const h = new Harness();
    h.ok({ type: 'createQueue', queue: 'q' });
    const attributes = { ':types': '{"n":"Number"}', n: '4'.repeat(262_144) };
    h.ok({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('x'), attributes }] });
    expect((await h.receiveMessages('q'))[0]!.attributes).toEqual(attributes);
    expect(code(h.apply({ type: 'enqueue', queue: 'q', messages: [{ body: utf8('x'), attributes: { n: '4'.repeat(262_145) } }] }))).toBe('INVALID_ARGUMENT');
  });
});
