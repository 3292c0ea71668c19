/**
 * The SQS error catalogue against the models: every exception shape the
 * SDK (JSON model) registers has our status and query code; with botocore
 * present, every exception shape of its query model too; and the common
 * AWS errors have their documented statuses and fault sides.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as sdk from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsError, isKnownSqsErrorCode, sqsQueryCode } from '../../../src/api/sqs/sqs-errors.js';

/** The SDK's error schemas: `[-3, namespace, name, traits, ...]`. */
function sdkErrorShapes(): Array<{ name: string; traits: { awsQueryError?: [string, number]; httpError?: number } }> {
  const out: Array<{ name: string; traits: { awsQueryError?: [string, number]; httpError?: number } }> = [];
  for (const [key, value] of Object.entries(sdk)) {
    if (!key.endsWith('$') || !Array.isArray(value) || value[0] !== -3) continue;
    const traits: unknown = value[3];
    if (traits === null || typeof traits !== 'object') continue;
    out.push({ name: String(value[2]), traits: traits as { awsQueryError?: [string, number]; httpError?: number } });
  }
  return out;
}

describe('SqsError catalogue', () => {
  it('covers every exception shape of the JSON model with its query code and status', () => {
    const shapes = sdkErrorShapes();
    expect(shapes.length).toBeGreaterThanOrEqual(28);
    for (const { name, traits } of shapes) {
      expect(isKnownSqsErrorCode(name), name).toBe(true);
      const err = new SqsError(name, 'm');
      expect(sqsQueryCode(name), name).toBe(traits.awsQueryError?.[0] ?? name);
      expect(err.status, name).toBe(traits.httpError ?? 400);
      expect(err.fault).toBe('Sender');
    }
  });

  it('maps the documented examples', () => {
    expect(sqsQueryCode('QueueDoesNotExist')).toBe('AWS.SimpleQueueService.NonExistentQueue');
    expect(sqsQueryCode('QueueNameExists')).toBe('QueueAlreadyExists');
    expect(sqsQueryCode('OverLimit')).toBe('OverLimit');
    expect(sqsQueryCode('InvalidParameterValue')).toBe('InvalidParameterValue');
    expect(sqsQueryCode('SomethingNew')).toBe('SomethingNew');
  });

  it('gives the common AWS errors their statuses and fault sides', () => {
    const expected: Array<[string, number, 'Sender' | 'Receiver']> = [
      ['InvalidParameterValue', 400, 'Sender'],
      ['MissingParameter', 400, 'Sender'],
      ['InvalidAction', 400, 'Sender'],
      ['InvalidQueryParameter', 400, 'Sender'],
      ['MalformedQueryString', 404, 'Sender'],
      ['InvalidAttributeName', 400, 'Sender'],
      ['InvalidAttributeValue', 400, 'Sender'],
      ['InvalidMessageContents', 400, 'Sender'],
      ['AccessDenied', 403, 'Sender'],
      ['InvalidClientTokenId', 403, 'Sender'],
      ['SignatureDoesNotMatch', 403, 'Sender'],
      ['IncompleteSignature', 400, 'Sender'],
      ['MissingAuthenticationToken', 403, 'Sender'],
      ['RequestExpired', 400, 'Sender'],
      ['RequestThrottled', 403, 'Sender'],
      ['InternalFailure', 500, 'Receiver'],
      ['ServiceUnavailable', 503, 'Receiver'],
      ['SerializationException', 400, 'Sender'],
    ];
    for (const [code, status, fault] of expected) {
      const err = new SqsError(code, 'm');
      expect([code, err.status, err.fault]).toEqual([code, status, fault]);
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toBe('m');
    }
  });

  it('takes an explicit status, and a 5xx one makes the fault Receiver', () => {
    expect(new SqsError('Unknown', 'm').status).toBe(400);
    expect(new SqsError('QueueDoesNotExist', 'm', 410).status).toBe(410);
    expect(new SqsError('Whatever', 'm', 502).fault).toBe('Receiver');
  });

  const probe = "import json, botocore.loaders; m = botocore.loaders.create_loader().load_service_model('sqs', 'service-2'); print(json.dumps({n: s.get('error') for n, s in m['shapes'].items() if s.get('exception')}))";
  const run = existsSync('/usr/bin/python3') ? spawnSync('/usr/bin/python3', ['-c', probe], { encoding: 'utf8' }) : undefined;
  it.skipIf(run?.status !== 0)("covers every exception shape of botocore's query model (skipped without /usr/bin/python3 botocore)", () => {
    const shapes = JSON.parse(run?.stdout ?? '{}') as Record<string, { code: string; httpStatusCode: number } | null>;
    expect(Object.keys(shapes).length).toBeGreaterThan(10);
    for (const [name, error] of Object.entries(shapes)) {
      expect(isKnownSqsErrorCode(name), name).toBe(true);
      if (error !== null) {
        expect(sqsQueryCode(name), name).toBe(error.code);
        expect(new SqsError(name, 'm').status, name).toBe(error.httpStatusCode);
      }
    }
  });
});
