/**
 * The queue state machine's public API, for the node runtime (src/server) and tools.
 * See state-machine.ts for apply/load, log-bodies.ts for where bodies are read from, keys.ts for
 * the keyspace.
 */
export type * from './commands.js';
export { errorResult } from './commands.js';
export { encodeCommand, decodeCommand } from './codec.js';
export { QueueError, queueErrorCodes, type QueueErrorCode } from './errors.js';
export { allStatePrefix, queueStatePrefix, compareKeys } from './keys.js';
export * as limits from './limits.js';
export { MemoryStateStore } from './memory-state-store.js';
export { WriteBatch, type StateReader, type StateWriter } from './state-store.js';
export { QueueStateMachine, type ApplyContext, type QueueStateMachineOptions } from './state-machine.js';
export { validateCommand, validateAgainstState, validateQueueName, validateTags, type QueueLookup } from './validate.js';
export { coldBodyWrites, entryOfPayloadKey, payloadKeysAfter, readBodies, SnapshotBodies, type EnqueueLog, type LiveBodies } from './log-bodies.js';
