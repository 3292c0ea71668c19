/**
 * Fuzz target 2a, SQS requests: the SQS wire door (src/api/sqs/sqs-request.ts parseSqsCall, both
 * protocols, with sqs-form.ts and sqs-query-input.ts), the input readers every action runs on
 * what parses (sqs-input.ts, sqs-names.ts queueNameOfUrl, sqs-queue-attributes.ts
 * parseQueueAttributes, sqs-message-attributes.ts storeMessageAttributes) and SigV4
 * verification (sqs-sigv4.ts) on random Authorization headers, dates, presigned query strings
 * and mutated signed requests. Only SqsError may come out. The action layer's "no change of
 * state" is sqs-actions.test.ts.
 * Seed and case count: test/fuzz/fuzz-config.ts (RAFTQ_FUZZ_SEED, RAFTQ_FUZZ_RUNS).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqsError } from '../../src/api/sqs/sqs-errors.js';
import { batchEntries, optionalInt, optionalObjectMap, optionalString, optionalStringList, optionalStringMap, requiredString, type SqsInput } from '../../src/api/sqs/sqs-input.js';
import { storeMessageAttributes } from '../../src/api/sqs/sqs-message-attributes.js';
import { queueNameOfUrl } from '../../src/api/sqs/sqs-names.js';
import { parseQueueAttributes } from '../../src/api/sqs/sqs-queue-attributes.js';
import { looksLikeSqs, parseSqsCall, type SqsHttpRequest } from '../../src/api/sqs/sqs-request.js';
import { verifySigV4 } from '../../src/api/sqs/sqs-sigv4.js';
import { KEYS, NOW, signer } from '../api/sqs/sdk-signer.js';
import { fuzzOptions, fuzzTimeoutMs, Outcomes } from './fuzz-config.js';
import { identity, sqsRequest } from './sqs-fuzz-inputs.js';

/** Runs `f`; records how it ended; rethrows anything but an SqsError. */
function sqsOnly<T>(label: string, f: () => T, out: Outcomes): T | undefined {
  try {
    const v = f();
    out.add(`accepted:${label}`);
    return v;
  } catch (e) {
    if (!(e instanceof SqsError)) throw e;
    out.add(`refused:${label}:${e.code}`);
    return undefined;
  }
}

/** Every input reader an action may run on `input`, each on its own. */
function readInput(input: SqsInput, out: Outcomes): void {
  const url = sqsOnly('QueueUrl', () => requiredString(input, 'QueueUrl'), out);
  const queue = url === undefined ? undefined : sqsOnly('queueNameOfUrl', () => queueNameOfUrl(identity, url), out);
  const name = sqsOnly('QueueName', () => optionalString(input, 'QueueName'), out);
  sqsOnly('MessageBody', () => optionalString(input, 'MessageBody'), out);
  sqsOnly('DelaySeconds', () => optionalInt(input, 'DelaySeconds', 0, 900), out);
  sqsOnly('MaxNumberOfMessages', () => optionalInt(input, 'MaxNumberOfMessages', 1, 10), out);
  sqsOnly('VisibilityTimeout', () => optionalInt(input, 'VisibilityTimeout', 0, 43_200), out);
  sqsOnly('WaitTimeSeconds', () => optionalInt(input, 'WaitTimeSeconds', 0, 20), out);
  sqsOnly('AttributeNames', () => optionalStringList(input, 'AttributeNames'), out);
  sqsOnly('Tags', () => optionalStringMap(input, 'Tags'), out);
  const attrs = sqsOnly('Attributes', () => optionalStringMap(input, 'Attributes'), out);
  if (attrs !== undefined) {
    const q = queue ?? name ?? 'jobs';
    sqsOnly('parseQueueAttributes', () => parseQueueAttributes(identity, q, attrs, true), out);
    sqsOnly('parseQueueAttributes', () => parseQueueAttributes(identity, q, attrs, false), out);
  }
  const system = sqsOnly('MessageSystemAttributes', () => optionalObjectMap(input, 'MessageSystemAttributes'), out);
  const trace = system?.['AWSTraceHeader']?.['StringValue'];
  const mattrs = sqsOnly('MessageAttributes', () => optionalObjectMap(input, 'MessageAttributes'), out);
  sqsOnly('storeMessageAttributes', () => storeMessageAttributes(mattrs, typeof trace === 'string' ? trace : undefined), out);
  const entries = sqsOnly('Entries', () => batchEntries(input), out);
  for (const e of entries ?? []) {
    const ea = sqsOnly('entryMessageAttributes', () => optionalObjectMap(e, 'MessageAttributes'), out);
    sqsOnly('storeMessageAttributes', () => storeMessageAttributes(ea), out);
    sqsOnly('entryDelaySeconds', () => optionalInt(e, 'DelaySeconds', 0, 900), out);
  }
}


