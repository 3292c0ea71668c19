/**
 * Fuzz target 1, HTTP bodies: the body reader of the HTTP API (src/api/http-body.ts readJsonBody,
 * fed a real IncomingMessage carrying arbitrary bytes in random chunks, with honest, lying or
 * no Content-Length) and the schema validators every body then goes through
 * (src/api/request-schemas.ts parse*, decodeBase64; src/api/auth/user-routes.ts
 * parsePermissions) on arbitrary JSON values and objects made of the real field names. Every
 * call returns or throws a RaftqError with a catalogued code (INVALID_ARGUMENT or TOO_LARGE),
 * never a TypeError, RangeError or anything else. Then "no change of state": the queue command
 * each route would build from a body is applied to a real QueueStateMachine
 * (test/queue/harness.ts); whatever the op layer's checkCommand or the state machine refuses
 * leaves the store's keyspace byte for byte as it was.
 * Seed and case count: test/fuzz/fuzz-config.ts (RAFTQ_FUZZ_SEED, RAFTQ_FUZZ_RUNS).
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePermissions } from '../../src/api/auth/user-routes.js';
import { readJsonBody } from '../../src/api/http-body.js';
import {
  decodeBase64,
  parseAck,
  parseAttributes,
  parseChangeVisibility,
  parseCreateQueue,
  parseEnqueue,
  parseNack,
  parseReceive,
  parseRedrive,
  parseTagQueue,
  parseUntagQueue,
} from '../../src/api/request-schemas.js';
import { checkCommand } from '../../src/api/queue-ops.js';
import { RaftqError } from '../../src/errors.js';
import type { Command } from '../../src/queue/index.js';
import { Harness, utf8 } from '../queue/harness.js';
import { fuzzOptions, fuzzRuns, fuzzTimeoutMs, Outcomes } from './fuzz-config.js';
import { splitAt } from './mutate.js';

/** Every body parser of the HTTP API, by name. */
const parsers: ReadonlyArray<readonly [string, (v: unknown) => unknown]> = [
  ['parseAttributes', parseAttributes],
  ['parseCreateQueue', parseCreateQueue],
  ['parseTagQueue', parseTagQueue],
  ['parseUntagQueue', parseUntagQueue],
  ['parseRedrive', parseRedrive],
  ['parseEnqueue', parseEnqueue],
  ['parseReceive', parseReceive],
  ['parseAck', parseAck],
  ['parseNack', parseNack],
  ['parseChangeVisibility', parseChangeVisibility],
  ['parsePermissions', parsePermissions],
  ['decodeBase64', (v) => decodeBase64(typeof v === 'string' ? v : JSON.stringify(v) ?? '', 'value')],
];

/** The codes an HTTP body may be refused with before it reaches the op layer. */
const bodyCodes = new Set(['INVALID_ARGUMENT', 'TOO_LARGE']);

/** Runs `f`; records how it ended; rethrows anything but a RaftqError with a body code. */
function typed(label: string, f: () => unknown, out: Outcomes): void {
  try {
    f();
    out.add(`accepted:${label}`);
  } catch (e) {
    if (!(e instanceof RaftqError) || !bodyCodes.has(e.code)) throw e;
    out.add(`refused:${label}:${e.code}`);
  }
}

/** Every field name the parsers know, so random objects hit the real branches. */
const fieldNames = [
  'visibilityTimeoutMs', 'delayMs', 'retentionMs', 'maxMessageBytes', 'maxReceiveCount', 'deadLetterQueue', 'fifo',
  'contentBasedDeduplication', 'receiveWaitTimeMs', 'redriveAllowPolicy', 'tags', 'keys', 'destination', 'body', 'bodyBase64',
  'groupId', 'dedupId', 'attributes', 'messages', 'max', 'waitMs', 'receipt', 'receipts', 'permissions', 'resource', 'actions',
  '__proto__', 'constructor', 'toString',
] as const;

/** A value of a kind the parsers check for, or something else. */
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -0, 1e308, '', 'aGk=', 'a b', 'send', 'receive', '*', 'q', '{}'),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 12 }),
  fc.base64String({ maxLength: 16 }),
);

/** JSON-like values built from the real field names (nested: messages of messages, permission lists...). */
const shaped: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; obj: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('obj'), fc.array(tie('value'), { maxLength: 3 })),
  obj: fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...fieldNames), fc.string({ maxLength: 4 })), tie('value')), { maxLength: 5 })
    .map((kvs) => {
      const o: Record<string, unknown> = {};
      // defineProperty, as JSON.parse does: "__proto__" stays an own key.
      for (const [k, v] of kvs) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      return o;
    }),
})).value;

