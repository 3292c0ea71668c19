/**
 * The composition root of one raftq node: it wires the node runtime (src/server) to the
 * client-facing APIs (src/api), which is why it sits above both (docs/ARCHITECTURE.md).
 */
import type { Logger } from 'pino';
import type { CommandResult } from '../queue/index.js';
import { Authenticator, readAdminToken, sha256 } from '../api/auth/authenticator.js';
import { BinaryApi } from '../api/binary-server.js';
import { HttpApi } from '../api/http-server.js';
import { Metrics } from '../api/metrics.js';
import { loadSqsCredentials } from '../api/sqs/sqs-credentials.js';
import { SqsService } from '../api/sqs/sqs-service.js';
import type { ServerConfig } from '../server/config.js';
import { createNodeLogger } from '../server/logger.js';
import { loadTestHooks } from '../server/test-hooks.js';
import { NodeRuntime } from '../server/node-runtime.js';
import { QueueApplication, queueReplyCodecs, type QueueReply } from '../server/queue-app.js';
import { deriveSizeLimits } from '../server/size-limits.js';
import { RaftqError } from '../errors.js';
import { TlsConfigError, TlsCredentials } from '../transport/index.js';

/** A running raftq server: the node runtime plus its client-facing APIs. */
export interface RunningServer {
  readonly node: NodeRuntime<CommandResult, QueueReply>;
  readonly httpPort: number;
  /** The bound port of the binary client protocol. */
  readonly clientPort: number;
  readonly logger: Logger;
  /** True when every listener serves TLS (--tls-cert/--tls-key/--tls-ca). */
  readonly tls: boolean;
  /**
   * Rereads the TLS files (SIGHUP): new connections get the new certificate; a bad file keeps
   * the old one and logs an error. Returns false then, or without TLS.
   */
  reloadTls(): boolean;
  /** Graceful shutdown: stop accepting, hand off leadership, finish in-flight work, close. */
  stop(): Promise<void>;
}

/**
 * Starts one node from a validated configuration: storage (locked), the Raft runtime, the
 * queue application, metrics, the HTTP API and the binary client protocol.
 */
export async function startServer(
  config: ServerConfig,
  opts: { logger?: Logger; now?: () => number; monoNow?: () => number; onFatal?: (e: unknown) => void } = {},
): Promise<RunningServer> {
  let node: NodeRuntime<CommandResult, QueueReply> | undefined;
  const logger =
    opts.logger ??
    createNodeLogger(config.nodeId, config.logLevel, () => {
      const s = node?.status();
      return s === undefined ? {} : { term: s.term, role: s.role };
    });
  const hooks = config.testMode ? loadTestHooks(process.env, logger) : undefined;
  const now = opts.now ?? hooks?.now;
  // A bad credentials file stops the start before the node opens its storage.
  const sqsCredentials = config.sqsCredentialsFile !== '' ? loadSqsCredentials(config.sqsCredentialsFile) : new Map<string, never>();
  const tls = loadTls(config, logger);
  // A bad admin token file stops the start too.
  const adminTokenHash = config.adminTokenFile !== '' ? sha256(readAdminToken(config.adminTokenFile)) : undefined;
  const app = new QueueApplication();
  const auth = new Authenticator(
    { mode: config.auth, metricsOpen: config.metricsOpen, ...(adminTokenHash !== undefined ? { adminTokenHash } : {}) },
    () => app.stateMachine.principals,
  );
  const metrics = new Metrics(() => node, app, config.nodeId);
  try {
    node = await NodeRuntime.start({
      config,
      logger,
      app,
      replyCodecs: queueReplyCodecs,
      metrics,
      ...(now !== undefined ? { now } : {}),
      ...(opts.monoNow !== undefined ? { monoNow: opts.monoNow } : {}),
      ...(hooks?.testingKnobs !== undefined ? { testingKnobs: hooks.testingKnobs } : {}),
      ...(hooks?.openDb !== undefined ? { openDb: hooks.openDb } : {}),
      ...(hooks?.unsafeSegmentLog !== undefined ? { unsafeSegmentLog: hooks.unsafeSegmentLog } : {}),
      ...(hooks?.skipChecksums === true ? { skipChecksums: true } : {}),
      ...(opts.onFatal !== undefined ? { onFatal: opts.onFatal } : {}),
      ...(tls !== undefined ? { tls } : {}),
    });
  } catch (e) {
    tls?.close();
    throw e;
  }
  const { commandBytesMax } = deriveSizeLimits();
  if (config.httpBodyBytesMax > commandBytesMax) {
    logger.warn({ httpBodyBytesMax: config.httpBodyBytesMax, commandBytesMax }, 'requests above the replicable command size will be refused TOO_LARGE, whatever --http-body-bytes-max allows');
  }
  const sqs = new SqsService({
    identity: { region: config.sqsRegion, accountId: config.sqsAccountId },
    credentials: sqsCredentials,
    open: config.sqsOpen,
    fallbackHost: `${config.listenHost}:${config.httpPort}`,
    tls: tls !== undefined,
    bodyBytesMax: config.httpBodyBytesMax,
    logger,
  });
  const http = new HttpApi({ node, app, logger, metrics, host: config.listenHost, port: config.httpPort, bodyBytesMax: config.httpBodyBytesMax, sqs, auth, ...(tls !== undefined ? { tls } : {}) });
  const binary = new BinaryApi({
    node,
    app,
    logger,
    host: config.listenHost,
    port: config.clientPort,
    frameBytesMax: config.httpBodyBytesMax,
    requestsInflightMax: config.clientRequestsInflightMax,
    idleTimeoutMs: config.clientIdleTimeoutMs,
    onConnections: (n) => metrics.binaryConnections.set(n),
    countRequest: (op, code) => metrics.binaryRequests.inc({ op, code }),
    auth,
    ...(tls !== undefined ? { tls } : {}),
  });
  let httpPort: number;
  let clientPort: number;
  try {
    httpPort = await http.listen();
    clientPort = await binary.listen();
  } catch (e) {
    await http.close();
    await node.stop(0);
    tls?.close();
    throw e;
  }
  tls?.watch();
  logger.info({ http: `${config.listenHost}:${httpPort}`, client: `${config.listenHost}:${clientPort}`, peer: `${config.listenHost}:${config.peers[config.nodeId]?.peerPort}` }, 'serving');
  if (tls !== undefined) logger.info({ ...tls.describe(), ca: config.tlsCa }, 'TLS on every listener (peers: mutual TLS under the cluster CA)');
  if (auth.required) logger.info({ adminToken: adminTokenHash !== undefined, metricsOpen: config.metricsOpen }, 'authentication required on HTTP and the binary protocol (SQS keeps SigV4)');
  const running = node;
  return {
    node: running,
    httpPort,
    clientPort,
    logger,
    tls: tls !== undefined,
    reloadTls: () => tls?.reload('SIGHUP') ?? false,
    async stop() {
      await Promise.all([binary.close(), http.close()]);
      await running.stop();
      tls?.close();
      hooks?.stop();
    },
  };
}

/** The node's TLS credentials when configured; bad files stop the start (INVALID_ARGUMENT). */
function loadTls(config: ServerConfig, logger: Logger): TlsCredentials | undefined {
  if (config.tlsCert === '') return undefined;
  try {
    return new TlsCredentials({ certFile: config.tlsCert, keyFile: config.tlsKey, caFile: config.tlsCa }, config.clusterId, logger);
  } catch (e) {
    if (e instanceof TlsConfigError) throw new RaftqError('INVALID_ARGUMENT', `TLS settings: ${e.message}`, { cause: e });
    throw e;
  }
}
