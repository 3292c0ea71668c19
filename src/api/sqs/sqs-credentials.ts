/**
 * The SigV4 access keys the SQS API accepts, read from a JSON file
 * (`[{"accessKeyId": "...", "secretAccessKey": "..."}, ...]`) when the node starts. A file that
 * cannot be read or does not hold that shape stops the start with INVALID_ARGUMENT naming it.
 */
import { readFileSync } from 'node:fs';
import { RaftqError } from '../../errors.js';
import type { SqsCredentials } from './sqs-sigv4.js';

/** The access keys of `file` by access key id. */
export function loadSqsCredentials(file: string): Map<string, SqsCredentials> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RaftqError('INVALID_ARGUMENT', `SQS credentials file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const bad = (why: string): RaftqError => new RaftqError('INVALID_ARGUMENT', `SQS credentials file ${file}: ${why}`);
  if (!Array.isArray(json) || json.length === 0) throw bad('must hold a non-empty JSON array of {"accessKeyId", "secretAccessKey"}');
  const out = new Map<string, SqsCredentials>();
  json.forEach((c: unknown, i) => {
    const o = typeof c === 'object' && c !== null ? (c as Record<string, unknown>) : {};
    const id = o['accessKeyId'];
    const secret = o['secretAccessKey'];
    if (typeof id !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(id)) throw bad(`entry ${i}: accessKeyId must be 1-128 letters and digits`);
    if (typeof secret !== 'string' || secret.length < 1 || secret.length > 256) throw bad(`entry ${i}: secretAccessKey must be a string of 1-256 characters`);
    if (out.has(id)) throw bad(`entry ${i}: access key ${id} is given twice`);
    out.set(id, { accessKeyId: id, secretAccessKey: secret });
  });
  return out;
}
