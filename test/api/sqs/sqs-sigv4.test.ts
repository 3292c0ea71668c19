/**
 * SigV4 verification against the SDK's own signer (@smithy/signature-v4,
 * installed with @aws-sdk/client-sqs): JSON and form requests signed in
 * the Authorization header, a presigned GET, and the ways verification must
 * fail (changed body, header, query or key; unknown key; stale date;
 * missing or malformed signature).
 */
import { describe, expect, it } from 'vitest';
import type { SqsHttpRequest } from '../../../src/api/sqs/sqs-request.js';
import { verifySigV4 } from '../../../src/api/sqs/sqs-sigv4.js';
import { KEY, KEYS, NOW, signer } from './sdk-signer.js';
import { codeOf } from './error-code.js';


interface SmithyRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string;
}

/** The request as node:http would hand it over: lower-case header names, path with query string. */
function received(req: SmithyRequest): SqsHttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  const q = Object.entries(req.query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return { method: req.method, path: q.length === 0 ? req.path : `${req.path}?${q.join('&')}`, headers, body: Buffer.from(req.body ?? '', 'utf8') };
}

async function signed(req: SmithyRequest): Promise<SqsHttpRequest> {
  return received((await signer.sign(req, { signingDate: new Date(NOW) })) as SmithyRequest);
}

const jsonRequest = (): SmithyRequest => ({
  method: 'POST',
  protocol: 'http:',
  hostname: 'localhost',
  port: 9324,
  path: '/',
  query: {},
  headers: { host: 'localhost:9324', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage', 'x-amzn-query-mode': 'true' },
  body: JSON.stringify({ QueueUrl: 'http://localhost:9324/000000000000/jobs', MessageBody: 'hi é' }),
});

const formRequest = (): SmithyRequest => ({
  method: 'POST',
  protocol: 'http:',
  hostname: 'localhost',
  port: 9324,
  path: '/000000000000/jobs',
  query: {},
  headers: { host: 'localhost:9324', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
  body: 'Action=SendMessage&Version=2012-11-05&MessageBody=a+b%2Bc',
});

describe('verifySigV4 with requests signed by @smithy/signature-v4', () => {
  it('accepts a signed JSON request and a signed form request', async () => {
    expect(verifySigV4(await signed(jsonRequest()), KEYS, NOW)).toEqual({ accessKeyId: KEY.accessKeyId });
    expect(verifySigV4(await signed(formRequest()), KEYS, NOW + 4 * 60_000)).toEqual({ accessKeyId: KEY.accessKeyId });
  });

  it('rejects a changed body, a changed signed header, a wrong secret and an unknown key', async () => {
    const req = await signed(jsonRequest());
    expect(codeOf(() => verifySigV4({ ...req, body: Buffer.from(req.body.toString().replace('hi', 'ho')) }, KEYS, NOW))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => verifySigV4({ ...req, headers: { ...req.headers, 'x-amz-target': 'AmazonSQS.DeleteQueue' } }, KEYS, NOW))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => verifySigV4({ ...req, path: '/other' }, KEYS, NOW))).toBe('SignatureDoesNotMatch');
    const wrongSecret = new Map([[KEY.accessKeyId, { ...KEY, secretAccessKey: 'not-it' }]]);
    expect(codeOf(() => verifySigV4(req, wrongSecret, NOW))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => verifySigV4(req, new Map(), NOW))).toBe('InvalidClientTokenId');
    // An unsigned header may change.
    expect(codeOf(() => verifySigV4({ ...req, headers: { ...req.headers, 'user-agent': 'x' } }, KEYS, NOW))).toBe('ok');
  });

  it('rejects a request signed more than 5 minutes away from now', async () => {
    const req = await signed(formRequest());
    expect(codeOf(() => verifySigV4(req, KEYS, NOW + 5 * 60_000 + 1000))).toBe('RequestExpired');
    expect(codeOf(() => verifySigV4(req, KEYS, NOW - 5 * 60_000 - 1000))).toBe('RequestExpired');
  });

  it('tells a missing signature from a malformed one', async () => {
    const req = received(jsonRequest());
    expect(codeOf(() => verifySigV4(req, KEYS, NOW))).toBe('MissingAuthenticationToken');
    const bad = (authorization: string): string => codeOf(() => verifySigV4({ ...req, headers: { ...req.headers, authorization, 'x-amz-date': '20261207T210000Z' } }, KEYS, NOW));
    expect(bad('AWS AKIDEXAMPLE:abc')).toBe('IncompleteSignature');
    expect(bad('AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/sqs/aws4_request, SignedHeaders=host')).toBe('IncompleteSignature');
    expect(bad(`AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/sqs, SignedHeaders=host, Signature=${'0'.repeat(64)}`)).toBe('IncompleteSignature');
    expect(bad(`AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`)).toBe('SignatureDoesNotMatch');
  });

  it('accepts a presigned GET query request until it expires', async () => {
    const req: SmithyRequest = { ...formRequest(), method: 'GET', headers: { host: 'localhost:9324' }, query: { Action: 'GetQueueUrl', QueueName: 'jobs q', Version: '2012-11-05' } };
    delete req.body;
    const presigned = received((await signer.presign(req, { signingDate: new Date(NOW), expiresIn: 60 })) as SmithyRequest);
    expect(presigned.path).toContain('X-Amz-Signature=');
    expect(verifySigV4(presigned, KEYS, NOW + 30_000)).toEqual({ accessKeyId: KEY.accessKeyId });
    expect(codeOf(() => verifySigV4(presigned, KEYS, NOW + 61_000))).toBe('RequestExpired');
    expect(codeOf(() => verifySigV4({ ...presigned, path: presigned.path.replace('QueueName=jobs', 'QueueName=other') }, KEYS, NOW))).toBe('SignatureDoesNotMatch');
  });
});

describe('verifySigV4 with the requests SQSClient itself signs', () => {
  it('accepts them, and refuses them under another secret', async () => {
    const { sdkLoop } = await import('./sdk-loop.js');
    const { ListQueuesCommand } = await import('@aws-sdk/client-sqs');
    const loop = sdkLoop(() => ({ QueueUrls: [] }));
    const before = Date.now();
    await loop.client.send(new ListQueuesCommand({ QueueNamePrefix: 'a b' }));
    const req = loop.requests[0];
    expect(req).toBeDefined();
    if (req === undefined) return;
    const keys = new Map([['AKIDTEST', { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }]]);
    expect(verifySigV4(req, keys, before)).toEqual({ accessKeyId: 'AKIDTEST' });
    const other = new Map([['AKIDTEST', { accessKeyId: 'AKIDTEST', secretAccessKey: 'other' }]]);
    expect(codeOf(() => verifySigV4(req, other, before))).toBe('SignatureDoesNotMatch');
  });
});
