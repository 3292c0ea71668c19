import type { IncomingMessage } from 'node:http';
import { RaftqError } from '../errors.js';

/**
 * Reads a request body of at most `bytesMax` bytes. The limit is checked on the declared
 * Content-Length and again while streaming, so an oversized request costs at most `bytesMax`
 * bytes of memory (TOO_LARGE).
 */
export async function readBody(req: IncomingMessage, bytesMax: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > bytesMax) {
    req.resume();
    throw new RaftqError('TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${bytesMax}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > bytesMax) {
      req.resume();
      throw new RaftqError('TOO_LARGE', `request body exceeds the limit of ${bytesMax} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Reads a request body of at most `bytesMax` bytes (readBody) and parses it as JSON, before
 * anything else looks at it. An empty body reads as `{}`.
 */
export async function readJsonBody(req: IncomingMessage, bytesMax: number): Promise<unknown> {
  const body = await readBody(req, bytesMax);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (e) {
    throw new RaftqError('INVALID_ARGUMENT', `request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}
