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
import { ClusterMismatchError, StorageCorruptionError } from './errors.js';
import {
  appliedMetaKey,
  appliedRange,
  describeKey,
  generationPrefix,
  hardStateKey,
  identityKey,
  logKey,
  logKeyIndex,
  logRange,
  snapshotMetaKey,
} from './keys.js';
import { type Db, hasKeyIn } from './level-db.js';

/** Version of the key layout in keys.ts. */
export const formatVersion = 1;

/** A minimal structured logger; a pino Logger fits. */
export interface StorageLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Writes the identity on first open; afterwards refuses a different cluster or node id with a
 * ClusterMismatchError naming both.
 */
export async function checkIdentity(db: Db, dir: string, clusterId: string, nodeId: string): Promise<void> {
  const stored = await db.get(identityKey);
  if (stored === undefined) {
    await db.put(identityKey, encodeRecord({ clusterId, nodeId, formatVersion }), { sync: true });
    return;
  }
  const id = parseIdentity(decodeRecord('identity', stored));
  if (id.clusterId !== clusterId || id.nodeId !== nodeId) {
    throw new ClusterMismatchError(dir, { clusterId: id.clusterId, nodeId: id.nodeId }, { clusterId, nodeId });
  }
  if (id.formatVersion !== formatVersion) {
    throw new StorageCorruptionError('identity', null, `format version ${id.formatVersion}, this build reads ${formatVersion}`);
  }
}

/** Everything open() puts into the read cache. */
export interface LoadedState {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta;
  readonly applied: AppliedMeta;
  /** The log after the snapshot, contiguous from snapshot.index + 1. */
  readonly entries: Entry[];
}

/** Reads and verifies the persisted state (see module comment). */
export async function loadState(db: Db, initialConfState: ConfState, logger: StorageLogger): Promise<LoadedState> {
  const hardState = await readRecord(db, hardStateKey, 'hardState', parseHardState) ?? { term: 0, vote: '', commit: 0 };
  let snapshot = await readRecord(db, snapshotMetaKey, 'snapshotMeta', parseSnapshotMeta);
  let applied = await readRecord(db, appliedMetaKey, 'appliedMeta', parseAppliedMeta);
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
  const entries = await loadLog(db, snapshot);
  const lastIndex = snapshot.index + entries.length;
  if (applied.index < snapshot.index || applied.index > lastIndex) {
    throw new StorageCorruptionError('appliedMeta', applied.index, `applied index ${applied.index} outside the log [${snapshot.index}, ${lastIndex}]`);
  }
  if (hardState.commit > lastIndex) {
    throw new StorageCorruptionError('hardState', hardState.commit, `commit ${hardState.commit} beyond the last stored entry ${lastIndex} (log truncated?)`);
  }
  return { hardState, snapshot, applied, entries };
}

async function readRecord<T>(db: Db, key: Uint8Array, name: string, parse: (r: Record<string, unknown>) => T): Promise<T | undefined> {
  const v = await db.get(key);
  return v === undefined ? undefined : parse(decodeRecord(name, v));
}

/**
 * Applied keys of any generation but the live one are what an interrupted snapshot install
 * staged (or an old generation not yet cleared after one): never read, safe to drop.
 */
async function discardStaleGenerations(db: Db, live: number, logger: StorageLogger): Promise<void> {
  const ranges = [
    { gte: appliedRange.gte, lt: generationPrefix(live) },
    { gte: generationPrefix(live + 1), lt: appliedRange.lt },
  ];
  for (const range of ranges) {
    if (await hasKeyIn(db, range.gte, range.lt)) {
      logger.warn({ liveGeneration: live }, 'discarding applied state of an interrupted or superseded snapshot install');
      await db.clear(range);
    }
  }
}

/** Loads entries after the snapshot, verifying checksums, contiguity and term order. */
async function loadLog(db: Db, snapshot: SnapshotMeta): Promise<Entry[]> {
  const entries: Entry[] = [];
  let prev = { index: snapshot.index, term: snapshot.term };
  for await (const [key, value] of db.iterator({ gt: logKey(snapshot.index), lt: logRange.lt })) {
    const index = logKeyIndex(key);
    if (index === null) throw new StorageCorruptionError(describeKey(key), null, 'malformed key in the log keyspace');
    const expected = prev.index + 1;
    if (index !== expected) {
      throw new StorageCorruptionError(`log[${expected}]`, expected, `entry missing: the log jumps from ${prev.index} to ${index} (gap in the log)`);
    }
    const entry = decodeEntryValue(index, value);
    if (entry.term < prev.term) {
      throw new StorageCorruptionError(`log[${index}]`, index, `term ${entry.term} below the previous entry's term ${prev.term}`);
    }
    entries.push(entry);
    prev = entry;
  }
  return entries;
}
