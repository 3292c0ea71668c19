/**
 * The raftq client library: connect() to a cluster over the binary protocol, then manage
 * queues, send, receive, ack, and consume with push subscriptions.
 */
export { connect, Client } from './client.js';
export { Consumer, type MessageHandler } from './consumer.js';
export { Message } from './message.js';
export { MessageStream } from './message-stream.js';
export type * from './types.js';
