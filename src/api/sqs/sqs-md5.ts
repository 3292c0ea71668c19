/**
 * The MD5 digests SQS returns with sent and received messages
 * (MD5OfMessageBody / MD5OfBody and MD5OfMessageAttributes), computed the
 * way SQS documents them so that clients which verify them agree.
 */
import { createHash } from 'node:crypto';

/** One message attribute value, as in the JSON model (binary as base64). */
export interface SqsAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  /** Base64, as the JSON protocol carries it. */
  readonly BinaryValue?: string;
  readonly StringListValues?: readonly string[];
  readonly BinaryListValues?: readonly string[];
}

/** Hex MD5 of the UTF-8 bytes of a message body. */
export function md5OfBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([len, bytes]);
}

/**
 * Hex MD5 of message attributes in SQS's encoding: for each attribute in
 * name order (code unit order, as SQS sorts), the 4-byte big-endian length
 * and UTF-8 bytes of the name, the same of the DataType, one transport byte
 * (1 for a StringValue, 2 for a BinaryValue) and the length-prefixed value
 * (UTF-8 of the string, or the decoded binary bytes). List values (never
 * released by SQS) use transport bytes 3 / 4 with each item length-prefixed.
 */
export function md5OfMessageAttributes(attrs: Readonly<Record<string, SqsAttributeValue>>): string {
  const hash = createHash('md5');
  const names = Object.keys(attrs).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const value = attrs[name];
    if (value === undefined) continue;
    hash.update(lengthPrefixed(Buffer.from(name, 'utf8')));
    hash.update(lengthPrefixed(Buffer.from(value.DataType, 'utf8')));
    if (value.StringValue !== undefined) {
      hash.update(Buffer.of(1));
      hash.update(lengthPrefixed(Buffer.from(value.StringValue, 'utf8')));
    } else if (value.BinaryValue !== undefined) {
      hash.update(Buffer.of(2));
      hash.update(lengthPrefixed(Buffer.from(value.BinaryValue, 'base64')));
    } else if (value.StringListValues !== undefined) {
      hash.update(Buffer.of(3));
      for (const item of value.StringListValues) hash.update(lengthPrefixed(Buffer.from(item, 'utf8')));
    } else if (value.BinaryListValues !== undefined) {
      hash.update(Buffer.of(4));
      for (const item of value.BinaryListValues) hash.update(lengthPrefixed(Buffer.from(item, 'base64')));
    }
  }
  return hash.digest('hex');
}
