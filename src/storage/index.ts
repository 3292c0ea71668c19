/** The durable storage of a raftq node: the curated entry the node runtime imports. */
export {
  type AppliedChanges,
  DurableStorage,
  type DurableStorageOptions,
  type InstallResult,
  type LogBackedKeys,
  type SnapshotCopies,
  type SaveBatch,
  type SaveResult,
  type SnapshotReader,
  type SnapshotReaderOptions,
  type StateReader,
  type StateWrite,
} from './durable-storage.js';
export { ClusterMismatchError, DataDirLockedError, LogCompactedError, SnapshotFormatError, StorageCorruptionError, StorageError, storageErrorCodes, type StorageErrorCode, StorageFormatError, StorageFullError, StorageIoError } from './errors.js';
export type { StorageLogger } from './logger.js';
export type { RecoveringMarker } from './recovering.js';
export { openStorage, type OpenStorageOptions, quarantinedCopiesMax } from './repair.js';
export { checkpointThresholdsDefault, type CheckpointThresholds } from './checkpointer.js';
export { decodeSnapshotChunk, encodeSnapshotChunks, snapshotChunkBytesMax, type StatePair } from './snapshot-chunks.js';
