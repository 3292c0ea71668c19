/**
 * Open-time recovery: checks the directory's identity, reads the persisted records, discards
 * what an interrupted compaction or snapshot install left behind, and loads the log after the
 * snapshot, verifying every entry's checksum and the log's contiguity. Anything inconsistent is
 * a StorageCorruptionError naming the key; nothing is repaired silently.
 */
import type { ConfState, Entry, HardState, SnapshotMeta } from '../../raft/types.js';
import {
  type AppliedMeta,
  decodeEntryValue,
  decodeRecord,
  encodeRecord,
  parseAppliedMeta,
  parseHardState,
  parseIdentity,
  parseSnapshotMeta,
} from './codec.js';
import { ClusterMismatchError, StorageCorruptionError, StorageFormatError } from './errors.js';
import {
  appliedMetaKey,
  appliedRange,
  describeKey,
  generationPrefix,
  hardStateKey,
  identityKey,
  logBlockKeyIndex,
  logBlockRange,
  logKey,
  logKeyIndex,
  logRange,
  snapshotMetaKey,
} from './keys.js';
import { clearDurably, type Db, hasKeyIn } from './level-db.js';
import type { StorageLogger } from './logger.js';
import { decodeLogBlock, logBlockCount, type StoredBlock } from './log-blocks.js';

/**
 * Version of the directory layout. 2: the log is stored in LevelDB blocks (log-blocks.ts). 3:
 * every applied value carries a checksum (applied-values.ts). 4: the log is stored in segment
 * files under `log/` (raft-log-store.ts), LevelDB keeps no log. 5: message bodies live in the
 * log; payload records are copies only for entries the log dropped (log-copies.ts), so a build
 * that reads bodies from payload records alone must not open it. A version 1 or 2 directory (one
 * key per entry, raw applied values) is migrated to 3 on open (migrate.ts), a version 3 one to 4
 * (convert-log.ts), and a version 4 one to 5 (open-data-dir.ts), so an older build refuses the
 * result instead of misreading it.
 */
export const formatVersion = 5;

/** The version whose log lives in segment files (convert-log.ts brings older ones to it). */
export const segmentLogVersion = 4;

/** The version whose applied values first carry checksums (migrate.ts brings older ones to it). */
export const checksummedValuesVersion = 3;

/** Layout versions this build opens. */
const formatVersionsReadable: readonly number[] = [1, 2, 3, 4, 5];

export type { StorageLogger } from './logger.js';

/**
 * Writes the identity on first open; afterwards refuses a different cluster or node id with a
 * ClusterMismatchError naming both. Returns the stored layout version (formatVersion for a new
 * directory): an older one is migrated by the caller, which then writes the new version.
 */
export async function checkIdentity(db: Db, dir: string, clusterId: string, nodeId: string, verify = true): Promise<number> {
  const stored = await db.get(identityKey);
  if (stored === undefined) {
    await db.put(identityKey, encodeRecord({ clusterId, nodeId, formatVersion }), { sync: true });
    return formatVersion;
  }
  const id = parseIdentity(decodeRecord('identity', stored, verify));
  if (id.clusterId !== clusterId || id.nodeId !== nodeId) {
    throw new ClusterMismatchError(dir, { clusterId: id.clusterId, nodeId: id.nodeId }, { clusterId, nodeId });
  }
  if (!formatVersionsReadable.includes(id.formatVersion)) {
    throw new StorageFormatError(dir, id.formatVersion, formatVersionsReadable);
  }
  return id.formatVersion;
}

/** The records open() reads from LevelDB. */
export interface LoadedMeta {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta;
  readonly applied: AppliedMeta;
}

/**
 * Reads and verifies the persisted records (hard state, snapshot meta, applied meta), writing
 * the first snapshot and applied meta of a new directory, and discards what an interrupted
 * snapshot install staged. The log is read separately: from segments (raft-log-store.ts) or,
 * in a directory of layout version 3 or older, from LevelDB (loadLevelLog, for the conversion).
 */
export async function loadMeta(db: Db, initialConfState: ConfState, logger: StorageLogger, verify = true): Promise<LoadedMeta> {
  const hardState = await readRecord(db, hardStateKey, 'hardState', parseHardState, verify) ?? { term: 0, vote: '', commit: 0 };
  let snapshot = await readRecord(db, snapshotMetaKey, 'snapshotMeta', parseSnapshotMeta, verify);
  let applied = await readRecord(db, appliedMetaKey, 'appliedMeta', parseAppliedMeta, verify);
  if (snapshot === undefined) {
    if (applied !== undefined) throw new StorageCorruptionError('snapshotMeta', null, 'missing while appliedMeta exists');
    snapshot = { index: 0, term: 0, confState: initialConfState };
    applied = { index: 0, confState: initialConfState, generation: 0 };
    await db.batch([
      { type: 'put', key: snapshotMetaKey, value: encodeRecord(snapshot) },
      { type: 'put', key: appliedMetaKey, value: encodeRecord(applied) },
    ], { sync: true });
  }
  if (applied === undefined) throw new StorageCorruptionError('appliedMeta', null, 'missing while snapshotMeta exists');
  await discardStaleGenerations(db, applied.generation, logger);
  return { hardState, snapshot, applied };
}

/**
 * Checks the records against the log loaded after them (its last index): the applied index
 * lies within [snapshot, last], the commit at most at last; returns the hard state with a
 * commit below the applied index raised to it (raiseCommitToApplied).
 */