/** Requests signed by the SDK's signer (header form and presigned), built once. */
const signedRequests: SqsHttpRequest[] = [];

beforeAll(async () => {
  const base = { protocol: 'http:', hostname: 'localhost', port: 9324 };
  const requests: Array<{ protocol: string; hostname: string; port: number; method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body?: string }> = [
    { ...base, method: 'POST', path: '/', query: {}, headers: { host: 'localhost:9324', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, body: '{"QueueUrl":"http://localhost:9324/000000000000/jobs","MessageBody":"hi"}' },
    { ...base, method: 'POST', path: '/000000000000/jobs', query: {}, headers: { host: 'localhost:9324', 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=SendMessage&MessageBody=a+b%2Bc' },
    { ...base, method: 'GET', path: '/', query: { Action: 'ListQueues', 'Attribute.1.Name': 'x y' }, headers: { host: 'localhost:9324' } },
  ];
  for (const r of requests) {
    const s = (await signer.sign(r, { signingDate: new Date(NOW) })) as typeof r;
    signedRequests.push(received(s));
    const p = (await signer.presign({ ...r, body: undefined }, { signingDate: new Date(NOW), expiresIn: 300 })) as typeof r;
    signedRequests.push(received({ ...p, body: r.method === 'GET' ? '' : r.body }));
  }
});

/** The request as node:http would hand it over: lower-case header names, path with query string. */
function received(req: { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body?: string | undefined }): SqsHttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  const q = Object.entries(req.query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return { method: req.method, path: q.length === 0 ? req.path : `${req.path}?${q.join('&')}`, headers, body: Buffer.from(req.body ?? '', 'utf8') };
}

/** `s` with the character at `at` (mod length) replaced by `c`, or `c` inserted, or cut there. */
function edit(s: string, at: number, c: string, how: 'replace' | 'insert' | 'cut'): string {
  const i = s.length === 0 ? 0 : at % s.length;
  if (how === 'cut') return s.slice(0, i);
  return s.slice(0, i) + c + s.slice(how === 'replace' ? i + 1 : i);
}

describe('fuzz: SQS requests', () => {
  it(
    'sqsRequestsNeverCrash: parseSqsCall and every input reader on what parses throw only SqsError',
    () => {
      const out = new Outcomes();
      fc.assert(
        fc.property(sqsRequest, (req) => {
          looksLikeSqs(req.method, req.path, req.headers);
          const call = sqsOnly('parse', () => parseSqsCall(req), out);
          if (call !== undefined) {
            out.add(`accepted:parse:${call.protocol}`);
            readInput(call.input, out);
          }
        }),
        fuzzOptions(),
      );
      out.expectBothWays();
      const s = out.summary();
      for (const label of ['parse:json', 'parse:query', 'queueNameOfUrl', 'parseQueueAttributes', 'storeMessageAttributes', 'Entries']) {
        expect(out.count(`accepted:${label}`), `${label}: ${s}`).toBeGreaterThan(0);
      }
      for (const code of ['MalformedQueryString', 'SerializationException', 'MissingAction', 'InvalidAction']) expect(out.count(`refused:parse:${code}`), `${code}: ${s}`).toBeGreaterThan(0);
      expect(out.countPrefix('refused:storeMessageAttributes:'), s).toBeGreaterThan(0);
      expect(out.countPrefix('refused:parseQueueAttributes:'), s).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  it(
    'sqsSigV4NeverCrash: verifySigV4 on signed, mutated and random signatures throws only SqsError',
    () => {
      const out = new Outcomes();
      const authPart = fc.oneof(
        fc.constantFrom('AWS4-HMAC-SHA256', 'Credential=AKIDEXAMPLE/20261207/us-east-1/sqs/aws4_request', 'Credential=', 'SignedHeaders=host;x-amz-date', 'SignedHeaders=', 'Signature=00', 'Signature=' + 'a'.repeat(64), ',', ' ', '/', '='),
        fc.string({ maxLength: 8 }),
      );
      const randomAuth = fc.array(authPart, { maxLength: 6 }).map((ps) => ps.join(''));
      const amzDate = fc.oneof(fc.constantFrom('20261207T210000Z', '20261207T210000', '2026', '', '99999999T999999Z', '20261307T250000Z'), fc.string({ maxLength: 16 }));
      const presigned = fc
        .record({ alg: fc.constantFrom('AWS4-HMAC-SHA256', 'x'), cred: fc.oneof(fc.constant('AKIDEXAMPLE/20261207/us-east-1/sqs/aws4_request'), fc.string({ maxLength: 12 })), date: amzDate, expires: fc.oneof(fc.constantFrom('300', '-1', '604801', 'x', ''), fc.nat().map(String)), headers: fc.constantFrom('host', '', 'host;x'), sig: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 64 }), fc.string({ maxLength: 4 })) })
        .map((p) => `/?Action=ListQueues&X-Amz-Algorithm=${encodeURIComponent(p.alg)}&X-Amz-Credential=${encodeURIComponent(p.cred)}&X-Amz-Date=${encodeURIComponent(p.date)}&X-Amz-Expires=${encodeURIComponent(p.expires)}&X-Amz-SignedHeaders=${encodeURIComponent(p.headers)}&X-Amz-Signature=${encodeURIComponent(p.sig)}`);
      const request = fc.oneof(
        // A request signed by the SDK, intact (accepted) or with one part edited.
        { weight: 2, arbitrary: fc.nat().map((i) => ({ pick: i, change: undefined })) },
        {
          weight: 6,
          arbitrary: fc.record({
            pick: fc.nat(),
            change: fc.record({
              part: fc.constantFrom('authorization', 'x-amz-date', 'x-amz-content-sha256', 'path', 'body', 'host'),
              at: fc.nat(),
              c: fc.oneof(fc.constantFrom(',', '=', ' ', '/', '%', '&', '?', 'A', '0', ''), fc.string({ maxLength: 3 })),
              how: fc.constantFrom('replace' as const, 'insert' as const, 'cut' as const),
            }),
          }),
        },
        // A request with a random Authorization header or presigned query string.
        { weight: 2, arbitrary: fc.record({ auth: randomAuth, date: amzDate, path: fc.oneof(fc.constant('/'), presigned) }) },
      );
      const skew = fc.oneof(fc.constant(0), fc.integer({ min: -10 * 60_000, max: 10 * 60_000 }));
      fc.assert(
        fc.property(request, skew, (r, skewMs) => {
          let req: SqsHttpRequest;
          if ('auth' in r) {
            req = { method: 'GET', path: r.path, headers: { host: 'localhost:9324', ...(r.auth !== '' ? { authorization: r.auth } : {}), 'x-amz-date': r.date }, body: Buffer.alloc(0) };
          } else {
            const base = signedRequests[r.pick % signedRequests.length];
            if (base === undefined) throw new Error('no signed requests');
            req = base;
            const c = r.change;
            if (c !== undefined) {
              if (c.part === 'path') req = { ...base, path: edit(base.path, c.at, c.c, c.how) };
              else if (c.part === 'body') req = { ...base, body: Buffer.from(edit(base.body.toString('utf8'), c.at, c.c, c.how)) };
              else req = { ...base, headers: { ...base.headers, [c.part]: edit(String(base.headers[c.part] ?? ''), c.at, c.c, c.how) } };
            }
          }
          sqsOnly('verifySigV4', () => verifySigV4(req, KEYS, NOW + skewMs), out);
        }),
        fuzzOptions(),
      );
      out.expectBothWays();
      const s = out.summary();
      for (const code of ['SignatureDoesNotMatch', 'IncompleteSignature', 'MissingAuthenticationToken', 'RequestExpired']) expect(out.count(`refused:verifySigV4:${code}`), `${code}: ${s}`).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );
});
