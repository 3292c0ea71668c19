/**
 * The mapping of SQS's names and values onto raftq's: message attributes (types kept through
 * raftq's string attributes), queue attributes (seconds to milliseconds, policies as JSON,
 * refusals by name), queue URLs and ARNs, and the receive-attempt memory.
 */
import { describe, expect, test } from 'vitest';
import { attributeSelector, sqsMessageAttributes, storeMessageAttributes, typesKey } from '../../../src/api/sqs/sqs-message-attributes.js';
import { queueArn, queueNameOfArn, queueNameOfUrl, queueUrl } from '../../../src/api/sqs/sqs-names.js';
import { parseQueueAttributes, renderQueueAttributes, checkRedriveAllowed } from '../../../src/api/sqs/sqs-queue-attributes.js';
import { ReceiveAttempts } from '../../../src/api/sqs/sqs-receive-attempts.js';
import { codeOf } from './error-code.js';
import type { QueueInfo } from '../../../src/queue/index.js';

const id = { region: 'eu-west-1', accountId: '123456789012' };

/** The SqsError code `fn` throws; undefined when it returns. */
function code(fn: () => unknown): string | undefined {
  const c = codeOf(fn);
  return c === 'ok' ? undefined : c;
}

describe('message attributes', () => {
  test('typed attributes survive the round trip through string attributes', () => {
    const stored = storeMessageAttributes({
      s: { DataType: 'String', StringValue: 'plain' },
      n: { DataType: 'Number', StringValue: '-1.5e3' },
      b: { DataType: 'Binary', BinaryValue: Buffer.from([0, 255]).toString('base64') },
      c: { DataType: 'Number.int', StringValue: '7' },
    });
    expect(stored.attributes['s']).toBe('plain');
    expect(JSON.parse(stored.attributes[typesKey]!)).toEqual({ n: 'Number', b: 'Binary', c: 'Number.int' });
    expect(stored.bytes).toBe(1 + 6 + 5 + 1 + 6 + 6 + 1 + 6 + 2 + 1 + 10 + 1);
    const back = sqsMessageAttributes(stored.attributes, () => true);
    expect(back).toEqual({
      b: { DataType: 'Binary', BinaryValue: 'AP8=' },
      c: { DataType: 'Number.int', StringValue: '7' },
      n: { DataType: 'Number', StringValue: '-1.5e3' },
      s: { DataType: 'String', StringValue: 'plain' },
    });
    // Plain string attributes (say, from the HTTP API) read as String attributes; reserved keys never show.
    expect(sqsMessageAttributes({ k: 'v', ':AWSTraceHeader': 'x' }, () => true)).toEqual({ k: { DataType: 'String', StringValue: 'v' } });
  });

  test('bad names, types and values are refused with SQS codes', () => {
    const one = (name: string, a: Record<string, unknown>): string | undefined => code(() => storeMessageAttributes({ [name]: a }));
    expect(one('AWS.x', { DataType: 'String', StringValue: 'v' })).toBe('InvalidParameterValue');
    expect(one('amazon.x', { DataType: 'String', StringValue: 'v' })).toBe('InvalidParameterValue');
    expect(one('a..b', { DataType: 'String', StringValue: 'v' })).toBe('InvalidParameterValue');
    expect(one('sp ace', { DataType: 'String', StringValue: 'v' })).toBe('InvalidParameterValue');
    expect(one('ok', { DataType: 'Integer', StringValue: '1' })).toBe('InvalidParameterValue');
    expect(one('ok', { DataType: 'Number', StringValue: 'one' })).toBe('InvalidParameterValue');
    expect(one('ok', { DataType: 'Binary', StringValue: 'x' })).toBe('InvalidParameterValue');
    expect(one('ok', { DataType: 'String' })).toBe('InvalidParameterValue');
    expect(one('ok', { DataType: 'String', StringValue: 'bad\u0001' })).toBe('InvalidMessageContents');
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]));
    expect(code(() => storeMessageAttributes(eleven))).toBe('InvalidParameterValue');
  });

  test('name filters: All, .*, prefixes and exact names', () => {
    expect(attributeSelector(undefined)('x')).toBe(false);
    expect(attributeSelector(['All'])('x')).toBe(true);
    expect(attributeSelector(['.*'])('x')).toBe(true);
    const sel = attributeSelector(['order.*', 'id']);
    expect(['order.id', 'order', 'id', 'ids'].map(sel)).toEqual([true, false, true, false]);
  });
});

