import type { Entry } from './types.js';

/** Per-entry overhead counted on top of the payload: index, term and type on the wire. */
const entryOverheadBytes = 24;

/** The size an entry is charged for batching and flow-control limits. */
export function entryBytes(e: Entry): number {
  return dataEntryBytes(e.data);
}

/**
 * The size an entry carrying `data` will be charged: what a proposal must be checked against
 * before it becomes an entry, so a limit admits exactly what it will account.
 */
export function dataEntryBytes(data: Uint8Array): number {
  return data.byteLength + entryOverheadBytes;
}

/** The sum of entryBytes over `ents`. */
export function totalBytes(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += entryBytes(e);
  return n;
}
