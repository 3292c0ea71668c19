/**
 * Test helper: an @aws-sdk/client-sqs client whose HTTP handler is the SQS
 * wire layer itself. Each request the SDK builds is decoded by
 * parseSqsCall, handed to a test-supplied answer function, and the encoded
 * response is given back to the SDK's own deserializer.
 */
import { Readable } from 'node:stream';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsError } from '../../../src/api/sqs/sqs-errors.js';
import { parseSqsCall, type SqsCall, type SqsHttpRequest } from '../../../src/api/sqs/sqs-request.js';
import { encodeSqsError, encodeSqsResult, type SqsHttpResponse } from '../../../src/api/sqs/sqs-response.js';

/** What the fake server answers a decoded call with. */
export type Answer = (call: SqsCall) => Record<string, unknown>;

/** The smithy HttpRequest fields the handler reads. */
interface SdkRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

function pathWithQuery(req: SdkRequest): string {
  const q = Object.entries(req.query ?? {}).flatMap(([k, v]) =>
    v === null ? [encodeURIComponent(k)] : (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`),
  );
  return q.length === 0 ? req.path : `${req.path}?${q.join('&')}`;
}

function bodyBuffer(body: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new Error(`unexpected SDK request body ${typeof body}`);
}

/** A client plus the calls it made, as decoded by parseSqsCall. */
export interface SdkLoop {
  readonly client: SQSClient;
  readonly calls: SqsCall[];
  readonly requests: SqsHttpRequest[];
}

/** A client answering through `answer`; a thrown SqsError becomes an error response. */
export function sdkLoop(answer: Answer): SdkLoop {
  const calls: SqsCall[] = [];
  const requests: SqsHttpRequest[] = [];
  const requestHandler = {
    handle: async (request: SdkRequest): Promise<{ response: unknown }> => {
      const req: SqsHttpRequest = {
        method: request.method,
        path: pathWithQuery(request),
        headers: request.headers,
        body: bodyBuffer(request.body),
      };
      requests.push(req);
      let res: SqsHttpResponse;
      try {
        const call = parseSqsCall(req);
        calls.push(call);
        res = encodeSqsResult(call, answer(call), 'req-1');
      } catch (e) {
        if (!(e instanceof SqsError)) throw e;
        res = encodeSqsError('json', e, 'req-1');
      }
      return {
        response: { statusCode: res.status, reason: '', headers: { ...res.headers }, body: Readable.from([Buffer.from(res.body, 'utf8')]) },
      };
    },
    updateHttpClientConfig: (): void => {},
    httpHandlerConfigs: (): Record<string, never> => ({}),
  };
  const client = new SQSClient({
    region: 'us-east-1',
    endpoint: 'http://localhost:9324',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    requestHandler,
    maxAttempts: 1,
  });
  return { client, calls, requests };
}
