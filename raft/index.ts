/** The raftq consensus core: pure, deterministic, no I/O. */
export { assert, AssertionError } from './assert.js';
export { applyConfChange, decodeConfChange, encodeConfChange, validateConfChange } from './conf-change.js';
export { RaftError, raftErrorCodes, type RaftErrorCode } from './errors.js';
export { Raft, type RaftConfig, type RaftLogger, type RaftStats, type TestingKnobs } from './raft.js';
export { RawNode, type Ready, type Status } from './raw-node.js';
export { seededRng, type Rng } from './rng.js';
export { MemoryStorage, type Storage } from './storage.js';
export * from './types.js';
