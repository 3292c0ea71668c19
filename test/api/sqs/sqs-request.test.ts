/**
 * Request decoding without a client library: protocol detection
 * (looksLikeSqs), hand-built query forms for what botocore 1.29 cannot send
 * (the message move task actions, MessageSystemAttributeName, list
 * attribute values), GET and queue-URL-path requests, and every malformed
 * request parseSqsCall must refuse with its SqsError code.
 */
import { describe, expect, it } from 'vitest';
import { optionalInt, optionalString, requiredString } from '../../../src/api/sqs/sqs-input.js';
import { looksLikeSqs, parseSqsCall, type SqsHttpRequest } from '../../../src/api/sqs/sqs-request.js';
import { codeOf } from './error-code.js';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/x-amz-json-1.0';

function form(fields: Record<string, string>, path = '/', extra: Record<string, string> = {}): SqsHttpRequest {
  const body = Object.entries(fields).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return { method: 'POST', path, headers: { 'content-type': FORM, host: 'sqs.local:9324', ...extra }, body: Buffer.from(body) };
}

function json(target: string | undefined, body: string, contentType = JSON_TYPE): SqsHttpRequest {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (target !== undefined) headers['x-amz-target'] = target;
  return { method: 'POST', path: '/', headers, body: Buffer.from(body) };
}

describe('looksLikeSqs', () => {
  it('tells SQS requests from the project routes by headers and path', () => {
    expect(looksLikeSqs('POST', '/', { 'x-amz-target': 'AmazonSQS.SendMessage' })).toBe(true);
    expect(looksLikeSqs('POST', '/v1/queues', { 'x-amz-target': 'AmazonSQS.SendMessage' })).toBe(true);
    expect(looksLikeSqs('POST', '/', { 'X-Amz-Target': 'AmazonSQS.ListQueues' })).toBe(true);
    expect(looksLikeSqs('POST', '/', { 'x-amz-target': 'DynamoDB_20120810.GetItem' })).toBe(false);
    expect(looksLikeSqs('POST', '/', { 'content-type': `${FORM}; charset=utf-8` })).toBe(true);
    expect(looksLikeSqs('POST', '/000000000000/jobs', { 'content-type': FORM })).toBe(true);
    expect(looksLikeSqs('POST', '/v1/queues/x', { 'content-type': FORM })).toBe(false);
    expect(looksLikeSqs('POST', '/metrics', { 'content-type': FORM })).toBe(false);
    expect(looksLikeSqs('POST', '/health?x=1', { 'content-type': FORM })).toBe(false);
    expect(looksLikeSqs('GET', '/?Action=ListQueues&Version=2012-11-05', {})).toBe(true);
    expect(looksLikeSqs('GET', '/000000000000/jobs?Version=1&Action=ReceiveMessage', {})).toBe(true);
    expect(looksLikeSqs('GET', '/v1/queues', {})).toBe(false);
    expect(looksLikeSqs('GET', '/?XAction=1', {})).toBe(false);
    expect(looksLikeSqs('POST', '/v1/queues', { 'content-type': 'application/json' })).toBe(false);
  });
});

