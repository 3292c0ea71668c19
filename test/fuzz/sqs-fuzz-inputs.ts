/**
 * Generators of SQS requests for the fuzz targets: both wire protocols (AWS JSON 1.0 with
 * random bodies, the query protocol with form bodies and query strings made of the real
 * parameter names, indexes and random percent-escapes) and the input readers an action runs on
 * whatever parses.
 */
import fc from 'fast-check';
import type { SqsHttpRequest } from '../../src/api/sqs/sqs-request.js';

/** The account and region of the fuzzed cluster. */
export const identity = { region: 'us-east-1', accountId: '000000000000' } as const;

/** Queues the action target creates before each case. */
export const queueNames = ['jobs', 'dlq', 'orders.fifo'] as const;

/** The action names raftq serves, plus some it does not. */
export const actionNames = [
  'CreateQueue', 'DeleteQueue', 'PurgeQueue', 'GetQueueUrl', 'ListQueues', 'GetQueueAttributes', 'SetQueueAttributes',
  'TagQueue', 'UntagQueue', 'ListQueueTags', 'SendMessage', 'SendMessageBatch', 'ReceiveMessage', 'DeleteMessage',
  'DeleteMessageBatch', 'ChangeMessageVisibility', 'ChangeMessageVisibilityBatch', 'ListDeadLetterSourceQueues',
  'StartMessageMoveTask', 'ListMessageMoveTasks', 'CancelMessageMoveTask', 'AddPermission', 'RemovePermission', 'Nope', 'constructor', '__proto__',
] as const;

const queueUrl = fc.oneof(
  fc.constantFrom(...queueNames).map((q) => `http://localhost:9324/${identity.accountId}/${q}`),
  fc.constantFrom('http://localhost:9324/000000000000/missing', 'http://x/111111111111/jobs', 'jobs', '', '/000000000000/jobs/extra', 'http://localhost:9324/000000000000/%ZZ'),
);

const smallString = fc.oneof(
  fc.constantFrom('', 'a', 'jobs', 'orders.fifo', 'g1', 'true', 'false', '0', '-1', '30', '43200', '1e3', '262144', ' ', '\u0000', '\uFFFE', 'AQID', '=='),
  fc.string({ maxLength: 10 }),
);

/** Attribute names of queues and messages, real and not. */
const attributeName = fc.constantFrom(
  'VisibilityTimeout', 'DelaySeconds', 'MessageRetentionPeriod', 'MaximumMessageSize', 'ReceiveMessageWaitTimeSeconds', 'RedrivePolicy',
  'RedriveAllowPolicy', 'FifoQueue', 'ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit', 'SqsManagedSseEnabled',
  'KmsMasterKeyId', 'Policy', 'All', 'Bogus', 'AWSTraceHeader',
);

const attributeValue = fc.oneof(
  smallString,
  fc.constantFrom(
    '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3}',
    '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"x"}',
    '{"redrivePermission":"allowAll"}', '{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:000000000000:jobs"]}', '{', '[]', 'null',
  ),
);

/** One message attribute value, in the JSON shape. */
const messageAttribute = fc.record(
  {
    DataType: fc.constantFrom('String', 'Number', 'Binary', 'String.x', 'Number.1', 'Binary.custom', '', 'Other', 'Number..'),
    StringValue: fc.oneof(smallString, fc.constantFrom('12', '-1.5e3', '1'.repeat(40))),
    BinaryValue: fc.oneof(fc.base64String({ maxLength: 12 }), smallString),
    StringListValues: fc.array(smallString, { maxLength: 1 }),
  },
  { requiredKeys: [] },
);

const messageAttributes = fc.dictionary(fc.oneof(fc.constantFrom('a', 'b.c', '.x', 'AWS.x', 'n-1', 'a..b'), fc.string({ maxLength: 6 })), messageAttribute, { maxKeys: 3 });

const int = fc.oneof(fc.constantFrom(0, 1, -1, 10, 11, 30, 43200, 900, 2 ** 53), fc.integer(), fc.double());
const intish = fc.oneof(int, int.map(String), smallString);

