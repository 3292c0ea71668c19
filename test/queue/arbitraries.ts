/**
 * fast-check generators of queue command histories, shared by the model-based, snapshot and
 * determinism tests. Names, ids and sizes come from small pools so that histories collide:
 * redeliveries, stale receipts, dedup hits, dead-lettering, FIFO group blocking.
 */
import fc from 'fast-check';
import type { Command, EnqueueMessage, QueueAttributesInput } from '../../src/queue/commands.js';

/** The seed of every property in test/queue: RAFTQ_SEED or a fixed default. */
export const seed = process.env['RAFTQ_SEED'] === undefined ? 20240605 : Number(process.env['RAFTQ_SEED']);

/** Options for fc.assert: the seed (printed by fast-check on failure), and modest run counts. */
export function runOptions(numRuns: number): fc.Parameters<unknown> {
  return { seed, numRuns };
}

const standardQueues = ['a', 'b', 'dlq'] as const;
const fifoQueues = ['f.fifo', 'fdlq.fifo'] as const;
const allQueues = [...standardQueues, ...fifoQueues, 'missing'] as const;

/** A step: a command template (receipts chosen later from those issued) and a clock step. */
export interface Step {
  readonly cmd: Command | { readonly type: 'ackPick'; readonly queue: string; readonly picks: readonly number[] } | {
    readonly type: 'visibilityPick';
    readonly queue: string;
    readonly pick: number;
    readonly visibilityTimeoutMs: number;
  };
  /** Clock change before this step, ms (negative: a leader with a slower clock). */
  readonly dtMs: number;
}

const attributes = (queue: string): fc.Arbitrary<QueueAttributesInput> => {
  const fifo = queue.endsWith('.fifo');
  const dlqs = fifo ? ['fdlq.fifo', 'f.fifo'] : ['dlq', 'a', 'b'];
  return fc
    .record(
      {
        visibilityTimeoutMs: fc.constantFrom(0, 1000, 5000),
        delayMs: fc.constantFrom(0, 2000),
        retentionMs: fc.constantFrom(60_000, 120_000),
        maxMessageBytes: fc.constantFrom(4, 64),
        receiveWaitTimeMs: fc.constantFrom(0, 20_000),
        redriveAllowPolicy: fc.constantFrom('', '{"redrivePermission":"allowAll"}'),
        // Mostly valid (FIFO only); now and then true on a standard queue, refused.
        contentBasedDeduplication: fifo ? fc.boolean() : fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        redrive: fc.record({ maxReceiveCount: fc.integer({ min: 1, max: 3 }), deadLetterQueue: fc.constantFrom(...dlqs.filter((d) => d !== queue)) }),
      },
      { requiredKeys: [] },
    )
    .map(({ redrive, ...rest }) => ({ ...rest, ...(redrive ?? {}) }));
};

