/**
 * The recovering marker: a checksummed metadata record (keys.ts recoveringKey) written, synced,
 * into a data directory recreated after damage (repair.ts), before anything else is in it. While
 * it is there the node lost what it had acknowledged (log, vote), so it must not vote or count
 * toward a quorum until it has caught up with a leader; the runtime then deletes it
 * (DurableStorage.markRecovered). A crash while recovering keeps it: the next open sees it again.
 */
import { decodeRecord, encodeRecord } from './codec.js';
import { StorageCorruptionError } from './errors.js';
import { recoveringKey } from './keys.js';
import type { Db } from './level-db.js';

/** Why and since when a directory is recovering. */
export interface RecoveringMarker {
  /** What damage was found (the error that caused the repair). */
  readonly reason: string;
  /** When the directory was recreated (ISO 8601, UTC). */
  readonly since: string;
}

/** Writes the marker, synced. */
export async function writeRecoveringMarker(db: Db, marker: RecoveringMarker): Promise<void> {
  await db.put(recoveringKey, encodeRecord({ reason: marker.reason, since: marker.since }), { sync: true });
}

/** The stored marker, or undefined; verified unless `verify` is false. */
export async function readRecoveringMarker(db: Db, verify: boolean): Promise<RecoveringMarker | undefined> {
  const v = await db.get(recoveringKey);
  if (v === undefined) return undefined;
  const r = decodeRecord('recovering', v, verify);
  const { reason, since } = r;
  if (typeof reason !== 'string' || typeof since !== 'string') throw new StorageCorruptionError('recovering', null, 'fields reason and since are not strings');
  return { reason, since };
}

/** Deletes the marker, synced (idempotent). */
export async function deleteRecoveringMarker(db: Db): Promise<void> {
  await db.del(recoveringKey, { sync: true });
}
