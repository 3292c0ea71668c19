/**
 * SQS's message digests. @aws-sdk/middleware-sdk-sqs only checks body
 * digests (with its own md5 over the UTF-8 body, see receiveMessageMiddleware),
 * and no installed SDK exports the attribute digest, so the attribute
 * encoding is checked against the byte layout SQS documents, built here by
 * hand, plus fixed values.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { md5OfBody, md5OfMessageAttributes } from '../../../src/api/sqs/sqs-md5.js';

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const lp = (b: Buffer): Buffer => Buffer.concat([u32(b.length), b]);
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('md5OfBody', () => {
  it('is the hex MD5 of the UTF-8 body', () => {
    expect(md5OfBody('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(md5OfBody('hello')).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(md5OfBody('é😀')).toBe(md5(utf8('é😀')));
  });
});

describe('md5OfMessageAttributes', () => {
  it('encodes names in order, length-prefixed, transport byte 1 for strings and 2 for binary', () => {
    const attrs = {
      zeta: { DataType: 'String', StringValue: 'é' },
      alpha: { DataType: 'Binary', BinaryValue: Buffer.from([0, 255, 7]).toString('base64') },
      Mid: { DataType: 'Number.float', StringValue: '1.5' },
    };
    const expected = md5(
      Buffer.concat([
        lp(utf8('Mid')), lp(utf8('Number.float')), Buffer.of(1), lp(utf8('1.5')),
        lp(utf8('alpha')), lp(utf8('Binary')), Buffer.of(2), lp(Buffer.from([0, 255, 7])),
        lp(utf8('zeta')), lp(utf8('String')), Buffer.of(1), lp(utf8('é')),
      ]),
    );
    expect(md5OfMessageAttributes(attrs)).toBe(expected);
  });

  it('matches fixed values (computed independently with Python hashlib/struct)', () => {
    expect(md5OfMessageAttributes({ a: { DataType: 'String', StringValue: 'b' } })).toBe('bef8bf215374a0a228d67533b1a488be');
    expect(md5OfMessageAttributes({})).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });
});
