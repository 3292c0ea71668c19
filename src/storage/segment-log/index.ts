/** The segmented log (storage v2, step 1): the public surface of src/storage/segment-log. */
export { nodeDisk } from './node-disk.js';
export { type RecordDecode, recordPayloadBytesMax, type SegmentRecord } from './record-format.js';
export type { RecoveryReport } from './recovery.js';
export { SegmentCorruptionError } from './segment-corruption.js';
export type { SegmentDisk, SegmentFile } from './segment-disk.js';
export { SegmentLog, type SegmentLogOptions, segmentBytesMaxDefault, type UnsafeSegmentLogMode } from './segment-log.js';
export { indexIntervalBytesDefault } from './segment-summary.js';