const message = (fifo: boolean): fc.Arbitrary<EnqueueMessage> =>
  fc
    .record(
      {
        body: fc.uint8Array({ maxLength: 8 }),
        attributes: fc.dictionary(fc.constantFrom('k', 'x'), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
        delayMs: fc.constantFrom(0, 1500),
        dedupId: fc.constantFrom('d1', 'd2', 'd3'),
      },
      { requiredKeys: ['body'] },
    )
    .chain((m): fc.Arbitrary<EnqueueMessage> => {
      const { delayMs, dedupId, ...rest } = m;
      if (fifo) return fc.constantFrom('g1', 'g2', 'g3').map((groupId) => ({ ...rest, groupId, ...(dedupId === undefined ? {} : { dedupId }) }));
      return fc.constant({ ...rest, ...(delayMs === undefined ? {} : { delayMs }) });
    });

/** Tags from a small pool (merges collide), or runs of numbered keys (merges pass the 50-tag bound). */
const tags: fc.Arbitrary<Record<string, string>> = fc.oneof(
  fc.dictionary(fc.constantFrom('t1', 't2', 't3', '__proto__'), fc.constantFrom('', 'v', 'w'), { maxKeys: 3 }),
  fc
    .tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 35 }))
    .map(([start, n]) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${start + i}`, 'v']))),
);

/** Queue names; with `focus`, mostly that queue (e.g. FIFO-heavy histories). */
const queueNames = (focus: string | undefined): fc.Arbitrary<string> => {
  const any = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...allQueues.filter((q) => q !== 'missing')) },
    { weight: 1, arbitrary: fc.constant('missing') },
  );
  return focus === undefined ? any : fc.oneof({ weight: 1, arbitrary: any }, { weight: 3, arbitrary: fc.constant(focus) });
};

const userName = fc.constantFrom('alice', 'bob', 'carol@x', 'bad name');
const tokenId = fc.constantFrom('t001', 't002', 't003', 'T-bad');
const permission = fc.record({
  resource: fc.constantFrom('queue:*', 'queue:a', 'queue:orders-*', 'topic:x.*', 'group:g', 'cluster', 'queues:x'),
  actions: fc.subarray(['send', 'receive', 'consume', 'admin'] as const),
});
/** Principal commands: users, tokens (ids collide on purpose), expiries around the clock. */
const principalCommand: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ name: userName, permissions: fc.array(permission, { maxLength: 3 }) }).map((r): Command => ({ type: 'putUser', ...r })),
  userName.map((name): Command => ({ type: 'deleteUser', name })),
  fc
    .record({ user: userName, tokenId, hash: fc.constantFrom('a'.repeat(64), 'b'.repeat(64), 'nothex'), expiresAtMs: fc.constantFrom(0, 1, 1_700_000_010_000, 4_000_000_000_000) })
    .map((r): Command => ({ type: 'createToken', ...r })),
  fc.record({ user: userName, tokenId }).map((r): Command => ({ type: 'revokeToken', ...r })),
);

const command = (scale: number, queueName: fc.Arbitrary<string>, visibilityWeight: number): fc.Arbitrary<Step['cmd']> => fc.oneof(
  { weight: 2, arbitrary: principalCommand },
  { weight: 2, arbitrary: queueName.chain((queue) => attributes(queue).map((a): Command => ({ type: 'createQueue', queue, attributes: a }))) },
  { weight: 3, arbitrary: queueName.map((queue): Command => ({ type: 'createQueue', queue })) },
  { weight: 1, arbitrary: fc.tuple(queueName, tags).map(([queue, t]): Command => ({ type: 'createQueue', queue, tags: t })) },
  { weight: 2, arbitrary: fc.tuple(queueName, tags).map(([queue, t]): Command => ({ type: 'tagQueue', queue, tags: t })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(queueName, fc.array(fc.constantFrom('t1', 't2', '__proto__', 'k5', 'k20', 'nope'), { maxLength: 3 }))
      .map(([queue, keys]): Command => ({ type: 'untagQueue', queue, keys })),
  },
  { weight: 24, arbitrary: queueName.chain((queue) =>
      fc
        .record({
          messages: fc.array(message(queue.endsWith('.fifo')), { minLength: 1, maxLength: Math.min(100, 3 * scale) }),
          producerKey: fc.option(fc.oneof(fc.record({ idempotencyKey: fc.constantFrom('k1', 'k2') }), fc.record({ producerId: fc.constant('p'), sequence: fc.integer({ min: 0, max: 3 }) })), { nil: undefined }),
        })
        .map(({ messages, producerKey }): Command => ({ type: 'enqueue', queue, messages, ...(producerKey === undefined ? {} : { producerKey }) })),
    ) },
  { weight: 16, arbitrary: fc
      .record({ queue: queueName, max: fc.integer({ min: 1, max: Math.min(100, 4 * scale) }), visibilityTimeoutMs: fc.option(fc.constantFrom(0, 1000, 3000), { nil: undefined }) })
      .map(({ queue, max, visibilityTimeoutMs }): Command => ({ type: 'receive', queue, max, ...(visibilityTimeoutMs === undefined ? {} : { visibilityTimeoutMs }) })) },
  { weight: 10, arbitrary: fc.record({ queue: queueName, picks: fc.array(fc.nat(), { minLength: 1, maxLength: Math.min(100, 3 * scale) }) }).map((r) => ({ type: 'ackPick' as const, ...r })) },
  { weight: visibilityWeight, arbitrary: fc.record({ queue: queueName, pick: fc.nat(), visibilityTimeoutMs: fc.constantFrom(0, 1000, 10_000) }).map((r) => ({ type: 'visibilityPick' as const, ...r })) },
  { weight: 1, arbitrary: queueName.chain((queue) => attributes(queue).map((a): Command => ({ type: 'setQueueAttributes', queue, attributes: a }))) },
  { weight: 3, arbitrary: fc.constantFrom('dlq', 'fdlq.fifo', 'a').map((queue): Command => ({ type: 'redrive', queue })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('dlq', 'fdlq.fifo', 'a'), fc.constantFrom('a', 'b', 'dlq', 'f.fifo', 'fdlq.fifo', 'missing'))
      .map(([queue, destination]): Command => ({ type: 'redrive', queue, destination })),
  },
  { weight: 1, arbitrary: queueName.map((queue): Command => ({ type: 'purgeQueue', queue })) },
  { weight: 1, arbitrary: queueName.map((queue): Command => ({ type: 'deleteQueue', queue })) },
  { weight: 3, arbitrary: fc.constant<Command>({ type: 'expire' }) },
);

const dtMs = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 1, 500, 1000, 2000) },
  { weight: 2, arbitrary: fc.constantFrom(5000, 30_000, 90_000, 301_000) },
  { weight: 1, arbitrary: fc.constantFrom(-3000, -1) },
);

/** Queues every history starts with (a, f.fifo with redrive policies), so most commands hit a queue. */
export function setupSteps(maxReceiveCount: number, visibilityTimeoutMs: number): Step[] {
  const cmds: Command[] = [
    { type: 'createQueue', queue: 'dlq' },
    { type: 'createQueue', queue: 'fdlq.fifo' },
    { type: 'createQueue', queue: 'a', attributes: { visibilityTimeoutMs, maxReceiveCount, deadLetterQueue: 'dlq' } },
    { type: 'createQueue', queue: 'b', attributes: { retentionMs: 60_000 } },
    { type: 'createQueue', queue: 'f.fifo', attributes: { visibilityTimeoutMs, maxReceiveCount, deadLetterQueue: 'fdlq.fifo' } },
  ];
  return cmds.map((cmd) => ({ cmd, dtMs: 0 }));
}

const setup = fc
  .record({ maxReceiveCount: fc.integer({ min: 1, max: 3 }), visibilityTimeoutMs: fc.constantFrom(0, 1000, 5000) })
  .map(({ maxReceiveCount, visibilityTimeoutMs }) => setupSteps(maxReceiveCount, visibilityTimeoutMs));

/**
 * A history of steps: the setup, then up to maxLength random steps. `scale` multiplies batch
 * sizes (enqueue, receive, ack) to reach the index's compaction and rebuild paths; `focus`, a
 * queue name, makes three commands in four go to that queue and visibility changes four times
 * as frequent (a FIFO group's head visible again while a later message is leased).
 */
export const history = (maxLength: number, scale = 1, focus?: string): fc.Arbitrary<Step[]> =>
  fc
    .tuple(setup, fc.array(fc.record({ cmd: command(scale, queueNames(focus), focus === undefined ? 5 : 20), dtMs }), { minLength: 1, maxLength, size: 'max' }))
    .map(([head, tail]) => [...head, ...tail]);

/** Turns steps into concrete commands, choosing receipts from those issued so far. */
export class StepResolver {
  /** Receipts returned by receives so far, with their queue. */
  readonly #receipts: Array<{ queue: string; receipt: string }> = [];
  #stampMs = 1_700_000_000_000;

  /** `window`: how many of the latest receipts acks and visibility changes choose from. */
  constructor(readonly window = 8) {}

  /** The concrete command and entry stamp for a step. */
  resolve(step: Step): { cmd: Command; nowMs: number } {
    this.#stampMs += step.dtMs;
    const c = step.cmd;
    if (c.type === 'ackPick' || c.type === 'visibilityPick') {
      if (this.#receipts.length === 0) return { cmd: { type: 'receive', queue: c.queue, max: 1 }, nowMs: this.#stampMs };
      // Odd picks choose among the latest receipts of any queue (often 'gone' here), even picks
      // among the latest of the command's own queue when it has any, so that acks and visibility
      // changes often hit messages in flight (e.g. one of a FIFO group's several leases).
      const own = this.#receipts.filter((r) => r.queue === c.queue);
      const pick = (n: number): string => {
        const from = n % 2 === 0 && own.length > 0 ? own : this.#receipts;
        return from[from.length - 1 - (Math.floor(n / 2) % Math.min(this.window, from.length))]!.receipt;
      };
      const cmd: Command =
        c.type === 'ackPick'
          ? { type: 'ack', queue: c.queue, receipts: c.picks.map(pick) }
          : { type: 'changeVisibility', queue: c.queue, receipt: pick(c.pick), visibilityTimeoutMs: c.visibilityTimeoutMs };
      return { cmd, nowMs: this.#stampMs };
    }
    return { cmd: c, nowMs: this.#stampMs };
  }

  /** Remembers the receipts of a receive result. */
  observe(queue: string, receipts: readonly string[]): void {
    for (const receipt of receipts) this.#receipts.push({ queue, receipt });
  }
}

/**
 * A history on FIFO queue f.fifo alone (after the setup): small enqueues to two groups, receives
 * of up to 5 with short leases, acks, and visibility changes of recent receipts, mostly nacks
 * and extensions; so a group's head is often visible again (nack or expiry) while a later message
 * of it is still leased, and the group must stay blocked.
 */
export const fifoLeaseHistory = (maxLength: number): fc.Arbitrary<Step[]> => {
  const queue = 'f.fifo';
  const cmd: fc.Arbitrary<Step['cmd']> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .array(fc.record({ body: fc.uint8Array({ maxLength: 2 }), groupId: fc.constantFrom('g1', 'g2') }), { minLength: 1, maxLength: 4 })
        .map((messages): Command => ({ type: 'enqueue', queue, messages })),
    },
    {
      weight: 4,
      arbitrary: fc
        .record({ max: fc.integer({ min: 1, max: 5 }), visibilityTimeoutMs: fc.constantFrom(0, 1000, 3000) })
        .map(({ max, visibilityTimeoutMs }): Command => ({ type: 'receive', queue, max, visibilityTimeoutMs })),
    },
    { weight: 2, arbitrary: fc.array(fc.nat({ max: 7 }), { minLength: 1, maxLength: 2 }).map((picks) => ({ type: 'ackPick' as const, queue, picks: picks.map((p) => p * 2) })) },
    {
      weight: 4,
      arbitrary: fc
        .record({ pick: fc.nat({ max: 7 }), visibilityTimeoutMs: fc.constantFrom(0, 0, 1000, 10_000) })
        .map(({ pick, visibilityTimeoutMs }) => ({ type: 'visibilityPick' as const, queue, pick: pick * 2, visibilityTimeoutMs })),
    },
    { weight: 1, arbitrary: fc.constant<Command>({ type: 'setQueueAttributes', queue, attributes: { delayMs: 0 } }) },
    { weight: 1, arbitrary: fc.constant<Command>({ type: 'setQueueAttributes', queue, attributes: { delayMs: 1500 } }) },
  );
  return fc
    .tuple(setup, fc.array(fc.record({ cmd, dtMs: fc.constantFrom(0, 0, 300, 1000, 2000) }), { minLength: 1, maxLength, size: 'max' }))
    .map(([head, tail]) => [...head, ...tail]);
};
