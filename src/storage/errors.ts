/**
 * Typed operating errors of the durable storage. Each has a stable `code`; a broken invariant
 * is an AssertionError instead (raft/assert.ts) and is never caught.
 */

/** The stable codes of storage errors, every one, for exhaustive tables and tests. */
export const storageErrorCodes = ['DATA_DIR_LOCKED', 'STORAGE_CORRUPT', 'CLUSTER_MISMATCH', 'STORAGE_FORMAT', 'SNAPSHOT_MALFORMED', 'STORAGE_FULL', 'STORAGE_IO', 'LOG_COMPACTED'] as const;

/** A stable code of a StorageError (one of storageErrorCodes). */
export type StorageErrorCode = (typeof storageErrorCodes)[number];

/** Base class of every storage error: a stable `code` and, where there is one, a `cause`. */
export class StorageError extends Error {
  override readonly name: string = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another process (or another handle in this process) holds the data directory's lock. */
export class DataDirLockedError extends StorageError {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dir: string,
    cause: unknown,
  ) {
    super('DATA_DIR_LOCKED', `data directory ${dir} is locked by another raftq process (LevelDB LOCK is held); stop that process or use another --data-dir`, { cause });
  }
}

/**
 * Stored data failed verification: a checksum mismatch, a gap in the log, an undecodable
 * record, a damaged LevelDB file. At open, the directory is repaired (repair.ts: moved aside,
 * recreated, logged, never silently); at run time the read fails and never returns the damage.
 */
export class StorageCorruptionError extends StorageError {
  override readonly name = 'StorageCorruptionError';
  constructor(
    /** A readable name of the damaged key, e.g. "log[42]" or "hardState". */
    readonly key: string,
    /** The log index concerned, or null for a non-log key. */
    readonly index: number | null,
    detail: string,
  ) {
    super('STORAGE_CORRUPT', `storage corrupt at ${key}: ${detail}`);
  }
}

/** The data directory belongs to another cluster or another node. */
export class ClusterMismatchError extends StorageError {
  override readonly name = 'ClusterMismatchError';
  constructor(
    readonly dir: string,
    readonly stored: { readonly clusterId: string; readonly nodeId: string },
    readonly requested: { readonly clusterId: string; readonly nodeId: string },
  ) {
    super(
      'CLUSTER_MISMATCH',
      `data directory ${dir} belongs to cluster "${stored.clusterId}" node "${stored.nodeId}", ` +
        `refusing to open it as cluster "${requested.clusterId}" node "${requested.nodeId}"`,
    );
  }
}

/**
 * The data directory was written by a newer build (a layout version this build cannot read).
 * Not damage: it is never repaired; run the newer build again.
 */
export class StorageFormatError extends StorageError {
  override readonly name = 'StorageFormatError';
  constructor(
    readonly dir: string,
    readonly version: number,
    readable: readonly number[],
  ) {
    super('STORAGE_FORMAT', `data directory ${dir} has layout version ${version}; this build reads ${readable.join(', ')} (written by a newer raftq?)`);
  }
}

/** A snapshot chunk received for installation is truncated, oversized or fails its checksum. */
export class SnapshotFormatError extends StorageError {
  override readonly name = 'SnapshotFormatError';
  constructor(
    /** Zero-based position of the bad chunk in the stream. */
    readonly chunkNumber: number,
    detail: string,
  ) {
    super('SNAPSHOT_MALFORMED', `snapshot chunk ${chunkNumber} is malformed: ${detail}`);
  }
}

/**
 * The disk of the data directory is full (ENOSPC on a write, an fsync or LevelDB's open). The
 * write was not made durable; LevelDB refuses every later write on this handle, so the node
 * stops and can restart once space is freed.
 */
export class StorageFullError extends StorageError {
  override readonly name = 'StorageFullError';
  constructor(
    readonly dir: string,
    cause: unknown,
  ) {
    super('STORAGE_FULL', `the disk of data directory ${dir} is full (ENOSPC): the write failed and was not acknowledged; free space, then restart the node`, { cause });
  }
}

/**
 * The disk of the data directory answered EIO: a failed fsync (its data may be lost: it is never
 * retried) or an unreadable data file. The node stops; a restart re-reads only what is durable.
 */
export class StorageIoError extends StorageError {
  override readonly name = 'StorageIoError';
  constructor(
    readonly dir: string,
    /** What failed, e.g. "write or fsync" or "read of 000005.log". */
    readonly operation: string,
    cause: unknown,
  ) {
    super('STORAGE_IO', `I/O error (EIO) on the disk of data directory ${dir} during ${operation}: check the disk (dmesg)${operation.includes('fsync') ? '; a failed fsync is never retried' : ''}`, { cause });
  }
}

/**
 * A log read asked for records below the log's first index: they were compacted away (or
 * discarded by a reset). Not damage and not a caller bug: the Raft storage adapter answers it
 * (a snapshot is sent instead). A read above the last index stays an AssertionError.
 */
export class LogCompactedError extends StorageError {
  override readonly name = 'LogCompactedError';
  constructor(
    /** The index asked for. */
    readonly index: number,
    /** The log's first index when it was asked. */
    readonly firstIndex: number,
  ) {
    super('LOG_COMPACTED', `log index ${index} is compacted: the log starts at ${firstIndex}`);
  }
}
