/**
 * The persist step of the ready loop: one Ready's entries, hard state, snapshot meta and the
 * state changes of its applied entries, in one DurableStorage.save.
 *
 * Synced unless the Ready only moved the commit index (Ready.mustSync false) and applied
 * nothing. What that costs is storage's business (src/storage/durable-storage.ts): the entries
 * one fdatasync of a log segment, a changed term or vote one LevelDB fsync, and the applied
 * changes nothing until a background checkpoint writes them.
 */
import type { Ready } from '../../raft/raw-node.js';
import type { AppliedChanges } from '../storage/index.js';
import type { NodeMetrics } from './metrics-hooks.js';
import type { ReplicaStorage } from './replica-io.js';

/** Writes `rd` and `applied` (the Ready's applied entries, if any) as described above. */
export async function persistReady(storage: Pick<ReplicaStorage, 'save'>, rd: Ready, applied: AppliedChanges | undefined, metrics: Pick<NodeMetrics, 'persisted'> | undefined): Promise<void> {
  if (rd.entries.length === 0 && rd.hardState === undefined && rd.snapshot === undefined && applied === undefined) return;
  const sync = rd.mustSync || applied !== undefined;
  const saved = await storage.save({
    entries: rd.entries,
    ...(rd.hardState !== undefined ? { hardState: rd.hardState } : {}),
    ...(rd.snapshot !== undefined ? { snapshot: rd.snapshot } : {}),
    ...(applied !== undefined ? { applied } : {}),
    sync,
  });
  if (sync) metrics?.persisted(saved.syncMs, rd.entries.length);
}
