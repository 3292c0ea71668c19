/**
 * The query protocol against botocore 1.29 (what Debian's aws CLI 2.9 and
 * boto3 1.26 use), with its own (query) SQS model: botocore serializes each
 * action's request (parseSqsCall must give the JSON input), and botocore's
 * QueryParser reads our XML results and errors back. Skipped with a message
 * when /usr/bin/python3 has no botocore.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqsError } from '../../../src/api/sqs/sqs-errors.js';
import { md5OfBody } from '../../../src/api/sqs/sqs-md5.js';
import { parseSqsCall } from '../../../src/api/sqs/sqs-request.js';
import { encodeSqsError, encodeSqsResult } from '../../../src/api/sqs/sqs-response.js';

const PYTHON = '/usr/bin/python3';
const HELPER = join(import.meta.dirname, 'botocore_query.py');

function hasBotocore(): boolean {
  if (!existsSync(PYTHON)) return false;
  const probe = "import botocore.parsers, botocore.serialize, botocore.loaders; m = botocore.loaders.create_loader().load_service_model('sqs', 'service-2'); assert m['metadata']['protocol'] == 'query'";
  return spawnSync(PYTHON, ['-c', probe], { encoding: 'utf8' }).status === 0;
}
const available = hasBotocore();
if (!available) console.warn(`skipping botocore tests: ${PYTHON} lacks botocore with the query-protocol SQS model (Debian python3-botocore 1.29)`);

const Q = 'http://localhost:9324/000000000000/jobs';
const BODY = 'line1\nline2\r\n\ttab <&> "q" \'a\' é 😀 \u007f \uE000';
const B64 = Buffer.from([0, 1, 2, 0xff]).toString('base64');
const ATTRS = { s: { DataType: 'String', StringValue: 'x y' }, n: { DataType: 'Number.int', StringValue: '7' }, b: { DataType: 'Binary', BinaryValue: B64 } };
const bytesAttrs = { ...ATTRS, b: { DataType: 'Binary', BinaryValue: { $bytes: B64 } } };

/** An action: botocore params (bytes as {$bytes}), the JSON input we must decode, the JSON output to encode. */
interface Case {
  readonly op: string;
  readonly params: Record<string, unknown>;
  readonly input?: Record<string, unknown>;
  readonly output: Record<string, unknown>;
}