describe('parseSqsCall, query protocol by hand', () => {
  it('decodes the message move task actions and MessageSystemAttributeName', () => {
    expect(parseSqsCall(form({ Action: 'StartMessageMoveTask', Version: '2012-11-05', SourceArn: 'arn:a', DestinationArn: 'arn:b', MaxNumberOfMessagesPerSecond: '10' }))).toEqual({
      protocol: 'query',
      action: 'StartMessageMoveTask',
      input: { SourceArn: 'arn:a', DestinationArn: 'arn:b', MaxNumberOfMessagesPerSecond: 10 },
    });
    expect(parseSqsCall(form({ Action: 'ListMessageMoveTasks', SourceArn: 'arn:a', MaxResults: '3' })).input).toEqual({ SourceArn: 'arn:a', MaxResults: 3 });
    expect(parseSqsCall(form({ Action: 'CancelMessageMoveTask', TaskHandle: 'h' })).input).toEqual({ TaskHandle: 'h' });
    const receive = form({ Action: 'ReceiveMessage', QueueUrl: 'u', 'MessageSystemAttributeName.1': 'SentTimestamp', 'MessageSystemAttributeName.2': 'SenderId', WaitTimeSeconds: '0' });
    expect(parseSqsCall(receive).input).toEqual({ QueueUrl: 'u', MessageSystemAttributeNames: ['SentTimestamp', 'SenderId'], WaitTimeSeconds: 0 });
  });

  it('decodes list attribute values and orders list entries numerically', () => {
    const call = parseSqsCall(
      form({
        Action: 'SendMessageBatch',
        QueueUrl: 'u',
        'SendMessageBatchRequestEntry.10.Id': 'ten',
        'SendMessageBatchRequestEntry.10.MessageBody': 'x',
        'SendMessageBatchRequestEntry.2.Id': 'two',
        'SendMessageBatchRequestEntry.2.MessageBody': 'y',
        'SendMessageBatchRequestEntry.2.MessageAttribute.1.Name': 'l',
        'SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType': 'String',
        'SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringListValue.1': 'a',
        'SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringListValue.2': 'b',
        'SendMessageBatchRequestEntry.2.MessageAttribute.2.Name': 'bl',
        'SendMessageBatchRequestEntry.2.MessageAttribute.2.Value.DataType': 'Binary',
        'SendMessageBatchRequestEntry.2.MessageAttribute.2.Value.BinaryListValue.1': 'AAE=',
      }),
    );
    expect(call.input).toEqual({
      QueueUrl: 'u',
      Entries: [
        { Id: 'two', MessageBody: 'y', MessageAttributes: { l: { DataType: 'String', StringListValues: ['a', 'b'] }, bl: { DataType: 'Binary', BinaryListValues: ['AAE='] } } },
        { Id: 'ten', MessageBody: 'x' },
      ],
    });
  });

  it('reads GET query strings, merges POST query strings, and takes QueueUrl from a queue URL path', () => {
    const get: SqsHttpRequest = { method: 'GET', path: '/000000000000/jobs?Action=ReceiveMessage&MaxNumberOfMessages=5&AttributeName.1=All', headers: { host: 'sqs.local:9324' }, body: Buffer.alloc(0) };
    expect(parseSqsCall(get)).toEqual({ protocol: 'query', action: 'ReceiveMessage', input: { QueueUrl: 'http://sqs.local:9324/000000000000/jobs', AttributeNames: ['All'], MaxNumberOfMessages: 5 } });
    const post = form({ MessageBody: 'a+b c' }, '/000000000000/jobs?Action=SendMessage', { 'x-forwarded-proto': 'https' });
    expect(parseSqsCall(post).input).toEqual({ QueueUrl: 'https://sqs.local:9324/000000000000/jobs', MessageBody: 'a+b c' });
    expect(parseSqsCall(form({ Action: 'SendMessage', QueueUrl: 'given', MessageBody: 'm' }, '/1/q')).input['QueueUrl']).toBe('given');
    expect(parseSqsCall(form({ Action: 'ListQueues' }, '/1/q')).input).toEqual({});
    expect(parseSqsCall(form({ Action: 'ListQueues', MaxResults: ' 7 ' })).input).toEqual({ MaxResults: 7 });
  });

  it('passes unsupported actions through with their name', () => {
    expect(parseSqsCall(form({ Action: 'FrobnicateQueue', QueueUrl: 'u' }))).toEqual({ protocol: 'query', action: 'FrobnicateQueue', input: {} });
    expect(parseSqsCall(form({ Action: 'AddPermission', QueueUrl: 'u', Label: 'l', 'AWSAccountId.1': '1', 'ActionName.1': 'SendMessage' })).input).toEqual({
      QueueUrl: 'u',
      Label: 'l',
      AWSAccountIds: ['1'],
      Actions: ['SendMessage'],
    });
  });

  it('refuses malformed query requests', () => {
    expect(codeOf(() => parseSqsCall(form({ QueueUrl: 'u' })))).toBe('MissingAction');
    expect(codeOf(() => parseSqsCall(form({ Action: '' })))).toBe('MissingAction');
    expect(codeOf(() => parseSqsCall(form({ Action: 'List Queues' })))).toBe('InvalidAction');
    expect(codeOf(() => parseSqsCall(form({ Action: 'ReceiveMessage', QueueUrl: 'u', MaxNumberOfMessages: 'ten' })))).toBe('InvalidParameterValue');
    expect(codeOf(() => parseSqsCall(form({ Action: 'ReceiveMessage', QueueUrl: 'u', WaitTimeSeconds: '1.5' })))).toBe('InvalidParameterValue');
    expect(codeOf(() => parseSqsCall(form({ Action: 'GetQueueAttributes', QueueUrl: 'u', 'AttributeName.x': 'All' })))).toBe('InvalidParameterValue');
    expect(codeOf(() => parseSqsCall(form({ Action: 'GetQueueAttributes', QueueUrl: 'u', 'AttributeName.0': 'All' })))).toBe('InvalidParameterValue');
    const raw = (body: string): SqsHttpRequest => ({ method: 'POST', path: '/', headers: { 'content-type': FORM }, body: Buffer.from(body) });
    expect(codeOf(() => parseSqsCall(raw('Action=ListQueues&QueueNamePrefix=%zz')))).toBe('MalformedQueryString');
    expect(codeOf(() => parseSqsCall(raw('Action=ListQueues&QueueNamePrefix=%C3')))).toBe('MalformedQueryString');
    expect(codeOf(() => parseSqsCall(raw('=x&Action=ListQueues')))).toBe('MalformedQueryString');
    expect(codeOf(() => parseSqsCall({ method: 'POST', path: '/', headers: { 'content-type': 'text/plain' }, body: Buffer.from('Action=ListQueues') }))).toBe('InvalidParameterValue');
    expect(codeOf(() => parseSqsCall({ method: 'PUT', path: '/?Action=ListQueues', headers: {}, body: Buffer.alloc(0) }))).toBe('InvalidParameterValue');
    expect(codeOf(() => parseSqsCall({ method: 'GET', path: '/', headers: {}, body: Buffer.alloc(0) }))).toBe('MissingAction');
  });
});