describe('queue attributes', () => {
  test('seconds become milliseconds; the redrive policy names a queue by ARN', () => {
    const a = parseQueueAttributes(id, 'work', { VisibilityTimeout: '45', DelaySeconds: '5', MessageRetentionPeriod: '60', ReceiveMessageWaitTimeSeconds: '20', MaximumMessageSize: '1024', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn(id, 'dlq'), maxReceiveCount: '3' }) }, true);
    expect(a).toEqual({ visibilityTimeoutMs: 45_000, delayMs: 5_000, retentionMs: 60_000, receiveWaitTimeMs: 20_000, maxMessageBytes: 1024, deadLetterQueue: 'dlq', maxReceiveCount: 3 });
    expect(parseQueueAttributes(id, 'work', { RedrivePolicy: '' }, false)).toEqual({ deadLetterQueue: '', maxReceiveCount: 0 });
    expect(parseQueueAttributes(id, 'o.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true', DeduplicationScope: 'queue', FifoThroughputLimit: 'perQueue' }, true)).toEqual({ contentBasedDeduplication: true });
  });

  test('refusals name the attribute', () => {
    const p = (q: string, a: Record<string, string>, creating = true): string | undefined => code(() => parseQueueAttributes(id, q, a, creating));
    expect(p('q', { VisibilityTimeout: '43201' })).toBe('InvalidAttributeValue');
    expect(p('q', { DelaySeconds: '1.5' })).toBe('InvalidAttributeValue');
    expect(p('q', { Policy: '{}' })).toBe('InvalidAttributeName');
    expect(p('q', { KmsMasterKeyId: 'k' })).toBe('InvalidAttributeName');
    expect(p('q', { Nonsense: '1' })).toBe('InvalidAttributeName');
    expect(p('q', { ContentBasedDeduplication: 'true' })).toBe('InvalidAttributeName');
    expect(p('q', { FifoQueue: 'true' })).toBe('InvalidAttributeValue');
    expect(p('q.fifo', {})).toBe('InvalidAttributeValue');
    expect(p('q.fifo', { FifoQueue: 'true' }, false)).toBe('InvalidAttributeName');
    expect(p('q', { RedrivePolicy: '{"maxReceiveCount":1}' })).toBe('InvalidAttributeValue');
    expect(p('q', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:123456789012:dlq', maxReceiveCount: 1 }) })).toBe('InvalidAttributeValue');
    expect(p('q', { RedriveAllowPolicy: '{"redrivePermission":"byQueue"}' })).toBe('InvalidAttributeValue');
    expect(p('q', { SqsManagedSseEnabled: 'true' })).toBe('InvalidAttributeValue');
    expect(p('q', { SqsManagedSseEnabled: 'false' })).toBeUndefined();
  });

  const info: QueueInfo = {
    name: 'dlq',
    createdAtMs: 1_700_000_000_500,
    attributes: { visibilityTimeoutMs: 30_000, delayMs: 0, retentionMs: 345_600_000, maxMessageBytes: 262_144, maxReceiveCount: 0, deadLetterQueue: '', fifo: false, contentBasedDeduplication: false, receiveWaitTimeMs: 0, redriveAllowPolicy: JSON.stringify({ redrivePermission: 'byQueue', sourceQueueArns: [queueArn(id, 'a')] }) },
    stats: { visible: 3, inFlight: 1, delayed: 2 },
    tags: {},
  } as unknown as QueueInfo;

  test('GetQueueAttributes renders what is asked for', () => {
    const all = renderQueueAttributes(id, info, ['All']);
    expect(all).toMatchObject({ ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1', ApproximateNumberOfMessagesDelayed: '2', CreatedTimestamp: '1700000000', VisibilityTimeout: '30', MessageRetentionPeriod: '345600', QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq', SqsManagedSseEnabled: 'false' });
    expect(all['RedrivePolicy']).toBeUndefined();
    expect(all['FifoQueue']).toBeUndefined();
    expect(renderQueueAttributes(id, info, ['VisibilityTimeout', 'Policy'])).toEqual({ VisibilityTimeout: '30' });
    expect(code(() => renderQueueAttributes(id, info, ['Bogus']))).toBe('InvalidAttributeName');
  });

  test('a RedriveAllowPolicy admits only the sources it names', () => {
    expect(code(() => checkRedriveAllowed(id, info, 'a'))).toBeUndefined();
    expect(code(() => checkRedriveAllowed(id, info, 'b'))).toBe('InvalidParameterValue');
  });
});

describe('queue URLs and ARNs', () => {
  test('round trips, and another account is another queue', () => {
    const url = queueUrl('http://10.0.0.1:8002', id, 'jobs');
    expect(url).toBe('http://10.0.0.1:8002/123456789012/jobs');
    expect(queueNameOfUrl(id, url)).toBe('jobs');
    expect(queueNameOfUrl(id, 'https://proxy.example/123456789012/jobs.fifo')).toBe('jobs.fifo');
    expect(code(() => queueNameOfUrl(id, 'http://h/000000000000/jobs'))).toBe('QueueDoesNotExist');
    expect(code(() => queueNameOfUrl(id, 'jobs'))).toBe('InvalidAddress');
    expect(code(() => queueNameOfUrl(id, 'http://h/123456789012/a/b'))).toBe('InvalidAddress');
    expect(queueNameOfArn(id, queueArn(id, 'jobs'), 'SourceArn')).toBe('jobs');
    expect(code(() => queueNameOfArn(id, 'arn:aws:sqs:us-east-1:123456789012:jobs', 'SourceArn'))).toBe('QueueDoesNotExist');
    expect(code(() => queueNameOfArn(id, 'jobs', 'SourceArn'))).toBe('InvalidParameterValue');
  });
});

describe('receive attempts', () => {
  test('remembered for the lease, capped at five minutes', () => {
    let now = 0;
    const a = new ReceiveAttempts(() => now);
    a.put('q', 'x', { Messages: [1] }, 10_000);
    a.put('q', 'long', { Messages: [2] }, 3_600_000);
    expect(a.get('q', 'x')).toEqual({ Messages: [1] });
    expect(a.get('other', 'x')).toBeUndefined();
    now = 10_000;
    expect(a.get('q', 'x')).toBeUndefined();
    now = 299_999;
    expect(a.get('q', 'long')).toEqual({ Messages: [2] });
    now = 300_000;
    expect(a.get('q', 'long')).toBeUndefined();
  });
});
