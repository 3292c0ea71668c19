/**
 * Response encoding checked byte for byte: the JSON result and error
 * envelopes with their headers, the query protocol's XML for results with
 * flattened lists and maps (including the move task actions botocore 1.29
 * does not know), empty outputs, errors, and XML escaping of what message
 * bodies may hold.
 */
import { describe, expect, it } from 'vitest';
import { SqsError } from '../../../src/api/sqs/sqs-errors.js';
import type { SqsCall } from '../../../src/api/sqs/sqs-request.js';
import { encodeSqsError, encodeSqsResult } from '../../../src/api/sqs/sqs-response.js';
import { escapeXml } from '../../../src/api/sqs/sqs-xml.js';

const XMLNS = 'http://queue.amazonaws.com/doc/2012-11-05/';
const query = (action: string): SqsCall => ({ protocol: 'query', action, input: {} });
const meta = (id: string): string => `<ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata>`;

describe('JSON protocol responses', () => {
  it('encodes a result as JSON with the request id', () => {
    const res = encodeSqsResult({ protocol: 'json', action: 'GetQueueUrl', input: {} }, { QueueUrl: 'http://x/1/q' }, 'rid');
    expect(res).toEqual({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(Buffer.byteLength(res.body)), 'x-amzn-requestid': 'rid' },
      body: '{"QueueUrl":"http://x/1/q"}',
    });
    expect(encodeSqsResult({ protocol: 'json', action: 'DeleteQueue', input: {} }, {}, 'rid').body).toBe('{}');
  });

  it('encodes an error with __type, message and the query error header', () => {
    const res = encodeSqsError('json', new SqsError('QueueDoesNotExist', 'The specified queue does not exist.'), 'rid');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' });
    expect(res.headers['x-amzn-query-error']).toBe('AWS.SimpleQueueService.NonExistentQueue;Sender');
    expect(res.headers['x-amzn-requestid']).toBe('rid');
    const internal = encodeSqsError('json', new SqsError('InternalFailure', 'x'), 'r2');
    expect([internal.status, internal.headers['x-amzn-query-error']]).toEqual([500, 'InternalFailure;Receiver']);
    expect(encodeSqsError('json', new SqsError('Odd\r\nCode', 'x'), 'r').headers['x-amzn-query-error']).toBe('OddCode;Sender');
  });
});

