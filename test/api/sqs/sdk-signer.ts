/**
 * The SDK's own SigV4 signer (@smithy/signature-v4, installed with @aws-sdk/client-sqs) over a
 * fixed test key and clock, for the tests and fuzzers of raftq's SigV4 verification.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SqsCredentials } from '../../../src/api/sqs/sqs-sigv4.js';

/** The SDK's Checksum interface over node:crypto (SHA-256, or HMAC-SHA256 with a secret). */
class Sha256 {
  #hash: Hash | Hmac;
  readonly #secret: Buffer | undefined;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret = secret === undefined ? undefined : toBuffer(secret);
    this.#hash = this.#fresh();
  }
  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** The test access key. */
export const KEY: SqsCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
/** The keys a verifier under test accepts: KEY only. */
export const KEYS = new Map([[KEY.accessKeyId, KEY]]);
/** The clock requests are signed and verified at. */
export const NOW = Date.UTC(2026, 11, 7, 21, 0, 0);
/** The SDK's signer for KEY, region us-east-1, service sqs. */
export const signer = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: 'sqs', sha256: Sha256 });
