import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Logger } from 'pino';
import { RaftqError, isErrorCode } from '../errors.js';
import type { CommandResult, QueueInfo, ReceivedMessage } from '../queue/index.js';
import { toRaftqError } from '../server/error-map.js';
import type { NodeRuntime } from '../server/node-runtime.js';
import type { QueueApplication, QueueReply } from '../server/queue-app.js';
import { adminRoute } from './admin-routes.js';
import { audited, auditLine, type Access } from './auth/access.js';
import { authorize } from './auth/authorize.js';
import type { Authenticator } from './auth/authenticator.js';
import { userRoutes } from './auth/user-routes.js';
import { clusterView } from './cluster-view.js';
import { readJsonBody } from './http-body.js';
import type { Handler, Route } from './http-route.js';
import { transferLeadershipAndWait } from './leader-transfer.js';
import { receiveWithWait } from './long-poll-receive.js';
import type { Metrics } from './metrics.js';
import type { TlsCredentials } from '../transport/index.js';
import { requestJson } from './node-http.js';
import * as ops from './queue-ops.js';
import { object, parseAck, parseChangeVisibility, parseCreateQueue, parseEnqueue, parseNack, parseReceive, parseRedrive, parseTagQueue, parseUntagQueue } from './request-schemas.js';
import type { SqsService } from './sqs/sqs-service.js';

/** What the HTTP API serves from. */
export interface HttpApiOptions {
  readonly node: NodeRuntime<CommandResult, QueueReply>;
  readonly app: QueueApplication;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly host: string;
  readonly port: number;
  readonly bodyBytesMax: number;
  /** Applied-index lag (entries) within which /ready reports ready. */
  readonly readyLagEntriesMax?: number;
  /** The SQS API served on this port (DESIGN.md "Other listeners"), if any. */
  readonly sqs?: SqsService;
  /** Serve https with these (reloadable) credentials; also used to reach other nodes over https. */
  readonly tls?: TlsCredentials;
  /** Authentication (`--auth`); absent: off. */
  readonly auth?: Authenticator;
}

/** What cluster administration needs (members, transfer-leader, backup, users). */
const clusterAdmin: Access = { action: 'admin', resources: ['cluster'], audit: true };

/** Paths served without a token whatever --auth says. */
const openPaths = new Set(['/health', '/ready']);


const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The HTTP JSON API v1 (DESIGN.md), /metrics, /health and /ready. Every node serves it; a
 * follower forwards writes to the leader through the node runtime. Responses carry the
 * leader in a `raftq-leader` header; errors are `{"error":{"code","message","leader"?}}`.
 */
export class HttpApi {
  readonly #o: HttpApiOptions;
  readonly #server: Server | HttpsServer;
  readonly #routes: Route[];
  /** Aborted when close() starts: ends long-poll receives (long-poll-receive.ts). */
  readonly #closing = new AbortController();
  #requestSeq = 0;

