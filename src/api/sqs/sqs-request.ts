/**
 * SQS request decoding: tells an SQS request from the project's own HTTP
 * routes, picks the protocol per request as AWS does (AWS JSON 1.0 by its
 * `X-Amz-Target`, else the query protocol by form body or query string) and
 * turns either into one `SqsCall` whose input is in the JSON model's shape.
 */
import { SqsError } from './sqs-errors.js';
import { parseForm, pathOnly, queryStringOf, type SqsForm } from './sqs-form.js';
import { queryInputOf, takesQueueUrl } from './sqs-query-input.js';

/** The parts of an HTTP request the SQS wire layer reads. */
export interface SqsHttpRequest {
  readonly method: string;
  /** Path with query string, as in IncomingMessage.url. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** The two wire protocols of SQS. */
export type SqsProtocol = 'json' | 'query';

/** One decoded SQS call. */
export interface SqsCall {
  readonly protocol: SqsProtocol;
  /** Action name as given (unsupported ones too, for UnsupportedOperation). */
  readonly action: string;
  /** Always in the JSON model's input shape. */
  readonly input: Record<string, unknown>;
}

const TARGET_PREFIX = 'AmazonSQS.';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const ACTION_NAME = /^[A-Za-z][A-Za-z0-9]{0,127}$/;
const NOT_SQS_PATHS = new Set(['/metrics', '/health', '/ready']);

/** One header's value, the first if repeated; header names are matched case-insensitively. */
export function headerOf(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    const lower = name.toLowerCase();
    for (const [k, v] of Object.entries(headers)) {
      if (k.toLowerCase() === lower) {
        value = v;
        break;
      }
    }
  }
  return Array.isArray(value) ? value[0] : value;
}

function mediaType(headers: SqsHttpRequest['headers']): string {
  return (headerOf(headers, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * True for an SQS request, judged by method, path and headers only (before
 * the body is read): an `X-Amz-Target: AmazonSQS.*` header; a form content
 * type on a path not under /v1/ and not /metrics, /health or /ready; or a
 * GET with `Action=` in its query string.
 */
export function looksLikeSqs(
  method: string,
  path: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): boolean {
  const target = headerOf(headers, 'x-amz-target');
  if (target !== undefined && target.startsWith(TARGET_PREFIX)) return true;
  const p = pathOnly(path);
  const ours = p === '/v1' || p.startsWith('/v1/') || NOT_SQS_PATHS.has(p);
  if (!ours && mediaType(headers) === FORM_CONTENT_TYPE) return true;
  if (method.toUpperCase() === 'GET') {
    return /(?:^|&)Action=/.test(queryStringOf(path));
  }
  return false;
}

/**
 * Decodes an SQS request. Throws SqsError: MissingAction for a request that
 * names no action, InvalidAction for a garbled action name,
 * UnknownOperationException for an X-Amz-Target outside AmazonSQS,
 * InvalidParameterValue for a wrong content type, SerializationException
 * for a JSON body that does not parse or is not an object,
 * MalformedQueryString for a malformed form.
 */
export function parseSqsCall(req: SqsHttpRequest): SqsCall {
  const target = headerOf(req.headers, 'x-amz-target');
  if (target !== undefined) return parseJsonCall(req, target);
  return parseQueryCall(req);
}

function parseJsonCall(req: SqsHttpRequest, target: string): SqsCall {
  if (!target.startsWith(TARGET_PREFIX)) {
    throw new SqsError('UnknownOperationException', `Unknown target: ${target.slice(0, 128)}`);
  }
  const action = target.slice(TARGET_PREFIX.length);
  if (!ACTION_NAME.test(action)) {
    throw new SqsError('InvalidAction', `The action ${action.slice(0, 128)} is not valid for this endpoint.`);
  }
  if (req.method.toUpperCase() !== 'POST') {
    throw new SqsError('InvalidParameterValue', `The AWS JSON protocol takes POST requests, not ${req.method}.`);
  }
  if (!mediaType(req.headers).startsWith(JSON_CONTENT_TYPE)) {
    throw new SqsError('InvalidParameterValue', `Content type ${JSON_CONTENT_TYPE} expected for X-Amz-Target requests.`);
  }
  const text = req.body.toString('utf8').trim();
  if (text.length === 0) return { protocol: 'json', action, input: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SqsError('SerializationException', 'The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SqsError('SerializationException', 'The request body must be a JSON object.');
  }
  return { protocol: 'json', action, input: parsed as Record<string, unknown> };
}

function parseQueryCall(req: SqsHttpRequest): SqsCall {
  const method = req.method.toUpperCase();
  const form: SqsForm = parseForm(queryStringOf(req.path));
  if (method === 'POST') {
    const type = mediaType(req.headers);
    if (type === FORM_CONTENT_TYPE) {
      parseForm(req.body.toString('utf8'), form);
    } else if (req.body.length > 0 || !form.has('Action')) {
      throw new SqsError('InvalidParameterValue', `Content type ${FORM_CONTENT_TYPE} expected, got '${type}'.`);
    }
  } else if (method !== 'GET') {
    throw new SqsError('InvalidParameterValue', `The query protocol takes GET or POST requests, not ${req.method}.`);
  }
  const action = form.get('Action');
  if (action === undefined || action.length === 0) {
    throw new SqsError('MissingAction', 'The request must contain the parameter Action.');
  }
  if (!ACTION_NAME.test(action)) {
    throw new SqsError('InvalidAction', `The action ${action.slice(0, 128)} is not valid for this endpoint.`);
  }
  const input = queryInputOf(action, form);
  if (input['QueueUrl'] === undefined && takesQueueUrl(action)) {
    const url = queueUrlFromPath(req);
    if (url !== undefined) input['QueueUrl'] = url;
  }
  return { protocol: 'query', action, input };
}

/**
 * The queue URL of a query request sent to the queue's own URL
 * (`/<account>/<queue>`, as older SDKs do) without a QueueUrl parameter:
 * `http://<Host header><path>`, the scheme from X-Forwarded-Proto if given.
 */
function queueUrlFromPath(req: SqsHttpRequest): string | undefined {
  const p = pathOnly(req.path);
  if (!/^\/[^/]+\/[^/]+\/?$/.test(p)) return undefined;
  const host = headerOf(req.headers, 'host');
  if (host === undefined) return undefined;
  const proto = headerOf(req.headers, 'x-forwarded-proto') === 'https' ? 'https' : 'http';
  return `${proto}://${host}${p.replace(/\/$/, '')}`;
}