/** A JSON-protocol input made of the real member names, plausibly typed or not. */
export const jsonInput: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ input: Record<string, unknown>; entry: Record<string, unknown> }>((tie) => ({
  input: fc.record(
    {
      QueueUrl: fc.oneof({ weight: 8, arbitrary: queueUrl }, { weight: 1, arbitrary: int }),
      QueueName: fc.oneof(fc.constantFrom(...queueNames, 'new-q', 'new.fifo', 'bad name', ''), smallString),
      QueueNamePrefix: smallString,
      Attributes: fc.oneof(fc.dictionary(attributeName, attributeValue, { maxKeys: 3 }), fc.constant('x')),
      AttributeNames: fc.array(attributeName, { maxLength: 3 }),
      MessageAttributeNames: fc.array(fc.constantFrom('All', '.*', 'a', 'a.*'), { maxLength: 2 }),
      MessageSystemAttributeNames: fc.array(fc.constantFrom('All', 'SentTimestamp', 'x'), { maxLength: 2 }),
      tags: fc.dictionary(smallString, smallString, { maxKeys: 2 }),
      Tags: fc.dictionary(smallString, smallString, { maxKeys: 2 }),
      TagKeys: fc.array(smallString, { maxLength: 2 }),
      MessageBody: fc.oneof(smallString, int),
      DelaySeconds: intish,
      MessageAttributes: fc.oneof({ weight: 6, arbitrary: messageAttributes }, { weight: 1, arbitrary: fc.constant([]) }),
      MessageSystemAttributes: fc.dictionary(fc.constantFrom('AWSTraceHeader', 'x'), messageAttribute, { maxKeys: 1 }),
      MessageGroupId: smallString,
      MessageDeduplicationId: smallString,
      MaxNumberOfMessages: intish,
      VisibilityTimeout: intish,
      WaitTimeSeconds: intish,
      ReceiveRequestAttemptId: smallString,
      ReceiptHandle: smallString,
      Entries: fc.oneof({ weight: 6, arbitrary: fc.array(tie('entry'), { maxLength: 11 }) }, { weight: 1, arbitrary: fc.constant({}) }),
      SourceArn: fc.constantFrom('arn:aws:sqs:us-east-1:000000000000:dlq', 'arn:x', ''),
      DestinationArn: fc.constantFrom('arn:aws:sqs:us-east-1:000000000000:jobs', 'arn:x'),
      TaskHandle: smallString,
      MaxResults: intish,
      NextToken: smallString,
    },
    { requiredKeys: [] },
  ),
  entry: fc.record(
    {
      Id: fc.oneof(fc.constantFrom('a', 'b', 'a', 'bad id', ''), smallString),
      MessageBody: smallString,
      DelaySeconds: intish,
      MessageAttributes: messageAttributes,
      MessageGroupId: smallString,
      MessageDeduplicationId: smallString,
      ReceiptHandle: smallString,
      VisibilityTimeout: intish,
    },
    { requiredKeys: [] },
  ),
})).input.map((o) => ({ ...o }));

/** A percent-escape, valid or not (bad hex, truncated, invalid UTF-8). */
const escape = fc.constantFrom('%20', '%2B', '%3D', '%26', '%C3%A9', '%ZZ', '%', '%4', '%C3%28', '%E2%82', '%F0%9F%98%80', '%ED%A0%80', '+', '%00');

/** A form parameter name of the query protocol, with its indexes. */
const formName = fc.oneof(
  fc.constantFrom('Action', 'Version', 'QueueUrl', 'QueueName', 'MessageBody', 'DelaySeconds', 'ReceiptHandle', 'VisibilityTimeout', 'MaxNumberOfMessages', 'WaitTimeSeconds', 'MessageGroupId', 'QueueNamePrefix', 'SourceArn', 'Bogus'),
  fc.tuple(fc.nat({ max: 12 }), fc.constantFrom('Name', 'Value')).map(([n, k]) => `Attribute.${n}.${k}`),
  fc.tuple(fc.nat({ max: 12 })).map(([n]) => `AttributeName.${n}`),
  fc.tuple(fc.nat({ max: 12 }), fc.constantFrom('Key', 'Value')).map(([n, k]) => `Tag.${n}.${k}`),
  fc.tuple(fc.nat({ max: 12 }), fc.constantFrom('Name', 'Value.StringValue', 'Value.BinaryValue', 'Value.DataType')).map(([n, k]) => `MessageAttribute.${n}.${k}`),
  fc
    .tuple(fc.nat({ max: 12 }), fc.constantFrom('Id', 'MessageBody', 'DelaySeconds', 'MessageGroupId'), fc.nat({ max: 3 }), fc.constantFrom('Name', 'Value.StringValue', 'Value.BinaryValue', 'Value.DataType'), fc.boolean())
    .map(([n, f, m, k, attr]) => (attr ? `SendMessageBatchRequestEntry.${n}.MessageAttribute.${m}.${k}` : `SendMessageBatchRequestEntry.${n}.${f}`)),
  fc.tuple(fc.nat({ max: 12 }), fc.constantFrom('Id', 'ReceiptHandle', 'VisibilityTimeout')).map(([n, f]) => `DeleteMessageBatchRequestEntry.${n}.${f}`),
  fc.tuple(fc.nat({ max: 12 }), fc.constantFrom('Id', 'ReceiptHandle', 'VisibilityTimeout')).map(([n, f]) => `ChangeMessageVisibilityBatchRequestEntry.${n}.${f}`),
  fc.string({ maxLength: 6 }),
);

