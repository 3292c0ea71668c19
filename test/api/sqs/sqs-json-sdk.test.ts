/**
 * The AWS JSON 1.0 protocol against the real @aws-sdk/client-sqs: every
 * supported action is sent by the SDK, decoded by parseSqsCall (the input
 * must be what the SDK was given), answered through encodeSqsResult and
 * read back by the SDK's deserializer; errors come back as the SDK's own
 * exception classes with our message.
 */
import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  InvalidAttributeName,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueueTagsCommand,
  ListQueuesCommand,
  OverLimit,
  PurgeQueueCommand,
  PurgeQueueInProgress,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSServiceException,
  StartMessageMoveTaskCommand,
  TagQueueCommand,
  TooManyEntriesInBatchRequest,
  UnsupportedOperation,
  UntagQueueCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsError } from '../../../src/api/sqs/sqs-errors.js';
import { md5OfBody, md5OfMessageAttributes } from '../../../src/api/sqs/sqs-md5.js';
import { sdkLoop } from './sdk-loop.js';

const Q = 'http://localhost:9324/000000000000/jobs';
const BIN = Uint8Array.from([0, 1, 2, 250, 255]);
const BIN64 = Buffer.from(BIN).toString('base64');
const BODY = 'héllo\t<&>\r\n"\'';
const ATTRS = { s: { DataType: 'String', StringValue: 'é' }, n: { DataType: 'Number', StringValue: '42' }, b: { DataType: 'Binary', BinaryValue: BIN64 } };

/** One action: the SDK command, its input as the SDK takes it, the JSON input we must decode, the JSON output and what the SDK must make of it. */
interface Case {
  readonly action: string;
  readonly command: (input: Record<string, unknown>) => SdkCommand;
  readonly input: Record<string, unknown>;
  readonly wire?: Record<string, unknown>;
  readonly output: Record<string, unknown>;
  readonly parsed?: Record<string, unknown>;
}

/** Any SQS command, as SQSClient.send takes it. */
type SdkCommand = Parameters<ReturnType<typeof sdkLoop>['client']['send']>[0];

/** The command class as a function of an untyped input (each class has its own input type). */
const cmd =
  <T>(C: new (input: T, ...rest: never[]) => object) =>
  (input: Record<string, unknown>): SdkCommand =>
    new C(input as T) as unknown as SdkCommand;

const message = {
  MessageId: 'm-1',
  ReceiptHandle: 'rh-1',
  MD5OfBody: md5OfBody(BODY),
  Body: BODY,
  Attributes: { SentTimestamp: '1700000000000', ApproximateReceiveCount: '2' },
  MD5OfMessageAttributes: md5OfMessageAttributes(ATTRS),
  MessageAttributes: ATTRS,
};