export async function checkAgainstLog(db: Db, meta: LoadedMeta, lastIndex: number, logger: StorageLogger): Promise<HardState> {
  const { applied, snapshot, hardState } = meta;
  if (applied.index < snapshot.index || applied.index > lastIndex) {
    throw new StorageCorruptionError('appliedMeta', applied.index, `applied index ${applied.index} outside the log [${snapshot.index}, ${lastIndex}]`);
  }
  if (hardState.commit > lastIndex) {
    throw new StorageCorruptionError('hardState', hardState.commit, `commit ${hardState.commit} beyond the last stored entry ${lastIndex} (log truncated?)`);
  }
  return raiseCommitToApplied(db, hardState, applied.index, logger);
}

/**
 * A commit index below the applied index is normal after a power loss: a save that only moved
 * the commit index is not synced (durable-storage.ts), while every applied batch is. Only
 * committed entries are ever applied, so the applied index is a commit index this node knew;
 * the hard state is raised to it (synced, so the cache equals the disk) and the core's start
 * check applied <= commit holds.
 */
async function raiseCommitToApplied(db: Db, hardState: HardState, applied: number, logger: StorageLogger): Promise<HardState> {
  if (applied <= hardState.commit) return hardState;
  logger.warn({ applied, commit: hardState.commit }, 'persisted commit below the applied index: raised to it');
  const raised: HardState = { ...hardState, commit: applied };
  await db.put(hardStateKey, encodeRecord(raised), { sync: true });
  return raised;
}

/** The record at `key` parsed with `parse`, or undefined; verified unless `verify` is false. */
export async function readRecord<T>(db: Db, key: Uint8Array, name: string, parse: (r: Record<string, unknown>) => T, verify = true): Promise<T | undefined> {
  const v = await db.get(key);
  return v === undefined ? undefined : parse(decodeRecord(name, v, verify));
}

/**
 * Applied keys of any generation but the live one are what an interrupted snapshot install
 * staged (or an old generation not yet cleared after one): never read, safe to drop. Those
 * above the live generation are cleared durably: the next install stages there, and a delete
 * lost to a power cut would bring them back into the state it switches to. Those below can
 * never be live again, so their clear may be lost (it is redone at the next open).
 */
async function discardStaleGenerations(db: Db, live: number, logger: StorageLogger): Promise<void> {
  const below = { gte: appliedRange.gte, lt: generationPrefix(live) };
  const above = { gte: generationPrefix(live + 1), lt: appliedRange.lt };
  const message = 'discarding applied state of an interrupted or superseded snapshot install';
  if (await hasKeyIn(db, below.gte, below.lt)) {
    logger.warn({ liveGeneration: live, generations: 'older' }, message);
    await db.clear(below);
  }
  if (await hasKeyIn(db, above.gte, above.lt)) {
    logger.warn({ liveGeneration: live, generations: 'newer' }, message);
    await clearDurably(db, above);
  }
}

/**
 * Loads the entries after the snapshot from a directory of layout version 3 or older (the log
 * in LevelDB, one key per entry or in blocks), verifying checksums, contiguity and term order.
 * Read only: convert-log.ts moves them into segments and then deletes the keys.
 */
export async function loadLevelLog(db: Db, snapshot: SnapshotMeta, verify: boolean): Promise<Entry[]> {
  const stored: Array<{ block: StoredBlock; value: Uint8Array; single: boolean }> = [];
  for await (const [key, value] of db.iterator({ gt: logKey(snapshot.index), lt: logRange.lt })) {
    const index = logKeyIndex(key);
    if (index === null) throw new StorageCorruptionError(describeKey(key), null, 'malformed key in the log keyspace');
    stored.push({ block: { first: index, last: index, key, bytes: value.length }, value, single: true });
  }
  for await (const [key, value] of db.iterator(logBlockRange)) {
    const first = logBlockKeyIndex(key);
    if (first === null || first < 1) throw new StorageCorruptionError(describeKey(key), null, 'malformed key in the log block keyspace');
    const last = first + logBlockCount(first, value) - 1;
    // Wholly behind the snapshot: what an interrupted compaction left.
    if (last > snapshot.index) stored.push({ block: { first, last, key, bytes: value.length }, value, single: false });
  }
  stored.sort((a, b) => a.block.first - b.block.first);
  const entries: Entry[] = [];
  let prev = { index: snapshot.index, term: snapshot.term };
  for (const { block, value, single } of stored) {
    const expected = prev.index + 1;
    if (block.first > expected) {
      throw new StorageCorruptionError(`log[${expected}]`, expected, `entry missing: the log jumps from ${prev.index} to ${block.first} (gap in the log)`);
    }
    // Only the head block may reach back behind the snapshot; any other overlap is damage.
    if (block.first < expected && entries.length > 0) {
      throw new StorageCorruptionError(`log[${block.first}]`, block.first, `entry stored twice (a block starting at ${block.first} overlaps the log up to ${prev.index})`);
    }
    const decoded = single ? [decodeEntryValue(block.first, value, verify)] : decodeLogBlock(block.first, value, verify);
    for (const entry of decoded) {
      if (entry.index <= snapshot.index) continue;
      if (entry.term < prev.term) {
        throw new StorageCorruptionError(`log[${entry.index}]`, entry.index, `term ${entry.term} below the previous entry's term ${prev.term}`);
      }
      entries.push(entry);
      prev = entry;
    }
  }
  return entries;
}