const str = fc.string({ maxLength: 8 });
const int = fc.oneof(fc.constantFrom(0, 1, -1, 2 ** 31, Number.MAX_SAFE_INTEGER), fc.integer());
const strMap = fc.dictionary(fc.oneof(str, fc.constant('__proto__')), str, { maxKeys: 3 });
const message = fc.record(
  { body: str, delayMs: int, groupId: str, dedupId: str, attributes: fc.dictionary(str, str, { maxKeys: 2 }) },
  { requiredKeys: ['body'] },
);
const attributes = fc.record(
  { visibilityTimeoutMs: int, delayMs: int, retentionMs: int, maxMessageBytes: int, maxReceiveCount: int, receiveWaitTimeMs: int, deadLetterQueue: str, fifo: fc.boolean(), contentBasedDeduplication: fc.boolean(), redriveAllowPolicy: str },
  { requiredKeys: [] },
);

/** A body that one of the parsers accepts as it is. */
const validBody: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  attributes,
  fc.record({ attributes, tags: strMap }).map(({ attributes: a, tags }) => ({ ...a, tags })),
  fc.record({ tags: strMap }),
  fc.record({ keys: fc.array(str, { maxLength: 3 }) }),
  fc.record({ destination: str }, { requiredKeys: [] }),
  message,
  fc.record({ bodyBase64: fc.base64String({ maxLength: 16 }) }),
  fc.record({ messages: fc.array(message, { maxLength: 3 }) }),
  fc.record({ max: int, waitMs: int, visibilityTimeoutMs: int }, { requiredKeys: [] }),
  fc.record({ receipt: str }),
  fc.record({ receipts: fc.array(str, { maxLength: 3 }) }),
  fc.record({ receipt: str, delayMs: int }, { requiredKeys: ['receipt'] }),
  fc.record({ receipt: str, visibilityTimeoutMs: int }),
  fc.record({ permissions: fc.array(fc.record({ resource: str, actions: fc.subarray(['send', 'receive', 'consume', 'admin', 'x']) }), { maxLength: 2 }) }),
);

/** A valid body with one field's value replaced, or one field added (mostly a near miss). */
const nearMiss: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(validBody, fc.nat(), fc.constantFrom(...fieldNames), leaf, fc.boolean())
  .map(([body, pick, name, value, replace]) => {
    const keys = Object.keys(body);
    const key = replace && keys.length > 0 ? (keys[pick % keys.length] ?? name) : name;
    const o: Record<string, unknown> = { ...body };
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
    return o;
  });

/** A request body: JSON text of a shaped or arbitrary value, JSON-ish junk, or arbitrary bytes. */
const bodyBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: validBody.map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 3, arbitrary: nearMiss.map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 2, arbitrary: shaped.map((v) => Buffer.from(JSON.stringify(v) ?? '')) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? '')) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '1', 'e', '\\', 'u', 'n', ' ') , maxLength: 24 }).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
);

/** A real IncomingMessage whose body is `chunks`, with the given Content-Length header. */
function request(chunks: readonly Uint8Array[], contentLength: string | undefined): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  if (contentLength !== undefined) req.headers['content-length'] = contentLength;
  for (const c of chunks) if (c.length > 0) req.push(Buffer.from(c));
  req.push(null);
  return req;
}

