/**
 * Migration of a layout version 1 or 2 directory to version 3 (load.ts checksummedValuesVersion): every
 * applied value gets its checksum (applied-values.ts).
 *
 * Done like a snapshot install (durable-storage.ts): the checksummed pairs are staged under the
 * next generation in synced batches, then one synced batch switches the applied meta to that
 * generation and writes the identity with the new version. A crash before the switch leaves the
 * old generation live and the identity old: the next open discards the staged keys (load.ts
 * discardStaleGenerations) and migrates again. Rewriting in place could not be redone: after a
 * crash half the values would carry a checksum and nothing would say which.
 */
import { assert } from '../../raft/assert.js';
import { encodeAppliedValue } from './applied-values.js';
import { type AppliedMeta, encodeRecord, type Identity } from './codec.js';
import { appliedKey, appliedKeyPrefixBytes, appliedMetaKey, generationMax, generationPrefix, identityKey } from './keys.js';
import { type BatchOp, clearDurably, type Db } from './level-db.js';
import { checksummedValuesVersion } from './load.js';
import type { StorageLogger } from './logger.js';

/**
 * Bound on the bytes of one synced staging batch: 1 MiB keeps the batch in memory small and
 * costs one fsync per MiB of state.
 */
const migrateBatchBytesMax = 1024 * 1024;

/** Migrates the applied state (module comment); returns the applied meta now live. */
export async function migrateAppliedValues(db: Db, applied: AppliedMeta, identity: Omit<Identity, 'formatVersion'>, fromVersion: number, logger: StorageLogger): Promise<AppliedMeta> {
  assert(fromVersion < checksummedValuesVersion, () => `migration from version ${fromVersion}`);
  const gen = applied.generation + 1;
  assert(gen <= generationMax, 'applied-state generations exhausted');
  const staged = { gte: generationPrefix(gen), lt: generationPrefix(gen + 1) };
  await clearDurably(db, staged);
  let ops: BatchOp[] = [];
  let bytes = 0;
  let pairs = 0;
  for await (const [k, v] of db.iterator({ gte: generationPrefix(applied.generation), lt: generationPrefix(gen) })) {
    const key = k.subarray(appliedKeyPrefixBytes);
    ops.push({ type: 'put', key: appliedKey(gen, key), value: encodeAppliedValue(key, v) });
    bytes += k.length + v.length;
    pairs++;
    if (bytes >= migrateBatchBytesMax) {
      await db.batch(ops, { sync: true });
      ops = [];
      bytes = 0;
    }
  }
  if (ops.length > 0) await db.batch(ops, { sync: true });
  const migrated: AppliedMeta = { ...applied, generation: gen };
  await db.batch(
    [
      { type: 'put', key: appliedMetaKey, value: encodeRecord(migrated) },
      { type: 'put', key: identityKey, value: encodeRecord({ clusterId: identity.clusterId, nodeId: identity.nodeId, formatVersion: checksummedValuesVersion }) },
    ],
    { sync: true },
  );
  // Unsynced: the old generation is below the live one, never read again (open clears it again).
  await db.clear({ gte: generationPrefix(applied.generation), lt: staged.gte });
  logger.info({ fromVersion, toVersion: checksummedValuesVersion, pairs }, 'storage layout migrated: applied values now carry checksums');
  return migrated;
}
