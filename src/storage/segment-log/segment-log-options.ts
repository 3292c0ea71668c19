/** The options of SegmentLog.open, their defaults and limits. */
import type { StorageLogger } from '../logger.js';

/**
 * Default largest segment: 64 MiB. The last segment is scanned in full at every open (at a
 * few hundred MB/s, well under a second), and space is reclaimed a whole segment at a time;
 * Kafka's 1 GiB would make opens take seconds and hold dead space longer.
 */
export const segmentBytesMaxDefault = 64 * 1024 * 1024;

/**
 * Largest configurable segmentBytesMax: 1 GiB. Byte offsets are stored as u32 in the sidecar,
 * and a segment may exceed its limit by one record (at most recordPayloadBytesMax + header);
 * 1 GiB keeps every offset far below 2^32.
 */
export const segmentBytesMaxLimit = 1024 * 1024 * 1024;

/**
 * Test-only modes that break the durability contract on purpose, so that the crash property
 * test can prove it detects the breakage (negative controls). Never set outside tests.
 */
export type UnsafeSegmentLogMode = 'skip-fdatasync' | 'skip-dir-fsync';

/** Options of SegmentLog.open. */
export interface SegmentLogOptions {
  /** Largest segment file in bytes before the next append rolls to a new one (a larger single record gets a segment of its own). Default 64 MiB. */
  readonly segmentBytesMax?: number;
  /** Spacing of the sparse offset index in bytes of records. Default 4 KiB. */
  readonly indexIntervalBytes?: number;
  /** The index the first append must have when the directory holds no segment. Default 1. */
  readonly firstIndexIfEmpty?: number;
  /** Where recovery reports torn tails and rebuilt indexes. Default: silent. */
  readonly logger?: StorageLogger;
  /** TEST ONLY: skip a sync step (negative controls of the crash tests). */
  readonly unsafe?: UnsafeSegmentLogMode;
  /** TEST ONLY: false skips record checksums (the skip-checksums negative control serves damage). Default true. */
  readonly verifyChecksums?: boolean;
}