const CASES: Case[] = [
  { op: 'CreateQueue', params: { QueueName: 'jobs.fifo', Attributes: { FifoQueue: 'true', VisibilityTimeout: '30' }, tags: { team: 'a&b', env: 'dev' } }, output: { QueueUrl: Q } },
  { op: 'DeleteQueue', params: { QueueUrl: Q }, output: {} },
  { op: 'GetQueueUrl', params: { QueueName: 'jobs', QueueOwnerAWSAccountId: '000000000000' }, output: { QueueUrl: Q } },
  { op: 'ListQueues', params: { QueueNamePrefix: 'jo', MaxResults: 2, NextToken: 'abc' }, output: { QueueUrls: [Q, `${Q}-2`], NextToken: 'n+1/=' } },
  { op: 'GetQueueAttributes', params: { QueueUrl: Q, AttributeNames: ['VisibilityTimeout', 'QueueArn'] }, output: { Attributes: { VisibilityTimeout: '30', Policy: '{"a":"<b>"}' } } },
  { op: 'SetQueueAttributes', params: { QueueUrl: Q, Attributes: { DelaySeconds: '5', RedrivePolicy: '{"maxReceiveCount":"3"}' } }, output: {} },
  { op: 'PurgeQueue', params: { QueueUrl: Q }, output: {} },
  {
    op: 'SendMessage',
    params: { QueueUrl: Q, MessageBody: BODY, DelaySeconds: 0, MessageAttributes: bytesAttrs, MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1' } }, MessageGroupId: 'g', MessageDeduplicationId: 'd' },
    input: { QueueUrl: Q, MessageBody: BODY, DelaySeconds: 0, MessageAttributes: ATTRS, MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1' } }, MessageGroupId: 'g', MessageDeduplicationId: 'd' },
    output: { MD5OfMessageBody: md5OfBody(BODY), MD5OfMessageAttributes: 'abc', MessageId: 'm', SequenceNumber: '18' },
  },
  {
    op: 'SendMessageBatch',
    params: { QueueUrl: Q, Entries: [{ Id: '1', MessageBody: 'a', DelaySeconds: 2, MessageAttributes: bytesAttrs }, { Id: '2', MessageBody: 'b', MessageGroupId: 'g' }] },
    input: { QueueUrl: Q, Entries: [{ Id: '1', MessageBody: 'a', DelaySeconds: 2, MessageAttributes: ATTRS }, { Id: '2', MessageBody: 'b', MessageGroupId: 'g' }] },
    output: {
      Successful: [{ Id: '1', MessageId: 'm1', MD5OfMessageBody: md5OfBody('a'), MD5OfMessageAttributes: 'x' }],
      Failed: [{ Id: '2', SenderFault: true, Code: 'InvalidParameterValue', Message: 'bad <group>' }, { Id: '3', SenderFault: false, Code: 'InternalError' }],
    },
  },
  {
    op: 'ReceiveMessage',
    params: { QueueUrl: Q, AttributeNames: ['All'], MessageAttributeNames: ['s', 'b'], MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 20, ReceiveRequestAttemptId: 'r' },
    output: {
      Messages: [
        { MessageId: 'm1', ReceiptHandle: 'rh+/=', MD5OfBody: md5OfBody(BODY), Body: BODY, Attributes: { SentTimestamp: '1', ApproximateReceiveCount: '3' }, MD5OfMessageAttributes: 'x', MessageAttributes: ATTRS },
        { MessageId: 'm2', ReceiptHandle: 'rh2', MD5OfBody: md5OfBody(''), Body: '' },
      ],
    },
  },
  { op: 'DeleteMessage', params: { QueueUrl: Q, ReceiptHandle: 'rh+/=' }, output: {} },
  {
    op: 'DeleteMessageBatch',
    params: { QueueUrl: Q, Entries: [{ Id: 'a', ReceiptHandle: 'r1' }, { Id: 'b', ReceiptHandle: 'r2' }] },
    output: { Successful: [{ Id: 'a' }], Failed: [{ Id: 'b', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'm' }] },
  },
  { op: 'ChangeMessageVisibility', params: { QueueUrl: Q, ReceiptHandle: 'rh', VisibilityTimeout: 43200 }, output: {} },
  {
    op: 'ChangeMessageVisibilityBatch',
    params: { QueueUrl: Q, Entries: [{ Id: 'a', ReceiptHandle: 'r1', VisibilityTimeout: 5 }, { Id: 'b', ReceiptHandle: 'r2' }] },
    output: { Successful: [{ Id: 'a' }, { Id: 'b' }], Failed: [] },
  },
  { op: 'TagQueue', params: { QueueUrl: Q, Tags: { team: 'a', env: 'dev' } }, output: {} },
  { op: 'UntagQueue', params: { QueueUrl: Q, TagKeys: ['team', 'env'] }, output: {} },
  { op: 'ListQueueTags', params: { QueueUrl: Q }, output: { Tags: { team: 'a', 'k<': 'v&' } } },
  { op: 'ListDeadLetterSourceQueues', params: { QueueUrl: Q, MaxResults: 3, NextToken: 't' }, output: { queueUrls: [`${Q}-a`, `${Q}-b`], NextToken: 't2' } },
];

interface PythonResult {
  serialized: string[];
  parsed: Array<Record<string, unknown>>;
}

const ERRORS = [new SqsError('QueueDoesNotExist', 'The specified queue does not exist for this wsdl version.'), new SqsError('InternalFailure', 'oops <&>'), new SqsError('QueueNameExists', 'exists')];

describe.skipIf(!available)('query protocol with botocore', () => {
  let result: PythonResult;
  const xml = CASES.map((c) => encodeSqsResult({ protocol: 'query', action: c.op, input: {} }, c.output, 'rid-1'));
  const errors = ERRORS.map((e) => encodeSqsError('query', e, 'rid-2'));

  beforeAll(() => {
    const job = {
      model: null,
      serialize: CASES.map((c) => ({ op: c.op, params: c.params })),
      parse: [
        ...CASES.map((c, i) => ({ op: c.op, status: xml[i]?.status, headers: xml[i]?.headers, body: xml[i]?.body })),
        ...errors.map((e) => ({ op: 'DeleteQueue', status: e.status, headers: e.headers, body: e.body })),
      ],
    };
    const run = spawnSync(PYTHON, [HELPER], { input: JSON.stringify(job), encoding: 'utf8', timeout: 30_000 });
    if (run.status !== 0) throw new Error(`botocore helper failed: ${run.stderr}`);
    result = JSON.parse(run.stdout) as PythonResult;
  });

  CASES.forEach((c, i) => {
    it(`${c.op}: botocore's form decodes to the JSON input, our XML parses to the output`, () => {
      const body = result.serialized[i] ?? '';
      const call = parseSqsCall({ method: 'POST', path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', host: 'localhost:9324' }, body: Buffer.from(body, 'utf8') });
      expect(call).toEqual({ protocol: 'query', action: c.op, input: c.input ?? c.params });
      const { ResponseMetadata, ...parsed } = result.parsed[i] ?? {};
      expect(ResponseMetadata).toMatchObject({ RequestId: 'rid-1', HTTPStatusCode: 200 });
      // An empty flattened list has no element at all, so botocore leaves it out (as with real SQS).
      const nonEmpty = Object.fromEntries(Object.entries(c.output).filter(([, v]) => !(Array.isArray(v) && v.length === 0)));
      expect(parsed).toEqual(nonEmpty);
    });
  });

  ERRORS.forEach((e, i) => {
    it(`${e.code}: botocore reads the error code, type and message`, () => {
      const parsed = result.parsed[CASES.length + i] ?? {};
      expect(parsed['Error']).toEqual({ Code: e.code === 'QueueDoesNotExist' ? 'AWS.SimpleQueueService.NonExistentQueue' : e.code === 'QueueNameExists' ? 'QueueAlreadyExists' : e.code, Message: e.message, Type: e.fault, Detail: null });
      expect(parsed['ResponseMetadata']).toMatchObject({ RequestId: 'rid-2', HTTPStatusCode: e.status });
    });
  });
});
