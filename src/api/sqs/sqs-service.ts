/**
 * The SQS API on the HTTP port: one door for SQS requests. It authenticates (SigV4 against the
 * configured access keys, or nothing in the explicit open mode), parses either AWS protocol
 * (sqs-request.ts), runs the action over the op layer, and answers in the protocol the request
 * came in (sqs-response.ts). Every failure becomes an SQS-shaped error; the node stays healthy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { readBody } from '../http-body.js';
import type { QueueOpsContext } from '../queue-ops.js';
import type { SqsAction, SqsContext } from './sqs-context.js';
import { toSqsError } from './sqs-error-map.js';
import { SqsError } from './sqs-errors.js';
import { moveTaskActions } from './sqs-move-tasks.js';
import { baseUrlOf, type SqsIdentity } from './sqs-names.js';
import { queueActions } from './sqs-queues.js';
import { ReceiveAttempts } from './sqs-receive-attempts.js';
import { receiveActions } from './sqs-receive.js';
import { looksLikeSqs, parseSqsCall, type SqsCall, type SqsHttpRequest, type SqsProtocol } from './sqs-request.js';
import { encodeSqsError, encodeSqsResult, type SqsHttpResponse } from './sqs-response.js';
import { sendActions } from './sqs-send.js';
import { settleActions } from './sqs-settle.js';
import { verifySigV4, type SqsCredentials } from './sqs-sigv4.js';

/** Every SQS action raftq serves, by name. */
export const sqsActions: Readonly<Record<string, SqsAction>> = {
  ...queueActions,
  ...sendActions,
  ...receiveActions,
  ...settleActions,
  ...moveTaskActions,
};

/** How the SQS API is set up on a node. */
export interface SqsServiceOptions {
  readonly identity: SqsIdentity;
  /** Access keys whose SigV4 signatures are accepted. When empty, `open` decides. */
  readonly credentials: ReadonlyMap<string, SqsCredentials>;
  /** Accept requests without checking signatures (local clusters); only when no credentials are configured. */
  readonly open: boolean;
  /** This node's HTTP address for queue URLs when a request has no usable Host header. */
  readonly fallbackHost: string;
  /** The node serves HTTPS: queue URLs are https (default false). */
  readonly tls?: boolean;
  readonly bodyBytesMax: number;
  readonly logger: Logger;
}

/** What the SQS API needs of the HTTP server serving one request. */
export interface SqsRequestScope {
  readonly ops: QueueOpsContext;
  readonly requestId: string;
  /** Aborted at shutdown: ends long polls. */
  readonly stop: AbortSignal;
}

/** The SQS API of one node. */
export class SqsService {
  readonly #o: SqsServiceOptions;
  readonly #attempts = new ReceiveAttempts();

  constructor(o: SqsServiceOptions) {
    this.#o = o;
  }

  /** Whether `req` is an SQS request (from its method, path and headers; the body is not read). */
  handles(req: IncomingMessage): boolean {
    return looksLikeSqs(req.method ?? 'GET', req.url ?? '/', req.headers);
  }

  /** Serves one SQS request; returns the name it is counted under (`sqs:<Action>`). */
  async serve(req: IncomingMessage, res: ServerResponse, scope: SqsRequestScope): Promise<string> {
    let protocol: SqsProtocol = req.headers['x-amz-target'] !== undefined ? 'json' : 'query';
    let name = 'sqs';
    let out: SqsHttpResponse;
    try {
      const body = await readBody(req, this.#o.bodyBytesMax).catch((e: unknown) => {
        throw new SqsError('InvalidParameterValue', `The request is too large: ${e instanceof Error ? e.message : String(e)}`, 413);
      });
      const http: SqsHttpRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      const call: SqsCall = parseSqsCall(http);
      protocol = call.protocol;
      const action = Object.hasOwn(sqsActions, call.action) ? sqsActions[call.action] : undefined;
      // Metric labels stay bounded: a client-chosen action name is not one.
      name = action !== undefined ? `sqs:${call.action}` : 'sqs:unsupported';
      const principal = this.#authenticate(http);
      if (action === undefined) throw new SqsError('UnsupportedOperation', `raftq does not support the SQS action ${call.action}.`);
      const ctx: SqsContext = {
        ops: scope.ops,
        id: this.#o.identity,
        baseUrl: baseUrlOf(typeof req.headers.host === 'string' ? req.headers.host : undefined, this.#o.fallbackHost, this.#o.tls === true ? 'https' : 'http'),
        stop: scope.stop,
        attempts: this.#attempts,
      };
      out = encodeSqsResult(call, await action(ctx, call.input), scope.requestId);
      this.#o.logger.debug({ route: name, reqId: scope.requestId, principal }, 'SQS request served');
    } catch (e) {
      const err = toSqsError(e);
      if (err.status >= 500) this.#o.logger.warn({ err: e, route: name, reqId: scope.requestId, code: err.code }, 'SQS request failed');
      else this.#o.logger.debug({ route: name, reqId: scope.requestId, code: err.code }, 'SQS request refused');
      out = encodeSqsError(protocol, err, scope.requestId);
    }
    res.statusCode = out.status;
    for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
    res.end(out.body);
    return name;
  }

  /** The caller (logged): the access key whose signature checked out, or `open` in open mode. */
  #authenticate(req: SqsHttpRequest): string {
    if (this.#o.credentials.size > 0) return verifySigV4(req, this.#o.credentials, Date.now()).accessKeyId;
    if (this.#o.open) return 'open';
    throw new SqsError('MissingAuthenticationToken', 'The SQS API of this node is closed: start it with --sqs-credentials-file (SigV4 access keys) or, for a local cluster, --sqs-open.', 403);
  }
}
