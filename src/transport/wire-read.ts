/**
 * Readers for plain objects decoded from untrusted bytes. Every reader checks the runtime type
 * and throws a FrameError with a stable code; decoders never index an unchecked value.
 */
import { FrameError } from './errors.js';

/** A decoded protobuf message as a plain object: field name -> value, absent fields undefined. */
export type WireObject = Readonly<Record<string, unknown>>;

/** Narrows `v` to a WireObject. */
export function isWireObject(v: unknown): v is WireObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** A uint64 field as a JS number; absent -> 0 (proto3 default); above 2^53-1 -> NUMBER_OUT_OF_RANGE. */
export function readU64(obj: WireObject, field: string): number {
  const v = obj[field];
  if (v === undefined) return 0;
  if (typeof v === 'bigint') {
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FrameError('NUMBER_OUT_OF_RANGE', `${field} = ${v} is outside 0..2^53-1`);
    }
    return Number(v);
  }
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw new FrameError('NUMBER_OUT_OF_RANGE', `${field} is not an unsigned safe integer`);
}

/** A uint32 or enum field; absent -> 0. */
export function readU32(obj: WireObject, field: string): number {
  const v = obj[field];
  if (v === undefined) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new FrameError('INVALID_FIELD', `${field} is not an integer`);
}

/** A bool field; absent -> false. */
export function readBool(obj: WireObject, field: string): boolean {
  const v = obj[field];
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  throw new FrameError('INVALID_FIELD', `${field} is not a bool`);
}

/** A string field; absent -> ''. */
export function readString(obj: WireObject, field: string): string {
  const v = obj[field];
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  throw new FrameError('INVALID_FIELD', `${field} is not a string`);
}

/** A string field that must be non-empty (node ids): empty or absent -> MISSING_FIELD. */
export function readRequiredString(obj: WireObject, field: string): string {
  const s = readString(obj, field);
  if (s === '') throw new FrameError('MISSING_FIELD', `${field} is missing`);
  return s;
}

/**
 * A bytes field as a plain Uint8Array view (no copy) over the decoded buffer; absent -> empty.
 * The view keeps the frame's buffer alive as long as the caller holds it.
 */
export function readBytes(obj: WireObject, field: string): Uint8Array {
  const v = obj[field];
  if (v === undefined) return new Uint8Array(0);
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new FrameError('INVALID_FIELD', `${field} is not bytes`);
}

/** A sub-message field that must be present: absent -> MISSING_FIELD. */
export function readMessage(obj: WireObject, field: string): WireObject {
  const v = obj[field];
  if (v === undefined) throw new FrameError('MISSING_FIELD', `${field} is missing`);
  if (isWireObject(v)) return v;
  throw new FrameError('INVALID_FIELD', `${field} is not a message`);
}

/** A repeated field; absent -> []. */
export function readArray(obj: WireObject, field: string): readonly unknown[] {
  const v = obj[field];
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  throw new FrameError('INVALID_FIELD', `${field} is not a list`);
}

/** A repeated string field whose items must be non-empty (node ids). */
export function readNodeIds(obj: WireObject, field: string): string[] {
  return readArray(obj, field).map((v) => {
    if (typeof v !== 'string' || v === '') throw new FrameError('INVALID_FIELD', `${field} holds an empty or non-string id`);
    return v;
  });
}