describe('parseSqsCall, JSON protocol by hand', () => {
  it('decodes the target and body; an empty body is {}', () => {
    expect(parseSqsCall(json('AmazonSQS.ListQueues', '{"MaxResults":3}'))).toEqual({ protocol: 'json', action: 'ListQueues', input: { MaxResults: 3 } });
    expect(parseSqsCall(json('AmazonSQS.ListQueues', ''))).toEqual({ protocol: 'json', action: 'ListQueues', input: {} });
    expect(parseSqsCall(json('AmazonSQS.ListQueues', '{}', `${JSON_TYPE}; charset=utf-8`)).action).toBe('ListQueues');
    expect(parseSqsCall(json('AmazonSQS.FutureAction', '{"X":1}'))).toEqual({ protocol: 'json', action: 'FutureAction', input: { X: 1 } });
  });

  it('refuses malformed JSON requests', () => {
    expect(codeOf(() => parseSqsCall(json('AmazonSQS.ListQueues', '{"MaxResults":')))).toBe('SerializationException');
    expect(codeOf(() => parseSqsCall(json('AmazonSQS.ListQueues', '[1]')))).toBe('SerializationException');
    expect(codeOf(() => parseSqsCall(json('AmazonSQS.ListQueues', 'null')))).toBe('SerializationException');
    expect(codeOf(() => parseSqsCall(json('AmazonSQS.ListQueues', '"x"')))).toBe('SerializationException');
    expect(codeOf(() => parseSqsCall(json('AmazonSQS.ListQueues', '{}', 'application/json')))).toBe('InvalidParameterValue');
    expect(codeOf(() => parseSqsCall(json('AmazonSQS.', '{}')))).toBe('InvalidAction');
    expect(codeOf(() => parseSqsCall(json('AmazonSQS.List/Queues', '{}')))).toBe('InvalidAction');
    expect(codeOf(() => parseSqsCall(json('AmazonSNS.Publish', '{}')))).toBe('UnknownOperationException');
    expect(codeOf(() => parseSqsCall({ ...json('AmazonSQS.ListQueues', '{}'), method: 'GET' }))).toBe('InvalidParameterValue');
  });
});

describe('member helpers', () => {
  it('read integers and strings or refuse them', () => {
    expect(optionalInt({ a: 5, b: '6', c: null }, 'a', -1e15, 1e15)).toBe(5);
    expect(optionalInt({ b: '6' }, 'b', -1e15, 1e15)).toBe(6);
    expect(optionalInt({ c: null }, 'c', -1e15, 1e15)).toBeUndefined();
    expect(optionalInt({}, 'd', -1e15, 1e15)).toBeUndefined();
    expect(codeOf(() => optionalInt({ a: 1.5 }, 'a', -1e15, 1e15))).toBe('InvalidParameterValue');
    expect(codeOf(() => optionalInt({ a: 'x' }, 'a', -1e15, 1e15))).toBe('InvalidParameterValue');
    expect(codeOf(() => optionalInt({ a: true }, 'a', -1e15, 1e15))).toBe('InvalidParameterValue');
    expect(optionalString({ a: 's' }, 'a')).toBe('s');
    expect(codeOf(() => optionalString({ a: 1 }, 'a'))).toBe('InvalidParameterValue');
    expect(codeOf(() => requiredString({}, 'QueueUrl'))).toBe('MissingParameter');
  });
});
