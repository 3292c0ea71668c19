/**
 * Typed reads of an SQS request's input (the JSON model's input shape, whichever protocol it
 * came in): each accessor checks one member and throws the error SQS gives for it
 * (MissingParameter for a required member that is absent, InvalidParameterValue for a wrong
 * type or range), so action handlers never see a value of the wrong shape.
 */
import { SqsError } from './sqs-errors.js';

/** The input of one SQS call: member name to JSON value. */
export type SqsInput = Readonly<Record<string, unknown>>;

function missing(name: string): SqsError {
  return new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
}

function invalid(name: string, why: string): SqsError {
  return new SqsError('InvalidParameterValue', `Value for parameter ${name} is invalid. Reason: ${why}`);
}

/** A required string member. */
export function requiredString(input: SqsInput, name: string): string {
  const v = input[name];
  if (v === undefined || v === null) throw missing(name);
  if (typeof v !== 'string') throw invalid(name, 'must be a string.');
  return v;
}

/** An optional string member (undefined when absent). */
export function optionalString(input: SqsInput, name: string): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(name, 'must be a string.');
  return v;
}

/**
 * An optional integer member within [min, max]. The query protocol carries numbers as strings:
 * a decimal string of an integer is accepted too.
 */
export function optionalInt(input: SqsInput, name: string, min: number, max: number): number | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw invalid(name, 'must be an integer.');
  if (n < min || n > max) throw invalid(name, `must be between ${min} and ${max}.`);
  return n;
}

/** An optional list of strings (undefined when absent). */
export function optionalStringList(input: SqsInput, name: string): string[] | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s): s is string => typeof s === 'string')) throw invalid(name, 'must be a list of strings.');
  return v;
}

/** An optional map of string to string (undefined when absent). */
export function optionalStringMap(input: SqsInput, name: string): Record<string, string> | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(name, 'must be a map of strings.');
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
    if (typeof s !== 'string') throw invalid(name, `the value of ${k} must be a string.`);
    out[k] = s;
  }
  return out;
}

/** An optional map of string to object (message attributes); undefined when absent. */
export function optionalObjectMap(input: SqsInput, name: string): Record<string, SqsInput> | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(name, 'must be a map.');
  const out: Record<string, SqsInput> = {};
  for (const [k, o] of Object.entries(v as Record<string, unknown>)) {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalid(name, `the value of ${k} must be a structure.`);
    out[k] = o as SqsInput;
  }
  return out;
}

/**
 * The entries of a batch request: 1..10 structures with distinct, well-formed `Id`s
 * (EmptyBatchRequest, TooManyEntriesInBatchRequest, BatchEntryIdsNotDistinct,
 * InvalidBatchEntryId, as SQS answers).
 */
export function batchEntries(input: SqsInput, name = 'Entries'): SqsInput[] {
  const v = input[name];
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) {
    throw new SqsError('EmptyBatchRequest', 'There should be at least one entry in the request.');
  }
  if (!Array.isArray(v)) throw invalid(name, 'must be a list.');
  if (v.length > batchEntriesMax) throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${batchEntriesMax}. You have sent ${v.length}.`);
  const ids = new Set<string>();
  const out: SqsInput[] = [];
  for (const e of v) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw invalid(name, 'entries must be structures.');
    const entry = e as SqsInput;
    const id = entry['Id'];
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw new SqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (ids.has(id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    ids.add(id);
    out.push(entry);
  }
  return out;
}

/** Entries of one batch request, at most (SQS: 10). */
export const batchEntriesMax = 10;
