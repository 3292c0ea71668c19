/** The assertions DurableStorage makes about one Ready's save (durable-storage.ts). */
import { assert } from '../../raft/assert.js';
import type { Entry, HardState } from '../../raft/types.js';
import type { SaveBatch } from './durable-storage-types.js';

/** A save may skip the sync only when nothing but the commit index changes (durable-storage.ts). */
export function checkUnsyncedSave(batch: SaveBatch, old: HardState): void {
  assert(batch.entries.length === 0 && batch.snapshot === undefined && batch.applied === undefined, 'an unsynced save carries entries, a snapshot or applied changes');
  const hs = batch.hardState;
  assert(hs === undefined || (hs.term === old.term && hs.vote === old.vote), () => `an unsynced save changes term or vote: ${old.term}/${old.vote} -> ${hs?.term}/${hs?.vote}`);
}

/**
 * Checks `entries` (contiguous, terms not decreasing, the first at most `last` + 1, an entry at
 * or below `appliedUpTo` rewritten only with its own term, `termOf` the stored one) and returns
 * the last index after writing them.
 */
export function checkAppend(entries: readonly Entry[], last: number, appliedUpTo: number, termOf: (index: number) => number): number {
  const head = entries[0];
  if (head === undefined) return last;
  assert(head.index <= last + 1, () => `append at ${head.index} leaves a gap after last index ${last}`);
  let prev: Entry | undefined;
  for (const e of entries) {
    assert(prev === undefined || (e.index === prev.index + 1 && e.term >= prev.term), () => `entries not contiguous at ${e.index}`);
    // Pair assertion: an applied entry may be rewritten only with the same term (a duplicate).
    if (e.index <= appliedUpTo) assert(termOf(e.index) === e.term, () => `save rewrites applied entry ${e.index} with term ${e.term}`);
    prev = e;
  }
  return entries[entries.length - 1]!.index;
}
