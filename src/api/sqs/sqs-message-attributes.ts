/**
 * SQS's typed message attributes over raftq's string attributes. A message keeps one string per
 * attribute: String and Number attributes their StringValue, Binary ones their BinaryValue in
 * base64; the data type of every attribute that is not plain `String` goes in the reserved key
 * `:types` (a JSON object; `:` cannot start an SQS attribute name). So a message sent over HTTP
 * with string attributes reaches an SQS consumer as String attributes, and an SQS message's
 * String attributes read as plain strings over HTTP.
 */
import { SqsError } from './sqs-errors.js';
import type { SqsInput } from './sqs-input.js';

/** One attribute as the SQS JSON protocol carries it (BinaryValue in base64). */
export interface SqsMessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

/** Reserved raftq attribute holding the data types that are not `String`. */
export const typesKey = ':types';
/** Reserved raftq attribute holding the AWSTraceHeader system attribute. */
export const traceHeaderKey = ':AWSTraceHeader';

/** Attributes per message (SQS: 10). */
export const messageAttributesMax = 10;

const namePattern = /^[A-Za-z0-9_\-.]{1,256}$/;
const dataTypePattern = /^(String|Number|Binary)(\.[^\s]{1,240})?$/;
const numberPattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
// Characters SQS accepts in bodies and string values (XML 1.0's Char production).
const invalidChars = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function invalid(message: string): SqsError {
  return new SqsError('InvalidParameterValue', message);
}

/** Whether `s` holds only characters SQS allows in a message (InvalidMessageContents otherwise). */
export function checkMessageChars(s: string, what: string): void {
  if (invalidChars.test(s)) {
    throw new SqsError('InvalidMessageContents', `Invalid binary character in ${what}: only #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF are allowed.`);
  }
}

/** What a valid attribute map becomes: raftq's string attributes and the size SQS counts. */
export interface StoredAttributes {
  readonly attributes: Record<string, string>;
  /** Bytes of names, data types and values (they count toward the message size). */
  readonly bytes: number;
}

/**
 * Validates SQS message attributes (names, data types, values, at most 10) and converts them to
 * raftq's string attributes. `traceHeader` is the AWSTraceHeader system attribute, if any.
 */
export function storeMessageAttributes(attrs: Record<string, SqsInput> | undefined, traceHeader?: string): StoredAttributes {
  const out: Record<string, string> = {};
  const types: Record<string, string> = {};
  let bytes = 0;
  const entries = Object.entries(attrs ?? {});
  if (entries.length > messageAttributesMax) throw invalid(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${messageAttributesMax}].`);
  for (const [name, a] of entries) {
    if (!namePattern.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..') || /^(aws\.|amazon\.)/i.test(name)) {
      throw invalid(`Message attribute name '${name}' is invalid: names use A-Z a-z 0-9 _ - . (no leading, trailing or repeated period), at most 256 characters, and must not start with AWS. or Amazon.`);
    }
    const dataType = a['DataType'];
    if (typeof dataType !== 'string' || dataType === '') throw invalid(`The message attribute '${name}' must contain non-empty DataType.`);
    if (!dataTypePattern.test(dataType) || dataType.length > 256) throw invalid(`The type of message attribute '${name}' is invalid: use String, Number or Binary, optionally with a .custom suffix.`);
    if (a['StringListValues'] !== undefined || a['BinaryListValues'] !== undefined) throw invalid(`Message attribute '${name}': list values are not supported.`);
    let value: string;
    if (dataType.startsWith('Binary')) {
      const b = a['BinaryValue'];
      if (typeof b !== 'string' || b === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b)) throw invalid(`The message attribute '${name}' with type 'Binary' must use field 'Binary' with a base64 value.`);
      value = b;
      bytes += Buffer.from(b, 'base64').length;
    } else {
      const s = a['StringValue'];
      if (typeof s !== 'string' || s === '') throw invalid(`The message attribute '${name}' with type '${dataType}' must use field 'String'.`);
      if (dataType.startsWith('Number') && (!numberPattern.test(s) || s.replace(/[^0-9]/g, '').replace(/^0+/, '').length > 38)) {
        throw invalid(`Can't cast the value of message attribute '${name}' to a number.`);
      }
      checkMessageChars(s, `message attribute '${name}'`);
      value = s;
      bytes += Buffer.byteLength(s);
    }
    bytes += Buffer.byteLength(name) + Buffer.byteLength(dataType);
    out[name] = value;
    if (dataType !== 'String') types[name] = dataType;
  }
  if (Object.keys(types).length > 0) out[typesKey] = JSON.stringify(types);
  if (traceHeader !== undefined) {
    out[traceHeaderKey] = traceHeader;
    bytes += Buffer.byteLength(traceHeader);
  }
  return { attributes: out, bytes };
}

/** The SQS message attributes of stored attributes, those `wanted` selects (see attributeSelector). */
export function sqsMessageAttributes(stored: Readonly<Record<string, string>>, wanted: (name: string) => boolean): Record<string, SqsMessageAttribute> {
  let types: Record<string, unknown> = {};
  const rawTypes = stored[typesKey];
  if (rawTypes !== undefined) {
    try {
      const parsed: unknown = JSON.parse(rawTypes);
      if (typeof parsed === 'object' && parsed !== null) types = parsed as Record<string, unknown>;
    } catch {
      types = {};
    }
  }
  const out: Record<string, SqsMessageAttribute> = {};
  for (const name of Object.keys(stored).sort()) {
    if (name.startsWith(':') || !wanted(name)) continue;
    const t = types[name];
    const dataType = typeof t === 'string' ? t : 'String';
    out[name] = dataType.startsWith('Binary') ? { DataType: dataType, BinaryValue: stored[name]! } : { DataType: dataType, StringValue: stored[name]! };
  }
  return out;
}

/**
 * A predicate over attribute names from SQS's name filters: `All` or `.*` select every name,
 * `prefix.*` the names under `prefix.`, anything else that exact name. No filters select none.
 */
export function attributeSelector(filters: readonly string[] | undefined): (name: string) => boolean {
  if (filters === undefined || filters.length === 0) return () => false;
  if (filters.includes('All') || filters.includes('.*')) return () => true;
  const exact = new Set(filters.filter((f) => !f.endsWith('.*')));
  const prefixes = filters.filter((f) => f.endsWith('.*')).map((f) => f.slice(0, -1));
  return (name) => exact.has(name) || prefixes.some((p) => name.startsWith(p));
}
