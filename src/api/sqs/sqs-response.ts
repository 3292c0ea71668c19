/**
 * SQS response encoding for both protocols: results (JSON output shapes) and
 * SqsErrors, as @aws-sdk/client-sqs (AWS JSON 1.0, query-compatible) and
 * botocore / the aws CLI (query protocol, XML) read them.
 */
import { sqsQueryCode, type SqsError } from './sqs-errors.js';
import { hasQueryResult, queryResultXml } from './sqs-query-output.js';
import type { SqsCall, SqsProtocol } from './sqs-request.js';
import { escapeXml, textElement } from './sqs-xml.js';

/** An encoded HTTP response; header names are lower-case. */
export interface SqsHttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const XMLNS = 'http://queue.amazonaws.com/doc/2012-11-05/';
const JSON_TYPE = 'application/x-amz-json-1.0';
const XML_TYPE = 'text/xml';
/** The namespace of SQS shapes in `__type`, as AWS sends it. */
const TYPE_NAMESPACE = 'com.amazonaws.sqs#';

function response(status: number, contentType: string, requestId: string, body: string): SqsHttpResponse {
  return {
    status,
    headers: {
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(body, 'utf8')),
      'x-amzn-requestid': requestId,
    },
    body,
  };
}

/**
 * Encodes a successful call's output (in the JSON model's output shape):
 * the JSON itself for the JSON protocol, else
 * `<{Action}Response xmlns=...><{Action}Result>...</{Action}Result>
 * <ResponseMetadata><RequestId>..</RequestId></ResponseMetadata></{Action}Response>`
 * (without the Result element for actions whose output is empty).
 */
export function encodeSqsResult(call: SqsCall, output: Record<string, unknown>, requestId: string): SqsHttpResponse {
  if (call.protocol === 'json') {
    return response(200, JSON_TYPE, requestId, JSON.stringify(output));
  }
  const action = call.action;
  const inner = queryResultXml(action, output);
  const result = hasQueryResult(action) || inner.length > 0 ? `<${action}Result>${inner}</${action}Result>` : '';
  const body =
    `<?xml version="1.0"?><${action}Response xmlns="${XMLNS}">${result}` +
    `<ResponseMetadata>${textElement('RequestId', requestId)}</ResponseMetadata></${action}Response>`;
  return response(200, XML_TYPE, requestId, body);
}

/**
 * Encodes an error with its status. JSON: `{"__type":
 * "com.amazonaws.sqs#<Code>","message":...}` plus `x-amzn-query-error:
 * <queryCode>;<Sender|Receiver>`, from which the query-compatible SDK picks
 * its exception class. Query: `<ErrorResponse><Error><Type/><Code/>
 * <Message/><Detail/></Error><RequestId/></ErrorResponse>` with the query code.
 */
export function encodeSqsError(protocol: SqsProtocol, err: SqsError, requestId: string): SqsHttpResponse {
  const queryCode = sqsQueryCode(err.code);
  if (protocol === 'json') {
    const body = JSON.stringify({ __type: `${TYPE_NAMESPACE}${err.code}`, message: err.message });
    const res = response(err.status, JSON_TYPE, requestId, body);
    res.headers['x-amzn-query-error'] = `${queryCode.replace(/[^A-Za-z0-9._:-]/g, '')};${err.fault}`;
    return res;
  }
  const body =
    `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error>` +
    `<Type>${err.fault}</Type>${textElement('Code', queryCode)}<Message>${escapeXml(err.message)}</Message><Detail/>` +
    `</Error>${textElement('RequestId', requestId)}</ErrorResponse>`;
  return response(err.status, XML_TYPE, requestId, body);
}