describe('query protocol responses', () => {
  it('wraps results in Response/Result with ResponseMetadata, and empty outputs without Result', () => {
    const res = encodeSqsResult(query('CreateQueue'), { QueueUrl: 'http://x/1/q' }, 'rid');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/xml');
    expect(res.body).toBe(`<?xml version="1.0"?><CreateQueueResponse xmlns="${XMLNS}"><CreateQueueResult><QueueUrl>http://x/1/q</QueueUrl></CreateQueueResult>${meta('rid')}</CreateQueueResponse>`);
    expect(encodeSqsResult(query('DeleteMessage'), {}, 'r').body).toBe(`<?xml version="1.0"?><DeleteMessageResponse xmlns="${XMLNS}">${meta('r')}</DeleteMessageResponse>`);
    expect(encodeSqsResult(query('ListQueues'), {}, 'r').body).toContain('<ListQueuesResult></ListQueuesResult>');
  });

  it('writes ReceiveMessage messages with flattened attributes and message attributes', () => {
    const body = encodeSqsResult(
      query('ReceiveMessage'),
      {
        Messages: [
          {
            MessageId: 'm',
            ReceiptHandle: 'r',
            MD5OfBody: 'd',
            Body: 'a\r\nb',
            Attributes: { SentTimestamp: '1' },
            MD5OfMessageAttributes: 'e',
            MessageAttributes: { k: { StringValue: 'v', DataType: 'String' }, b: { BinaryValue: 'AAE=', DataType: 'Binary' } },
          },
        ],
      },
      'rid',
    ).body;
    expect(body).toContain(
      '<ReceiveMessageResult><Message><MessageId>m</MessageId><ReceiptHandle>r</ReceiptHandle><MD5OfBody>d</MD5OfBody><Body>a&#xD;\nb</Body>' +
        '<Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute><MD5OfMessageAttributes>e</MD5OfMessageAttributes>' +
        '<MessageAttribute><Name>k</Name><Value><StringValue>v</StringValue><DataType>String</DataType></Value></MessageAttribute>' +
        '<MessageAttribute><Name>b</Name><Value><BinaryValue>AAE=</BinaryValue><DataType>Binary</DataType></Value></MessageAttribute></Message></ReceiveMessageResult>',
    );
  });

  it('writes batch results, booleans, tags, dead letter sources and move tasks', () => {
    expect(encodeSqsResult(query('DeleteMessageBatch'), { Successful: [{ Id: 'a' }], Failed: [{ Id: 'b', SenderFault: false, Code: 'X', Message: 'm' }] }, 'r').body).toContain(
      '<DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>a</Id></DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>b</Id><SenderFault>false</SenderFault><Code>X</Code><Message>m</Message></BatchResultErrorEntry></DeleteMessageBatchResult>',
    );
    expect(encodeSqsResult(query('ListQueueTags'), { Tags: { a: '1' } }, 'r').body).toContain('<ListQueueTagsResult><Tag><Key>a</Key><Value>1</Value></Tag></ListQueueTagsResult>');
    expect(encodeSqsResult(query('ListDeadLetterSourceQueues'), { queueUrls: ['u1', 'u2'], NextToken: 't' }, 'r').body).toContain(
      '<ListDeadLetterSourceQueuesResult><QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl><NextToken>t</NextToken></ListDeadLetterSourceQueuesResult>',
    );
    expect(encodeSqsResult(query('StartMessageMoveTask'), { TaskHandle: 'h' }, 'r').body).toContain('<StartMessageMoveTaskResult><TaskHandle>h</TaskHandle></StartMessageMoveTaskResult>');
    expect(encodeSqsResult(query('CancelMessageMoveTask'), { ApproximateNumberOfMessagesMoved: 4 }, 'r').body).toContain(
      '<CancelMessageMoveTaskResult><ApproximateNumberOfMessagesMoved>4</ApproximateNumberOfMessagesMoved></CancelMessageMoveTaskResult>',
    );
    expect(encodeSqsResult(query('ListMessageMoveTasks'), { Results: [{ TaskHandle: 'h', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1, StartedTimestamp: 2 }] }, 'r').body).toContain(
      '<ListMessageMoveTasksResult><ListMessageMoveTasksResultEntry><TaskHandle>h</TaskHandle><Status>RUNNING</Status><ApproximateNumberOfMessagesMoved>1</ApproximateNumberOfMessagesMoved><StartedTimestamp>2</StartedTimestamp></ListMessageMoveTasksResultEntry></ListMessageMoveTasksResult>',
    );
  });

  it('writes an unknown action with output as its scalar members', () => {
    expect(encodeSqsResult(query('FutureAction'), { A: 'x', B: 2, C: { d: 1 } }, 'r').body).toContain('<FutureActionResult><A>x</A><B>2</B></FutureActionResult>');
  });

  it('encodes errors as ErrorResponse with the query code and status', () => {
    const res = encodeSqsError('query', new SqsError('QueueDoesNotExist', 'no <queue> & "x"'), 'rid');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('text/xml');
    expect(res.body).toBe(
      `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>` +
        '<Message>no &lt;queue&gt; &amp; &quot;x&quot;</Message><Detail/></Error><RequestId>rid</RequestId></ErrorResponse>',
    );
    const s = encodeSqsError('query', new SqsError('ServiceUnavailable', 'later'), 'r');
    expect([s.status, s.body.includes('<Type>Receiver</Type>')]).toEqual([503, true]);
    expect(encodeSqsError('query', new SqsError('PurgeQueueInProgress', 'p'), 'r').status).toBe(403);
  });
});

describe('escapeXml', () => {
  it('escapes markup, keeps tabs and newlines, writes CR as &#xD; and replaces what XML 1.0 cannot hold', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
    expect(escapeXml('a\tb\nc\rd')).toBe('a\tb\nc&#xD;d');
    expect(escapeXml('\u0000\u0008\u000b\u001f\ufffe\uffff')).toBe('\ufffd'.repeat(6));
    expect(escapeXml('ok 😀 \ud800 x \udc00')).toBe('ok 😀 \ufffd x \ufffd');
    expect(escapeXml('\u0085\u007f\ue000\u2028')).toBe('\u0085\u007f\ue000\u2028');
  });
});
