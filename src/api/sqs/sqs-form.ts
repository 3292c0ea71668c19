/**
 * Strict `application/x-www-form-urlencoded` decoding for the SQS query
 * protocol: a malformed escape or invalid UTF-8 is an SqsError
 * (MalformedQueryString) instead of the silent repair URLSearchParams does.
 */
import { SqsError } from './sqs-errors.js';

/** Form parameters by name; a repeated name keeps its last value. */
export type SqsForm = Map<string, string>;

function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new SqsError('MalformedQueryString', `Malformed form encoding: ${raw.slice(0, 64)}`);
  }
}

/**
 * Decodes a form-encoded string (a POST body or the part of a URL after
 * `?`) into `into` (a new map by default). Empty pairs (`a=1&&b=2`) are
 * skipped; a pair without `=` has the empty value.
 */
export function parseForm(text: string, into: SqsForm = new Map()): SqsForm {
  if (text.length === 0) return into;
  for (const pair of text.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    if (name.length === 0) throw new SqsError('MalformedQueryString', 'Form parameter with an empty name');
    into.set(name, value);
  }
  return into;
}

/** The query string of a request path (`/a/b?x=1` -> `x=1`), or ''. */
export function queryStringOf(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? '' : path.slice(q + 1);
}

/** The path of a request path without its query string. */
export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}