/** A form text (body or query string): name=value pairs with encoded or raw parts and random escapes. */
export const formText = (action: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.option(action, { nil: undefined }),
      fc.array(fc.tuple(formName, fc.oneof(smallString.map(encodeURIComponent), smallString, escape, queueUrl.map(encodeURIComponent), attributeValue.map(encodeURIComponent)), fc.option(escape, { nil: undefined })), { maxLength: 8 }),
      fc.constantFrom('&', '&&'),
    )
    .map(([a, pairs, sep]) => {
      const parts = pairs.map(([n, v, e]) => `${n}=${v}${e ?? ''}`);
      if (a !== undefined) parts.unshift(`Action=${a}`);
      return parts.join(sep);
    });

const headerValue = fc.oneof(smallString, fc.constantFrom('application/x-amz-json-1.0', 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/x-amz-json-1.0; charset=UTF-8', 'text/plain'));

/** A JSON-protocol HTTP request (mostly well-formed around a random body). */
const jsonRequest: fc.Arbitrary<SqsHttpRequest> = fc
  .tuple(
    fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...actionNames).map((a) => `AmazonSQS.${a}`) }, { weight: 1, arbitrary: smallString }, { weight: 1, arbitrary: fc.constantFrom('AmazonSQS.', 'AmazonSQS.a b', 'Other.SendMessage') }),
    fc.oneof({ weight: 9, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'post', '') }),
    fc.oneof({ weight: 9, arbitrary: fc.constant('application/x-amz-json-1.0') }, { weight: 1, arbitrary: headerValue }),
    fc.oneof(
      { weight: 6, arbitrary: jsonInput.map((o) => Buffer.from(JSON.stringify(o))) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? '')) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)) },
    ),
  )
  .map(([target, method, type, body]) => ({ method, path: '/', headers: { 'x-amz-target': target, 'content-type': type, host: 'localhost:9324' }, body }));

/** A query-protocol HTTP request: a form body, a query string, or both. */
const queryRequest: fc.Arbitrary<SqsHttpRequest> = fc
  .tuple(
    fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...actionNames) }, { weight: 1, arbitrary: fc.oneof(smallString.map(encodeURIComponent), escape) }),
    fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 2, arbitrary: fc.constantFrom('GET', 'DELETE') }),
    fc.oneof({ weight: 8, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 2, arbitrary: headerValue }),
    fc.constantFrom('/', '/000000000000/jobs', '/000000000000/orders.fifo/', '/a/b/c', '/v1/x'),
    fc.boolean(),
  )
  .chain(([action, method, type, path, inQuery]) =>
    fc.tuple(formText(fc.constant(action)), fc.option(formText(fc.constant(action)), { nil: undefined })).map(([form, extra]) => ({
      method,
      path: inQuery || method === 'GET' ? `${path}?${form}` : extra !== undefined ? `${path}?${extra}` : path,
      headers: { 'content-type': type, host: 'localhost:9324' },
      body: Buffer.from(inQuery || method === 'GET' ? '' : form),
    })),
  );

/** An SQS HTTP request of either protocol, or junk. */
export const sqsRequest: fc.Arbitrary<SqsHttpRequest> = fc.oneof(
  { weight: 5, arbitrary: jsonRequest },
  { weight: 5, arbitrary: queryRequest },
  {
    weight: 1,
    arbitrary: fc
      .record({ method: fc.constantFrom('GET', 'POST', 'PATCH'), path: fc.string({ maxLength: 20 }), type: headerValue, body: fc.uint8Array({ maxLength: 30 }) })
      .map((r) => ({ method: r.method, path: r.path, headers: { 'content-type': r.type }, body: Buffer.from(r.body) })),
  },
);
