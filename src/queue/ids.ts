/**
 * Message ids and payload sequence numbers, both derived from the log position of the enqueue
 * that created the message: never random, identical on every node.
 */
import { assert } from '../../raft/assert.js';
import { enqueueBatchMessagesMax } from './limits.js';

/** Sequence numbers reserved per log entry; must exceed enqueueBatchMessagesMax. */
export const seqsPerEntry = 128;

assert(seqsPerEntry > enqueueBatchMessagesMax, 'seqsPerEntry must cover a full batch');

/** The seq of the n-th item created by the entry at `index`. */
export function seqOf(index: number, n: number): number {
  assert(Number.isSafeInteger(index) && index > 0, () => `entry index ${index}`);
  assert(Number.isInteger(n) && n >= 0 && n < seqsPerEntry, () => `item ${n} of entry ${index}`);
  const seq = index * seqsPerEntry + n;
  assert(Number.isSafeInteger(seq), 'seq overflow');
  return seq;
}

/** The public message id of a seq: `${entryIndex}-${n}`. */
export function messageIdOf(seq: number): string {
  return `${Math.floor(seq / seqsPerEntry)}-${seq % seqsPerEntry}`;
}

/** The log index of the entry that created the item `seq`. */
export function entryIndexOfSeq(seq: number): number {
  return Math.floor(seq / seqsPerEntry);
}

/** The position of the item `seq` within the entry that created it (the message's place in its batch). */
export function positionOfSeq(seq: number): number {
  return seq % seqsPerEntry;
}
