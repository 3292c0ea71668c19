import { createInterface } from 'node:readline';
import type { Message } from '../client/message.js';
import type { BatchEntry, QueueAttributes, QueueInfo } from '../client/types.js';
import { UsageError, intFlag, optionalIntFlag, queueArg, stringFlag, type CommandSpec, type ParsedArgs } from './cli-args.js';
import { out, withClient, type CliCommand } from './client-session.js';

const jsonFlag = { json: { type: 'boolean' } } as const;

// ---- create / delete / purge / queues / stats ----

const createSpec: CommandSpec = {
  usage: `usage: raftq create QUEUE [flags]

Creates a queue (a name ending in .fifo makes a FIFO queue). Creating a queue that exists with
the same attributes succeeds; with other attributes it fails with QUEUE_EXISTS.

flags:
  --visibility-timeout MS   lease of a received message (default 30000)
  --delay MS                delay before a new message becomes visible (default 0)
  --retention MS            how long messages are kept (default 4 days)
  --max-message-bytes N     largest body (default 262144)
  --max-receive-count N     receives before a message moves to the dead-letter queue
  --dead-letter-queue NAME  the dead-letter queue (needs --max-receive-count)`,
  flags: {
    'visibility-timeout': { type: 'string' },
    delay: { type: 'string' },
    retention: { type: 'string' },
    'max-message-bytes': { type: 'string' },
    'max-receive-count': { type: 'string' },
    'dead-letter-queue': { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
};

function attributesOf(args: ParsedArgs, spec: CommandSpec): QueueAttributes {
  const a: { -readonly [K in keyof QueueAttributes]: QueueAttributes[K] } = {};
  const ints: Array<[string, 'visibilityTimeoutMs' | 'delayMs' | 'retentionMs' | 'maxMessageBytes' | 'maxReceiveCount']> = [
    ['visibility-timeout', 'visibilityTimeoutMs'],
    ['delay', 'delayMs'],
    ['retention', 'retentionMs'],
    ['max-message-bytes', 'maxMessageBytes'],
    ['max-receive-count', 'maxReceiveCount'],
  ];
  for (const [flag, key] of ints) {
    const v = optionalIntFlag(args, spec, flag, 0, Number.MAX_SAFE_INTEGER);
    if (v !== undefined) a[key] = v;
  }
  const dlq = stringFlag(args, 'dead-letter-queue');
  if (dlq !== undefined) a.deadLetterQueue = dlq;
  return a;
}

const create: CliCommand = {
  summary: 'create a queue',
  spec: createSpec,
  run: (args) =>
    withClient(args, createSpec, async (c) => {
      const name = queueArg(args, createSpec);
      const q = await c.createQueue(name, attributesOf(args, createSpec));
      out(q.created ? `created queue ${q.name}` : `queue ${q.name} already exists with these attributes`);
      return 0;
    }),
};

function simpleQueueSpec(usage: string): CommandSpec {
  return { usage, flags: {}, positionals: { min: 1, max: 1 } };
}

const deleteSpec = simpleQueueSpec('usage: raftq delete QUEUE\n\nDeletes a queue and every message in it.');
const del: CliCommand = {
  summary: 'delete a queue and its messages',
  spec: deleteSpec,
  run: (args) =>
    withClient(args, deleteSpec, async (c) => {
      const name = queueArg(args, deleteSpec);
      const res = await c.deleteQueue(name);
      out(`deleted queue ${name} (${res.deletedMessages} messages)`);
      return 0;
    }),
};

const purgeSpec = simpleQueueSpec('usage: raftq purge QUEUE\n\nDeletes every message of a queue; the queue stays.');
const purge: CliCommand = {
  summary: 'delete every message of a queue',
  spec: purgeSpec,
  run: (args) =>
    withClient(args, purgeSpec, async (c) => {
      const name = queueArg(args, purgeSpec);
      const res = await c.purgeQueue(name);
      out(`purged ${res.purgedMessages} messages from ${name}`);
      return 0;
    }),
};

const queuesSpec: CommandSpec = {
  usage: 'usage: raftq queues [--json]\n\nLists every queue with its message counts (a linearizable read).',
  flags: jsonFlag,
  positionals: { min: 0, max: 0 },
};
const queues: CliCommand = {
  summary: 'list queues',
  spec: queuesSpec,
  run: (args) =>
    withClient(args, queuesSpec, async (c) => {
      const list = await c.listQueues();
      if (args.values['json'] === true) {
        out(JSON.stringify(list));
        return 0;
      }
      if (list.length === 0) {
        out('no queues (create one with `raftq create QUEUE`)');
        return 0;
      }
      const rows = list.map((q) => [q.name, String(q.stats.visible), String(q.stats.inFlight), String(q.stats.delayed), ageText(q.stats.oldestMessageAgeMs)]);
      out(table(['QUEUE', 'VISIBLE', 'IN-FLIGHT', 'DELAYED', 'OLDEST'], rows));
      return 0;
    }),
};

const statsSpec: CommandSpec = {
  usage: 'usage: raftq stats QUEUE [--json]\n\nShows a queue\'s attributes and message counts (a linearizable read).',
  flags: jsonFlag,
  positionals: { min: 1, max: 1 },
};
const stats: CliCommand = {
  summary: "show a queue's attributes and counts",
  spec: statsSpec,
  run: (args) =>
    withClient(args, statsSpec, async (c) => {
      const q = await c.getQueue(queueArg(args, statsSpec));
      if (args.values['json'] === true) out(JSON.stringify(q));
      else out(describeQueue(q));
      return 0;
    }),
};

function describeQueue(q: QueueInfo): string {
  const a = q.attributes;
  const s = q.stats;
  return [
    `queue              ${q.name}${a.fifo ? ' (FIFO)' : ''}`,
    `visible            ${s.visible}`,
    `in flight          ${s.inFlight}`,
    `delayed            ${s.delayed}`,
    `oldest message     ${ageText(s.oldestMessageAgeMs)}`,
    `dead-lettered      ${s.deadLettered}`,
    `visibility timeout ${a.visibilityTimeoutMs} ms`,
    `delay              ${a.delayMs} ms`,
    `retention          ${a.retentionMs} ms`,
    `max message bytes  ${a.maxMessageBytes}`,
    `redrive policy     ${a.deadLetterQueue === '' ? 'none' : `${a.deadLetterQueue} after ${a.maxReceiveCount} receives`}`,
    `created            ${new Date(q.createdAtMs).toISOString()}`,
  ].join('\n');
}

// ---- send ----

const sendSpec: CommandSpec = {
  usage: `usage: raftq send QUEUE [BODY | -] [flags]

Sends BODY as one message. Without BODY (or with -), every line of standard input becomes a
message (sent in batches of up to 100). Each send is acknowledged once a majority of nodes
has it on disk; retries are deduplicated.

flags:
  --group ID               FIFO message group (FIFO queues)
  --dedup-id ID            FIFO deduplication id (one message only)
  --delay MS               per-message delay (standard queues)
  --attr KEY=VALUE         message attribute (repeatable)
  --idempotency-key KEY    deduplicate this send across retries and clients (one message only)`,
  flags: {
    group: { type: 'string' },
    'dedup-id': { type: 'string' },
    delay: { type: 'string' },
    attr: { type: 'string', multiple: true },
    'idempotency-key': { type: 'string' },
  },
  positionals: { min: 1, max: 2 },
};

/** Lines per sendBatch: the cluster's limit of messages per enqueue. */
const linesPerBatchMax = 100;

const send: CliCommand = {
  summary: 'send a message (or one per line of stdin)',
  spec: sendSpec,
  run: async (args) => {
    const queue = queueArg(args, sendSpec);
    const body = args.positionals[1];
    const options = messageOptionsOf(args);
    const key = stringFlag(args, 'idempotency-key');
    if (body === undefined || body === '-') {
      if (body === undefined && process.stdin.isTTY === true) throw new UsageError('missing BODY (or pipe lines into standard input, or pass -)', sendSpec.usage);
      if (key !== undefined || options.dedupId !== undefined) throw new UsageError('--idempotency-key and --dedup-id apply to one message only, not to stdin lines', sendSpec.usage);
      return withClient(args, sendSpec, async (c) => {
        let sent = 0;
        let batch: BatchEntry[] = [];
        const flush = async (): Promise<void> => {
          if (batch.length === 0) return;
          const res = await c.sendBatch(queue, batch);
          sent += res.messages.length;
          batch = [];
        };
        for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
          batch.push({ ...options, body: line });
          if (batch.length >= linesPerBatchMax) await flush();
        }
        await flush();
        out(`sent ${sent} messages to ${queue}`);
        return 0;
      });
    }
    return withClient(args, sendSpec, async (c) => {
      const res = await c.send(queue, body, { ...options, ...(key !== undefined ? { idempotencyKey: key } : {}) });
      out(`sent ${res.id} (offset ${res.offset})${res.duplicate ? ' [duplicate: already sent]' : ''}`);
      return 0;
    });
  },
};

function messageOptionsOf(args: ParsedArgs): Omit<BatchEntry, 'body'> {
  const o: { -readonly [K in keyof Omit<BatchEntry, 'body'>]: Omit<BatchEntry, 'body'>[K] } = {};
  const group = stringFlag(args, 'group');
  if (group !== undefined) o.groupId = group;
  const dedup = stringFlag(args, 'dedup-id');
  if (dedup !== undefined) o.dedupId = dedup;
  const delay = optionalIntFlag(args, sendSpec, 'delay', 0, Number.MAX_SAFE_INTEGER);
  if (delay !== undefined) o.delayMs = delay;
  const attrs = args.values['attr'];
  if (Array.isArray(attrs)) {
    const out: Record<string, string> = {};
    for (const kv of attrs) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError(`--attr must be KEY=VALUE, got "${kv}"`, sendSpec.usage);
      out[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    o.attributes = out;
  }
  return o;
}

// ---- receive / ack / nack / redrive ----

const receiveSpec: CommandSpec = {
  usage: `usage: raftq receive QUEUE [--max N] [--wait MS] [--visibility-timeout MS] [--ack]

Receives up to N messages and prints one JSON object per line: id, offset, receipt,
receiveCount, enqueuedAt, body (or bodyBase64 when not UTF-8), attributes. Received messages
stay invisible for their visibility timeout; ack them with \`raftq ack QUEUE RECEIPT\`, or pass --ack.

flags:
  --max N                  messages to receive at most, 1..100 (default 1)
  --wait MS                wait up to MS for a message when none is visible, 0..20000 (default 0)
  --visibility-timeout MS  lease of the received messages (default: the queue's)
  --ack                    delete the messages once printed`,
  flags: { max: { type: 'string' }, wait: { type: 'string' }, 'visibility-timeout': { type: 'string' }, ack: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
};

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

function messageJson(m: Message): Record<string, unknown> {
  let text: string | undefined;
  try {
    text = fatalUtf8.decode(m.body);
  } catch {
    text = undefined;
  }
  return {
    id: m.id,
    offset: m.offset,
    receipt: m.receipt,
    receiveCount: m.receiveCount,
    enqueuedAt: new Date(m.enqueuedAtMs).toISOString(),
    ...(text !== undefined ? { body: text } : { bodyBase64: Buffer.from(m.body).toString('base64') }),
    ...(Object.keys(m.attributes).length > 0 ? { attributes: m.attributes } : {}),
    ...(m.groupId !== '' ? { groupId: m.groupId } : {}),
  };
}

const receive: CliCommand = {
  summary: 'receive messages (prints JSON lines)',
  spec: receiveSpec,
  run: (args) => {
    const queue = queueArg(args, receiveSpec);
    const max = intFlag(args, receiveSpec, 'max', 1, 1, 100);
    const waitMs = intFlag(args, receiveSpec, 'wait', 0, 0, 20_000);
    const vis = optionalIntFlag(args, receiveSpec, 'visibility-timeout', 0, Number.MAX_SAFE_INTEGER);
    return withClient(args, receiveSpec, async (c) => {
      const messages = await c.receive(queue, { max, waitMs, ...(vis !== undefined ? { visibilityTimeoutMs: vis } : {}) });
      for (const m of messages) out(JSON.stringify(messageJson(m)));
      if (args.values['ack'] === true) await Promise.all(messages.map((m) => m.ack()));
      if (messages.length === 0) process.stderr.write(`no messages in ${queue}\n`);
      return 0;
    });
  },
};

const ackSpec: CommandSpec = { usage: 'usage: raftq ack QUEUE RECEIPT\n\nDeletes a received message by its receipt.', flags: {}, positionals: { min: 2, max: 2 } };
const ack: CliCommand = {
  summary: 'delete a received message',
  spec: ackSpec,
  run: (args) =>
    withClient(args, ackSpec, async (c) => {
      await c.ack(queueArg(args, ackSpec), args.positionals[1]!);
      out('acked');
      return 0;
    }),
};

const nackSpec: CommandSpec = {
  usage: 'usage: raftq nack QUEUE RECEIPT [--delay MS]\n\nReturns a received message to the queue, visible again after MS (default 0).',
  flags: { delay: { type: 'string' } },
  positionals: { min: 2, max: 2 },
};
const nack: CliCommand = {
  summary: 'return a received message to the queue',
  spec: nackSpec,
  run: (args) => {
    const delayMs = intFlag(args, nackSpec, 'delay', 0, 0, Number.MAX_SAFE_INTEGER);
    return withClient(args, nackSpec, async (c) => {
      await c.nack(queueArg(args, nackSpec), args.positionals[1]!, { delayMs });
      out('nacked');
      return 0;
    });
  },
};

const redriveSpec = simpleQueueSpec('usage: raftq redrive QUEUE\n\nMoves every message of the dead-letter queue QUEUE back to its source queue.');
const redrive: CliCommand = {
  summary: 'move dead-lettered messages back to their source queue',
  spec: redriveSpec,
  run: (args) =>
    withClient(args, redriveSpec, async (c) => {
      const name = queueArg(args, redriveSpec);
      const res = await c.redrive(name);
      out(`moved ${res.moved} messages out of ${name}`);
      return 0;
    }),
};

/** The queue commands, by name. */
export const queueCommands: Readonly<Record<string, CliCommand>> = { create, delete: del, purge, queues, stats, send, receive, ack, nack, redrive };

/** A left-aligned text table. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function ageText(ms: number): string {
  if (ms === 0) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
