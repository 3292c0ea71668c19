/**
 * raftq: a Raft-replicated, durable message queue. This is the package's public API: the
 * client library and the error catalogue it reports with.
 *
 * ```ts
 * import { connect } from 'raftq';
 * const client = await connect({ nodes: ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'] });
 * await client.createQueue('jobs');
 * await client.send('jobs', JSON.stringify({ task: 'resize', id: 42 }));
 * const consumer = client.consume('jobs', async (m) => console.log(m.json()), { concurrency: 4 });
 * // ...
 * await consumer.close();
 * await client.close();
 * ```
 */
export { connect, Client, Consumer, Message, MessageStream, type MessageHandler } from './client/index.js';
export type {
  BatchEntry,
  Body,
  ClientOptions,
  ClusterStatus,
  ConsumeOptions,
  MessageOptions,
  MessagesOptions,
  NodeInfo,
  QueueAttributes,
  QueueInfo,
  QueueStats,
  ReceiveOptions,
  SendBatchResult,
  SendOptions,
  SendResult,
} from './client/index.js';
export { RaftqError, errorCatalogue, errorCodes, isErrorCode, type ErrorCode } from './errors.js';
