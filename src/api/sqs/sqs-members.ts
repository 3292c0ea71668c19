/**
 * Typed reads of members of a decoded SQS input (`SqsCall.input`), for the
 * action handlers: JSON clients send numbers as numbers, but hand-written
 * requests may send numeric strings, and anything else must be answered
 * with InvalidParameterValue rather than trusted.
 */
import { SqsError } from './sqs-errors.js';

/**
 * The integer member `name` of `input`, or undefined when absent (or null).
 * Accepts a safe integer or a string of one; throws SqsError
 * InvalidParameterValue otherwise.
 */
export function intMember(input: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^[+-]?[0-9]{1,15}$/.test(value.trim())) return Number(value.trim());
  throw new SqsError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid. Reason: must be an integer.`);
}

/**
 * The string member `name` of `input`, or undefined when absent (or null);
 * throws SqsError InvalidParameterValue for a value of another type.
 */
export function stringMember(input: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  throw new SqsError('InvalidParameterValue', `Value for parameter ${name} is invalid. Reason: must be a string.`);
}

/**
 * The string member `name`, which must be present: throws SqsError
 * MissingParameter when it is absent.
 */
export function requiredString(input: Readonly<Record<string, unknown>>, name: string): string {
  const value = stringMember(input, name);
  if (value === undefined) {
    throw new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
  }
  return value;
}
