/**
 * Receipt handles. A receipt names one delivery of one message: the queue incarnation (queue
 * id), the offset, the receive count reached by that delivery and the log index of the receive
 * that made it. A later delivery raises the receive count, so an older receipt is detectably
 * stale. A 32-bit checksum makes a mistyped or truncated receipt fail validation instead of
 * naming some other message; receipts are not secrets (anyone who can ack can also receive).
 */
import { QueueError, invalidArgument } from './errors.js';

/** The decoded fields of a receipt. */
export interface Receipt {
  readonly queueId: number;
  readonly offset: number;
  readonly receiveCount: number;
  readonly deliveryIndex: number;
}

/** Longest accepted receipt string; a real one is well below 64 characters. */
export const receiptLengthMax = 128;

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Encodes a receipt as `r1.<queueId>.<offset>.<receiveCount>.<deliveryIndex>.<check>` (base 36). */
export function encodeReceipt(receipt: Receipt): string {
  const body = [receipt.queueId, receipt.offset, receipt.receiveCount, receipt.deliveryIndex]
    .map((n) => n.toString(36))
    .join('.');
  return `r1.${body}.${fnv1a32(body).toString(36)}`;
}

const receiptPattern = /^r1\.([0-9a-z]{1,11})\.([0-9a-z]{1,11})\.([0-9a-z]{1,11})\.([0-9a-z]{1,11})\.([0-9a-z]{1,7})$/;

/** Value of a base-36 digit [0-9a-z] at char code `c`, or -1. */
function digit36(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 122) return c - 87;
  return -1;
}

/** Longest base-36 text of each receipt field: four numbers, then the checksum. */
const fieldCharsMax = [11, 11, 11, 11, 7] as const;

/**
 * Decodes a receipt, or returns an INVALID_ARGUMENT error for a malformed one. A hand-written
 * scanner (every ack decodes each receipt several times on the leader); it accepts and refuses
 * exactly what decodeReceiptReference (the regular expression) does, which a test checks.
 */
export function decodeReceipt(text: unknown): Receipt | QueueError {
  if (typeof text !== 'string' || text.length > receiptLengthMax) return invalidArgument('malformed receipt');
  // A leader checks each receipt of an ack several times (request, proposal, apply): remember
  // the last few. decodeReceipt is a pure function of the text, so the memo changes nothing.
  const memo = recentReceipts.get(text);
  if (memo !== undefined) return memo;
  const r = scanReceipt(text);
  if (!(r instanceof QueueError)) {
    if (recentReceipts.size >= recentReceiptsMax) recentReceipts.clear();
    recentReceipts.set(text, r);
  }
  return r;
}

/**
 * Receipts remembered by decodeReceipt: 4096 covers the acks in flight of many consumers
 * (a few hundred receipts each) for about 200 KB; the memo is simply emptied when full.
 */
const recentReceiptsMax = 4096;
const recentReceipts = new Map<string, Receipt>();

function scanReceipt(text: string): Receipt | QueueError {
  if (text.charCodeAt(0) !== 114 || text.charCodeAt(1) !== 49 || text.charCodeAt(2) !== 46) return invalidArgument('malformed receipt');
  const values = [0, 0, 0, 0];
  let i = 3;
  let checkStart = 0;
  for (let f = 0; f < 5; f++) {
    const start = i;
    let v = 0;
    while (i < text.length && text.charCodeAt(i) !== 46) {
      const d = digit36(text.charCodeAt(i));
      if (d < 0) return invalidArgument('malformed receipt');
      v = v * 36 + d;
      i++;
    }
    if (i === start || i - start > fieldCharsMax[f]!) return invalidArgument('malformed receipt');
    if (f < 4) {
      // parseInt's value for the same digits: exact below 2^53, and unsafe either way above.
      values[f] = i - start > 10 ? parseInt(text.slice(start, i), 36) : v;
      if (i === text.length) return invalidArgument('malformed receipt');
      i++;
    } else checkStart = start;
  }
  if (i !== text.length) return invalidArgument('malformed receipt');
  const body = text.slice(3, checkStart - 1);
  if (fnv1a32(body).toString(36) !== text.slice(checkStart)) return invalidArgument('malformed receipt (checksum)');
  const [queueId, offset, receiveCount, deliveryIndex] = values as [number, number, number, number];
  if (!Number.isSafeInteger(queueId) || !Number.isSafeInteger(offset) || !Number.isSafeInteger(receiveCount) || !Number.isSafeInteger(deliveryIndex) || receiveCount < 1 || deliveryIndex < 1) {
    return invalidArgument('malformed receipt (fields)');
  }
  return { queueId, offset, receiveCount, deliveryIndex };
}

/** The original, regular-expression decoder: the reference decodeReceipt is tested against. */
export function decodeReceiptReference(text: unknown): Receipt | QueueError {
  if (typeof text !== 'string' || text.length > receiptLengthMax) return invalidArgument('malformed receipt');
  const match = receiptPattern.exec(text);
  if (match === null) return invalidArgument('malformed receipt');
  const body = text.slice(3, text.lastIndexOf('.'));
  if (fnv1a32(body).toString(36) !== match[5]) return invalidArgument('malformed receipt (checksum)');
  const [queueId, offset, receiveCount, deliveryIndex] = [match[1], match[2], match[3], match[4]].map((s) =>
    parseInt(s!, 36),
  ) as [number, number, number, number];
  const fields = [queueId, offset, receiveCount, deliveryIndex];
  if (!fields.every((n) => Number.isSafeInteger(n)) || receiveCount < 1 || deliveryIndex < 1) {
    return invalidArgument('malformed receipt (fields)');
  }
  return { queueId, offset, receiveCount, deliveryIndex };
}