const CASES: Case[] = [
  { action: 'CreateQueue', command: cmd(CreateQueueCommand), input: { QueueName: 'jobs', Attributes: { VisibilityTimeout: '30', FifoQueue: 'false' }, tags: { team: 'a' } }, output: { QueueUrl: Q } },
  { action: 'DeleteQueue', command: cmd(DeleteQueueCommand), input: { QueueUrl: Q }, output: {} },
  { action: 'GetQueueUrl', command: cmd(GetQueueUrlCommand), input: { QueueName: 'jobs', QueueOwnerAWSAccountId: '000000000000' }, output: { QueueUrl: Q } },
  { action: 'ListQueues', command: cmd(ListQueuesCommand as new (input: object) => object), input: { QueueNamePrefix: 'j', MaxResults: 5, NextToken: 't0' }, output: { QueueUrls: [Q, `${Q}2`], NextToken: 't1' } },
  { action: 'GetQueueAttributes', command: cmd(GetQueueAttributesCommand), input: { QueueUrl: Q, AttributeNames: ['All'] }, output: { Attributes: { VisibilityTimeout: '30', QueueArn: 'arn:aws:sqs:us-east-1:000000000000:jobs' } } },
  { action: 'SetQueueAttributes', command: cmd(SetQueueAttributesCommand), input: { QueueUrl: Q, Attributes: { DelaySeconds: '5' } }, output: {} },
  { action: 'PurgeQueue', command: cmd(PurgeQueueCommand), input: { QueueUrl: Q }, output: {} },
  {
    action: 'SendMessage',
    command: cmd(SendMessageCommand),
    input: { QueueUrl: Q, MessageBody: BODY, DelaySeconds: 3, MessageAttributes: { ...ATTRS, b: { DataType: 'Binary', BinaryValue: BIN } }, MessageGroupId: 'g', MessageDeduplicationId: 'd' },
    wire: { QueueUrl: Q, MessageBody: BODY, DelaySeconds: 3, MessageAttributes: ATTRS, MessageGroupId: 'g', MessageDeduplicationId: 'd' },
    output: { MD5OfMessageBody: md5OfBody(BODY), MD5OfMessageAttributes: md5OfMessageAttributes(ATTRS), MessageId: 'm-1', SequenceNumber: '1' },
  },
  {
    action: 'SendMessageBatch',
    command: cmd(SendMessageBatchCommand),
    input: { QueueUrl: Q, Entries: [{ Id: 'a', MessageBody: 'x', DelaySeconds: 1, MessageAttributes: { s: ATTRS.s } }, { Id: 'b', MessageBody: 'y' }] },
    output: {
      Successful: [{ Id: 'a', MessageId: 'm-a', MD5OfMessageBody: md5OfBody('x'), MD5OfMessageAttributes: md5OfMessageAttributes({ s: ATTRS.s }) }],
      Failed: [{ Id: 'b', SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad' }],
    },
  },
  {
    action: 'ReceiveMessage',
    command: cmd(ReceiveMessageCommand),
    input: { QueueUrl: Q, AttributeNames: ['All'], MessageSystemAttributeNames: ['SentTimestamp'], MessageAttributeNames: ['All'], MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 20, ReceiveRequestAttemptId: 'r' },
    output: { Messages: [message] },
    parsed: { Messages: [{ ...message, MessageAttributes: { ...ATTRS, b: { DataType: 'Binary', BinaryValue: BIN } } }] },
  },
  { action: 'DeleteMessage', command: cmd(DeleteMessageCommand), input: { QueueUrl: Q, ReceiptHandle: 'rh' }, output: {} },
  {
    action: 'DeleteMessageBatch',
    command: cmd(DeleteMessageBatchCommand),
    input: { QueueUrl: Q, Entries: [{ Id: 'a', ReceiptHandle: 'r1' }, { Id: 'b', ReceiptHandle: 'r2' }] },
    output: { Successful: [{ Id: 'a' }], Failed: [{ Id: 'b', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'no' }] },
  },
  { action: 'ChangeMessageVisibility', command: cmd(ChangeMessageVisibilityCommand), input: { QueueUrl: Q, ReceiptHandle: 'rh', VisibilityTimeout: 0 }, output: {} },
  {
    action: 'ChangeMessageVisibilityBatch',
    command: cmd(ChangeMessageVisibilityBatchCommand),
    input: { QueueUrl: Q, Entries: [{ Id: 'a', ReceiptHandle: 'r1', VisibilityTimeout: 60 }] },
    output: { Successful: [{ Id: 'a' }], Failed: [] },
  },
  { action: 'TagQueue', command: cmd(TagQueueCommand), input: { QueueUrl: Q, Tags: { team: 'a', env: 'dev' } }, output: {} },
  { action: 'UntagQueue', command: cmd(UntagQueueCommand), input: { QueueUrl: Q, TagKeys: ['team', 'env'] }, output: {} },
  { action: 'ListQueueTags', command: cmd(ListQueueTagsCommand), input: { QueueUrl: Q }, output: { Tags: { team: 'a' } } },
  { action: 'ListDeadLetterSourceQueues', command: cmd(ListDeadLetterSourceQueuesCommand), input: { QueueUrl: Q, MaxResults: 2 }, output: { queueUrls: [`${Q}-src`], NextToken: 'n' } },
  { action: 'StartMessageMoveTask', command: cmd(StartMessageMoveTaskCommand), input: { SourceArn: 'arn:dlq', DestinationArn: 'arn:src', MaxNumberOfMessagesPerSecond: 50 }, output: { TaskHandle: 'h' } },
  {
    action: 'ListMessageMoveTasks',
    command: cmd(ListMessageMoveTasksCommand),
    input: { SourceArn: 'arn:dlq', MaxResults: 10 },
    output: { Results: [{ TaskHandle: 'h', Status: 'RUNNING', SourceArn: 'arn:dlq', DestinationArn: 'arn:src', MaxNumberOfMessagesPerSecond: 50, ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 9, StartedTimestamp: 1700000000000 }] },
  },
  { action: 'CancelMessageMoveTask', command: cmd(CancelMessageMoveTaskCommand), input: { TaskHandle: 'h' }, output: { ApproximateNumberOfMessagesMoved: 3 } },
];

describe('AWS JSON 1.0 through @aws-sdk/client-sqs', () => {
  it('covers all 21 supported actions', () => {
    expect(new Set(CASES.map((c) => c.action)).size).toBe(21);
  });

  for (const c of CASES) {
    it(`${c.action}: the SDK's request decodes to its input and our output decodes to the SDK's result`, async () => {
      const loop = sdkLoop(() => c.output);
      const { $metadata, ...result } = (await loop.client.send(c.command(c.input))) as unknown as Record<string, unknown>;
      expect(loop.calls).toEqual([{ protocol: 'json', action: c.action, input: c.wire ?? c.input }]);
      expect(result).toEqual(c.parsed ?? c.output);
      expect($metadata).toMatchObject({ httpStatusCode: 200, requestId: 'req-1' });
    });
  }
});

describe('JSON errors as the SDK raises them', () => {
  const cases: Array<[SqsError, new (...args: never[]) => Error, string]> = [
    [new SqsError('QueueDoesNotExist', 'The specified queue does not exist.'), QueueDoesNotExist, 'AWS.SimpleQueueService.NonExistentQueue'],
    [new SqsError('ReceiptHandleIsInvalid', 'The input receipt handle "x" is not valid.'), ReceiptHandleIsInvalid, 'ReceiptHandleIsInvalid'],
    [new SqsError('QueueNameExists', 'A queue already exists with the same name and a different value for attribute VisibilityTimeout'), QueueNameExists, 'QueueAlreadyExists'],
    [new SqsError('OverLimit', 'too many inflight'), OverLimit, 'OverLimit'],
    [new SqsError('PurgeQueueInProgress', 'purge in 60s'), PurgeQueueInProgress, 'AWS.SimpleQueueService.PurgeQueueInProgress'],
    [new SqsError('TooManyEntriesInBatchRequest', 'max 10'), TooManyEntriesInBatchRequest, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest'],
    [new SqsError('UnsupportedOperation', 'AddPermission is not supported'), UnsupportedOperation, 'AWS.SimpleQueueService.UnsupportedOperation'],
    [new SqsError('InvalidAttributeName', 'Unknown Attribute Foo.'), InvalidAttributeName, 'InvalidAttributeName'],
  ];
  for (const [err, Cls, queryCode] of cases) {
    it(`${err.code} -> ${Cls.name}`, async () => {
      const loop = sdkLoop(() => {
        throw err;
      });
      const caught = await loop.client.send(new DeleteQueueCommand({ QueueUrl: Q })).catch((e: unknown) => e);
      expect(caught).toBeInstanceOf(Cls);
      expect(caught).toBeInstanceOf(SQSServiceException);
      const e = caught as SQSServiceException & { Code?: string; Error?: { Code?: string; Type?: string } };
      expect(e.name).toBe(err.code);
      expect(e.message).toBe(err.message);
      expect(e.$metadata.httpStatusCode).toBe(err.status);
      expect(e.$fault).toBe('client');
      expect(e.Error?.Code).toBe(queryCode);
      expect(e.Error?.Type).toBe('Sender');
    });
  }

  it('unmodeled codes (InvalidParameterValue, InternalFailure) come as SQSServiceException with that name', async () => {
    for (const err of [new SqsError('InvalidParameterValue', 'Value -1 for parameter MaxNumberOfMessages is invalid.'), new SqsError('InternalFailure', 'boom')]) {
      const loop = sdkLoop(() => {
        throw err;
      });
      const caught = (await loop.client.send(new DeleteQueueCommand({ QueueUrl: Q })).catch((e: unknown) => e)) as SQSServiceException;
      expect(caught).toBeInstanceOf(SQSServiceException);
      expect(caught.name).toBe(err.code);
      expect(caught.message).toBe(err.message);
      expect(caught.$metadata.httpStatusCode).toBe(err.status);
      expect(caught.$fault).toBe(err.status >= 500 ? 'server' : 'client');
    }
  });

  it('an action outside the list still decodes (for UnsupportedOperation)', async () => {
    const { AddPermissionCommand } = await import('@aws-sdk/client-sqs');
    const loop = sdkLoop((call) => {
      throw new SqsError('UnsupportedOperation', `${call.action} is not supported`);
    });
    const caught = await loop.client.send(new AddPermissionCommand({ QueueUrl: Q, Label: 'l', AWSAccountIds: ['1'], Actions: ['SendMessage'] })).catch((e: unknown) => e);
    expect(caught).toBeInstanceOf(UnsupportedOperation);
    expect((caught as Error).message).toBe('AddPermission is not supported');
    expect(loop.calls[0]?.action).toBe('AddPermission');
  });
});