describe('fuzz: HTTP bodies', () => {
  it(
    'httpBodiesNeverCrash: readJsonBody then every schema parser returns or throws INVALID_ARGUMENT / TOO_LARGE',
    async () => {
      const out = new Outcomes();
      const contentLength = fc.oneof(fc.constant('honest'), fc.constant(undefined), fc.constantFrom('0', '-1', 'abc', '1e9', '99999999999999999999', ''));
      await fc.assert(
        fc.asyncProperty(bodyBytes, fc.array(fc.nat(), { maxLength: 4 }), contentLength, fc.integer({ min: 1, max: 400 }), async (body, cuts, cl, bytesMax) => {
          const req = request(splitAt(body, cuts), cl === 'honest' ? String(body.length) : cl);
          let parsed: unknown;
          let read = false;
          try {
            parsed = await readJsonBody(req, bytesMax);
            read = true;
            out.add('accepted:read');
          } catch (e) {
            if (!(e instanceof RaftqError) || !bodyCodes.has(e.code)) throw e;
            out.add(`refused:read:${e.code}`);
          }
          if (read) for (const [name, parse] of parsers) typed(name, () => parse(parsed), out);
        }),
        fuzzOptions(),
      );
      out.expectBothWays();
      expect(out.count('refused:read:TOO_LARGE'), out.summary()).toBeGreaterThan(0);
      expect(out.count('refused:read:INVALID_ARGUMENT'), out.summary()).toBeGreaterThan(0);
      for (const [name] of parsers) expect(out.count(`accepted:${name}`), `${name}: ${out.summary()}`).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  it(
    'httpSchemasNeverCrash: the schema parsers on arbitrary values (not only JSON) return or throw INVALID_ARGUMENT',
    () => {
      const out = new Outcomes();
      const value = fc.oneof(validBody, nearMiss, shaped, fc.anything({ maxDepth: 2, withObjectString: true, withNullPrototype: true, withMap: true, withSet: true }));
      fc.assert(
        fc.property(value, (v) => {
          for (const [name, parse] of parsers) typed(name, () => parse(v), out);
        }),
        fuzzOptions(),
      );
      out.expectBothWays();
      expect(out.count('accepted:parseEnqueue'), out.summary()).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  it(
    'httpCommandsNoChangeOfState: the commands HTTP bodies become are refused by the op layer or the state machine without touching the store',
    () => {
      const out = new Outcomes();
      const queue = fc.constantFrom('jobs', 'dlq', 'orders.fifo', 'missing', 'bad name', '', 'x'.repeat(81));
      const routes = ['createQueue', 'setQueueAttributes', 'tagQueue', 'untagQueue', 'enqueue', 'receive', 'ack', 'nack', 'changeVisibility', 'redrive'] as const;
      fc.assert(
        fc.property(queue, fc.oneof(validBody, nearMiss, shaped), (q, body) => {
          const h = new Harness();
          h.ok({ type: 'createQueue', queue: 'dlq' });
          h.ok({ type: 'createQueue', queue: 'jobs', attributes: { maxReceiveCount: 3, deadLetterQueue: 'dlq' } });
          h.ok({ type: 'createQueue', queue: 'orders.fifo', attributes: { fifo: true } });
          h.ok({ type: 'enqueue', queue: 'jobs', messages: [{ body: utf8('a') }] });
          // The body as every route would take it, each command applied in turn to the same state machine.
          for (const r of routes) {
            let cmd: Command;
            try {
              cmd = commandOf(r, q, body);
            } catch (e) {
              if (!(e instanceof RaftqError) || e.code !== 'INVALID_ARGUMENT') throw e;
              out.add('refused:parse');
              continue;
            }
            let checked = true;
            try {
              checkCommand(cmd);
            } catch (e) {
              if (!(e instanceof RaftqError) || e.code !== 'INVALID_ARGUMENT') throw e;
              checked = false;
            }
            const before = h.store.fingerprint();
            const result = h.apply(cmd);
            // The op layer's check is a subset of the state machine's: what it refuses is refused at apply too.
            if (!checked) expect(result.ok, `${cmd.type} passed apply after checkCommand refused it`).toBe(false);
            if (result.ok) out.add(`accepted:${cmd.type}`);
            else {
              out.add(`refused:${cmd.type}:${checked ? 'state' : 'check'}`);
              expect(h.store.fingerprint(), `${cmd.type} refused with ${result.code} changed the store`).toBe(before);
            }
          }
        }),
        fuzzOptions(Math.ceil(fuzzRuns / 2)),
      );
      out.expectBothWays();
      expect(out.countPrefix('accepted:enqueue'), out.summary()).toBeGreaterThan(0);
      expect(out.countPrefix('accepted:receive'), out.summary()).toBeGreaterThan(0);
      expect(out.count('refused:enqueue:state') + out.count('refused:changeVisibility:state') + out.count('refused:ack:state'), out.summary()).toBeGreaterThan(0);
      expect(out.count('refused:enqueue:check') + out.count('refused:receive:check'), out.summary()).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );
});

/** The queue command the HTTP route `route` on queue `queue` proposes for `body` (as http-server.ts builds it). */
function commandOf(route: string, queue: string, body: unknown): Command {
  switch (route) {
    case 'createQueue': {
      const { attributes, tags } = parseCreateQueue(body);
      return tags === undefined ? { type: 'createQueue', queue, attributes } : { type: 'createQueue', queue, attributes, tags };
    }
    case 'setQueueAttributes':
      return { type: 'setQueueAttributes', queue, attributes: parseAttributes(body) };
    case 'tagQueue':
      return { type: 'tagQueue', queue, tags: parseTagQueue(body) };
    case 'untagQueue':
      return { type: 'untagQueue', queue, keys: parseUntagQueue(body) };
    case 'enqueue':
      return { type: 'enqueue', queue, messages: parseEnqueue(body).messages };
    case 'receive': {
      const r = parseReceive(body);
      return r.visibilityTimeoutMs === undefined ? { type: 'receive', queue, max: r.max } : { type: 'receive', queue, max: r.max, visibilityTimeoutMs: r.visibilityTimeoutMs };
    }
    case 'ack':
      return { type: 'ack', queue, receipts: parseAck(body).receipts };
    case 'nack': {
      const n = parseNack(body);
      return { type: 'changeVisibility', queue, receipt: n.receipt, visibilityTimeoutMs: n.delayMs };
    }
    case 'changeVisibility': {
      const c = parseChangeVisibility(body);
      return { type: 'changeVisibility', queue, receipt: c.receipt, visibilityTimeoutMs: c.visibilityTimeoutMs };
    }
    default:
      return { type: 'redrive', queue, ...parseRedrive(body) };
  }
}
