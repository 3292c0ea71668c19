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
 * Version of the key layout in keys.ts. 2: the log is stored in blocks (log-blocks.ts). 3:
 * every applied value carries a checksum (applied-values.ts). A version 1 or 2 directory (one
 * key per entry, raw applied values) is read as it is and migrated to 3 on open (migrate.ts),
 * so an older build refuses it instead of misreading it.
 */
export const formatVersion = 3;

/** Layout versions this build opens. */
const formatVersionsReadable: readonly number[] = [1, 2, 3];

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

/** Everything open() puts into the read cache. */
export interface LoadedState {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta;
  readonly applied: AppliedMeta;
  /** The log after the snapshot, contiguous from snapshot.index + 1. */
  readonly entries: Entry[];
  /** Where those entries are stored, in index order (the first may start at or before the snapshot). */
  readonly blocks: StoredBlock[];
}

/** Reads and verifies the persisted state (see module comment). */
export async function loadState(db: Db, initialConfState: ConfState, logger: StorageLogger, verify = true): Promise<LoadedState> {
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
  // An interrupted compaction leaves entries at or below the snapshot: they are garbage.
  await db.clear({ gte: logRange.gte, lte: logKey(snapshot.index) });
  const { entries, blocks } = await loadLog(db, snapshot, logger, verify);
  const lastIndex = snapshot.index + entries.length;
  if (applied.index < snapshot.index || applied.index > lastIndex) {
    throw new StorageCorruptionError('appliedMeta', applied.index, `applied index ${applied.index} outside the log [${snapshot.index}, ${lastIndex}]`);
  }
  if (hardState.commit > lastIndex) {
    throw new StorageCorruptionError('hardState', hardState.commit, `commit ${hardState.commit} beyond the last stored entry ${lastIndex} (log truncated?)`);
  }
  return { hardState: await raiseCommitToApplied(db, hardState, applied.index, logger), snapshot, applied, entries, blocks };
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
 * Loads entries after the snapshot from both layouts (one key per entry, then blocks),
 * verifying checksums, contiguity and term order; drops blocks wholly behind the snapshot
 * (what an interrupted compaction left).
 */
async function loadLog(db: Db, snapshot: SnapshotMeta, logger: StorageLogger, verify: boolean): Promise<{ entries: Entry[]; blocks: StoredBlock[] }> {
  const stored: Array<{ block: StoredBlock; value: Uint8Array; single: boolean }> = [];
  for await (const [key, value] of db.iterator({ gt: logKey(snapshot.index), lt: logRange.lt })) {
    const index = logKeyIndex(key);
    if (index === null) throw new StorageCorruptionError(describeKey(key), null, 'malformed key in the log keyspace');
    stored.push({ block: { first: index, last: index, key, bytes: value.length }, value, single: true });
  }
  const garbage: Uint8Array[] = [];
  for await (const [key, value] of db.iterator(logBlockRange)) {
    const first = logBlockKeyIndex(key);
    if (first === null || first < 1) throw new StorageCorruptionError(describeKey(key), null, 'malformed key in the log block keyspace');
    const last = first + logBlockCount(first, value) - 1;
    if (last <= snapshot.index) garbage.push(key);
    else stored.push({ block: { first, last, key, bytes: value.length }, value, single: false });
  }
  if (garbage.length > 0) {
    logger.info({ blocks: garbage.length, snapshot: snapshot.index }, 'dropping log blocks behind the snapshot');
    await db.batch(garbage.map((key) => ({ type: 'del' as const, key })));
  }
  stored.sort((a, b) => a.block.first - b.block.first);
  const entries: Entry[] = [];
  const blocks: StoredBlock[] = [];
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
    blocks.push(block);
  }
  return { entries, blocks };
}