  constructor(o: HttpApiOptions) {
    this.#o = o;
    this.#routes = this.#buildRoutes();
    // Every waiting long poll listens on it for a moment (bounded by the requests in flight): no leak warning.
    setMaxListeners(0, this.#closing.signal);
    const serve = (req: IncomingMessage, res: ServerResponse): void => void this.#serve(req, res);
    if (o.tls !== undefined) {
      const server = createHttpsServer({ ...o.tls.material }, serve);
      o.tls.serve(server, 'http');
      this.#server = server;
    } else {
      this.#server = createServer(serve);
    }
    // Slow or half-open clients: bounded header and request times, short keep-alive.
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 60_000;
    this.#server.keepAliveTimeout = 5_000;
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off('error', reject);
        const addr = this.#server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : this.#o.port);
      });
    });
  }

  /** Stops accepting connections, ends long polls (one last receive each) and closes idle connections. */
  close(): Promise<void> {
    this.#closing.abort();
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
      setTimeout(() => this.#server.closeAllConnections(), 2000).unref();
    });
  }

  /**
   * Serves one request. Its id comes from the client's `x-request-id` header (or is made here),
   * is echoed in the response, and travels with the command when a follower forwards it, so logs
   * on every node carry the same id.
   */
  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const given = req.headers['x-request-id'];
    const reqId = typeof given === 'string' && /^[\x21-\x7e]{1,128}$/.test(given) ? given : `${this.#o.node.config.nodeId}-h${++this.#requestSeq}`;
    res.setHeader('x-request-id', reqId);
    const url = new URL(req.url ?? '/', 'http://x');
    let routeName = 'unknown';
    let status = 200;
    try {
      const leader = this.#o.node.leader();
      if (leader !== undefined) res.setHeader('raftq-leader', leader.http !== undefined ? `${leader.id} ${leader.http}` : leader.id);
      const auth = this.#o.auth;
      const sqs = this.#o.sqs;
      const isSqs = sqs?.handles(req) === true;
      // SQS keeps SigV4 with its credentials file (principals for SQS access keys come later).
      const needsToken = auth !== undefined && !isSqs && !openPaths.has(url.pathname) && (url.pathname !== '/metrics' || auth.metricsNeedToken);
      const principal = needsToken ? auth.authenticateHeader(req.headers.authorization) : undefined;
      const ctx: ops.QueueOpsContext = { node: this.#o.node, app: this.#o.app, requestId: reqId, logger: this.#o.logger, ...(principal !== undefined ? { principal } : {}) };
      if (url.pathname === '/metrics' && req.method === 'GET') {
        routeName = 'metrics';
        res.setHeader('content-type', this.#o.metrics.registry.contentType);
        res.end(await this.#o.metrics.registry.metrics());
        return;
      }
      if (isSqs && sqs !== undefined) {
        routeName = await sqs.serve(req, res, { ops: { node: this.#o.node, app: this.#o.app, requestId: reqId }, requestId: reqId, stop: this.#closing.signal });
        return;
      }
      const admin = adminRoute(this.#o.node, this.#o.bodyBytesMax, req.method ?? 'GET', url.pathname, this.#o.tls?.material.ca);
      if (admin !== undefined) {
        routeName = admin.name;
        // Reading the member list is not audited; changing members and taking backups are.
        const audit = admin.name !== 'members';
        try {
          authorize(ctx.principal, 'admin', 'cluster');
        } catch (e) {
          if (audit) auditLine(ctx, clusterAdmin, admin.name, 'FORBIDDEN');
          throw e;
        }
        await admin.serve(req, res);
        if (audit) auditLine(ctx, clusterAdmin, admin.name, res.statusCode < 300 ? 'ok' : `HTTP ${res.statusCode}`);
        return;
      }
      const match = this.#match(req.method ?? 'GET', url.pathname);
      if (match === undefined) throw new RaftqError('NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
      if (match === 'method') throw new RaftqError('INVALID_ARGUMENT', `method ${req.method} is not allowed on ${url.pathname}`);
      routeName = match.route.name;
      const body = await match.route.handler(req, match.params, ctx);
      const out = body === undefined ? '{}' : JSON.stringify(body);
      res.setHeader('content-type', 'application/json');
      res.end(out);
    } catch (e) {
      const err = toRaftqError(e);
      status = err.status;
      if (err.code === 'INTERNAL') this.#o.logger.error({ err: e, route: routeName, reqId }, 'internal error serving request');
      else this.#o.logger.debug({ route: routeName, reqId, code: err.code }, 'request failed');
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      if (err.code === 'TOO_LARGE') res.setHeader('connection', 'close');
      if (err.code === 'UNAUTHENTICATED') res.setHeader('www-authenticate', 'Bearer realm="raftq"');
      const error: Record<string, unknown> = { code: err.code, message: err.message };
      if (err.leader !== undefined) error['leader'] = err.leader;
      res.end(JSON.stringify({ error }));
    } finally {
      this.#o.metrics.httpRequests.inc({ route: routeName, status: String(res.statusCode || status) });
    }
  }

  #match(method: string, path: string): { route: Route; params: string[] } | 'method' | undefined {
    let pathMatched = false;
    for (const route of this.#routes) {
      const m = route.pattern.exec(path);
      if (m === null) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
    }
    return pathMatched ? 'method' : undefined;
  }

  #buildRoutes(): Route[] {
    const q = '([^/]+)';
    const r = (method: string, path: string, name: string, handler: Handler): Route => ({ method, pattern: new RegExp(`^${path}$`), name, handler });
    return [
      r('GET', '/health', 'health', async () => ({ status: 'ok' })),
      r('GET', '/ready', 'ready', async () => this.#ready()),
      r('GET', '/v1/cluster', 'cluster', async () => this.#cluster()),
      r('POST', '/v1/cluster/transfer-leader', 'transferLeader', async (req, _p, ctx) => audited(ctx, clusterAdmin, 'transferLeader', () => this.#transferLeader(req))),
      ...userRoutes(r, (req) => this.#body(req)),
      r('GET', '/v1/queues', 'listQueues', async (_req, _p, ctx) => ({ queues: (await ops.listQueues(ctx)).map(queueJson) })),
      r('PUT', `/v1/queues/${q}`, 'createQueue', async (req, [name], ctx) => {
        const { attributes, tags } = parseCreateQueue(await this.#body(req));
        const res = await ops.createQueue(ctx, name!, attributes, tags);
        return { queue: res.queue === undefined ? { name } : queueJson(res.queue) };
      }),
      r('GET', `/v1/queues/${q}`, 'getQueue', async (_req, [name], ctx) => queueJson(await ops.getQueue(ctx, name!))),
      r('DELETE', `/v1/queues/${q}`, 'deleteQueue', async (_req, [name], ctx) => ops.deleteQueue(ctx, name!)),
      r('POST', `/v1/queues/${q}/purge`, 'purge', async (req, [name], ctx) => {
        object(await this.#body(req), 'request', []);
        return ops.purgeQueue(ctx, name!);
      }),
      r('POST', `/v1/queues/${q}/messages`, 'enqueue', async (req, [name], ctx) => this.#enqueue(req, name!, ctx)),
      r('POST', `/v1/queues/${q}/receive`, 'receive', async (req, [name], ctx) => {
        const res = await receiveWithWait(ctx, { queue: name!, ...parseReceive(await this.#body(req)) }, this.#closing.signal);
        return { messages: res.messages.map(messageJson) };
      }),
      r('POST', `/v1/queues/${q}/ack`, 'ack', async (req, [name], ctx) => {
        const { receipts, batch } = parseAck(await this.#body(req));
        const outcomes = await ops.ack(ctx, name!, receipts);
        if (!batch && outcomes[0] === 'stale') throw new RaftqError('STALE_RECEIPT', 'the receipt belongs to an earlier delivery; the message was delivered again since');
        return batch ? { outcomes } : {};
      }),
      r('POST', `/v1/queues/${q}/nack`, 'nack', async (req, [name], ctx) => {
        const { receipt, delayMs } = parseNack(await this.#body(req));
        return { outcome: await ops.nack(ctx, name!, receipt, delayMs) };
      }),
      r('POST', `/v1/queues/${q}/visibility`, 'changeVisibility', async (req, [name], ctx) => {
        const { receipt, visibilityTimeoutMs } = parseChangeVisibility(await this.#body(req));
        return { outcome: await ops.changeVisibility(ctx, name!, receipt, visibilityTimeoutMs) };
      }),
      r('POST', `/v1/queues/${q}/redrive`, 'redrive', async (req, [name], ctx) => {
        const { destination } = parseRedrive(await this.#body(req));
        return ops.redrive(ctx, name!, destination);
      }),
      r('POST', `/v1/queues/${q}/tags`, 'tagQueue', async (req, [name], ctx) => {
        await ops.tagQueue(ctx, name!, parseTagQueue(await this.#body(req)));
        return {};
      }),
      r('POST', `/v1/queues/${q}/untag`, 'untagQueue', async (req, [name], ctx) => {
        await ops.untagQueue(ctx, name!, parseUntagQueue(await this.#body(req)));
        return {};
      }),
    ];
  }

  #body(req: IncomingMessage): Promise<unknown> {
    return readJsonBody(req, this.#o.bodyBytesMax);
  }

  /** POST /v1/queues/{name}/messages: one message or a batch, with an optional Idempotency-Key. */
  async #enqueue(req: IncomingMessage, queue: string, ctx: ops.QueueOpsContext): Promise<unknown> {
    const { messages, batch } = parseEnqueue(await this.#body(req));
    const key = req.headers['idempotency-key'];
    if (Array.isArray(key)) throw new RaftqError('INVALID_ARGUMENT', 'one Idempotency-Key header at most');
    const res = await ops.enqueue(ctx, key !== undefined ? { queue, messages, producerKey: { idempotencyKey: key } } : { queue, messages });
    return batch ? { messages: res.messages, duplicate: res.duplicate } : { ...res.messages[0], duplicate: res.duplicate };
  }

  /**
   * POST /v1/cluster/transfer-leader {to}: hands leadership to node `to`. Only the leader can;
   * a follower forwards the request to the leader's HTTP address once (the forwarded request
   * carries `raftq-forwarded`, so a stale leader view answers NOT_LEADER instead of looping).
   */
  async #transferLeader(req: IncomingMessage): Promise<unknown> {
    const o = object(await this.#body(req), 'request', ['to']);
    const to = o['to'];
    if (typeof to !== 'string' || to === '') throw new RaftqError('INVALID_ARGUMENT', 'to (a node id) is required');
    const s = this.#o.node.status();
    const leader = this.#o.node.leader();
    if (s.role === 'leader' || s.leader === to || req.headers['raftq-forwarded'] !== undefined || leader?.http === undefined) {
      return { leader: await transferLeadershipAndWait(this.#o.node, to) };
    }
    let res: { status: number; body: unknown };
    try {
      res = await requestJson({
        address: leader.http,
        method: 'POST',
        path: '/v1/cluster/transfer-leader',
        headers: { 'raftq-forwarded': s.id, ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}) },
        body: { to },
        ...(this.#o.tls !== undefined ? { ca: this.#o.tls.material.ca } : {}),
        signal: AbortSignal.timeout(this.#o.node.config.requestTimeoutMs),
      });
    } catch (e) {
      throw new RaftqError('UNAVAILABLE', `could not forward to the leader ${leader.id} at ${leader.http}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, leader });
    }
    const body = res.body as { leader?: unknown; error?: { code?: unknown; message?: unknown; leader?: { id: string; http?: string; client?: string } } };
    if (res.status >= 200 && res.status < 300 && typeof body.leader === 'string') return { leader: body.leader };
    const code = isErrorCode(body.error?.code) ? body.error.code : 'INTERNAL';
    const message = typeof body.error?.message === 'string' ? body.error.message : `leader answered HTTP ${res.status}`;
    throw new RaftqError(code, message, body.error?.leader !== undefined ? { leader: body.error.leader } : {});
  }

  #ready(): unknown {
    const s = this.#o.node.status();
    const lagMax = this.#o.readyLagEntriesMax ?? 1000;
    const lag = s.commitIndex - s.appliedIndex;
    if (s.recovering !== undefined) {
      throw new RaftqError('UNAVAILABLE', `recovering from storage damage since ${s.recovering.since}: catching up from its peers, not voting until it has (${s.recovering.reason})`);
    }
    if (s.leader === '') throw new RaftqError('UNAVAILABLE', 'no leader is known');
    if (lag > lagMax) throw new RaftqError('UNAVAILABLE', `applied index lags the commit index by ${lag} entries`);
    return { status: 'ready', leader: s.leader, lag };
  }

  /** GET /v1/cluster: the shared cluster view (cluster-view.ts), an unknown leader as null. */
  #cluster(): unknown {
    const { id, role, leader, term, commitIndex, appliedIndex, lastIndex, snapshotIndex, nodes } = clusterView(this.#o.node);
    return {
      id,
      role,
      leader: leader ?? null,
      term,
      commitIndex,
      appliedIndex,
      lastIndex,
      snapshotIndex,
      // The answering node's process, for local tooling (raftq bench failover signals it).
      pid: process.pid,
      rssBytes: process.memoryUsage.rss(),
      nodes,
    };
  }
}

function queueJson(q: QueueInfo): unknown {
  return {
    name: q.name,
    attributes: q.attributes,
    createdAt: q.createdAtMs,
    stats: q.stats,
    tags: q.tags,
    ...(q.lastRedrive === undefined ? {} : { lastRedrive: q.lastRedrive }),
  };
}

function messageJson(m: ReceivedMessage): unknown {
  let text: string | undefined;
  try {
    text = fatalDecoder.decode(m.body);
  } catch {
    text = undefined;
  }
  return {
    id: m.id,
    offset: m.offset,
    ...(text !== undefined ? { body: text } : { bodyBase64: Buffer.from(m.body).toString('base64') }),
    receipt: m.receipt,
    receiveCount: m.receiveCount,
    enqueuedAt: m.enqueuedAtMs,
    sentAt: m.sentAtMs,
    ...(m.firstReceivedAtMs !== 0 ? { firstReceivedAt: m.firstReceivedAtMs } : {}),
    attributes: m.attributes,
    ...(m.groupId !== '' ? { groupId: m.groupId } : {}),
    ...(m.dedupId !== '' ? { dedupId: m.dedupId } : {}),
  };
}
