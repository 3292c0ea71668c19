/**
 * The protobuf types of src/proto/queue.proto, loaded once, and small helpers to read decoded
 * messages without `any`: protobufjs decodes into plain objects whose unset optional fields are
 * absent (own property missing) or null.
 */
import type protobuf from 'protobufjs';
import { loadProto } from '../proto/load.js';

const root = loadProto('queue.proto');

/** Looks up a message type of queue.proto. */
function type(name: string): protobuf.Type {
  return root.lookupType(`raftq.queue.${name}`);
}

/** The protobuf message types used by the queue state machine. */
export const pb = {
  command: type('QueueCommandPb'),
  machine: type('MachineRecordPb'),
  queue: type('QueueRecordPb'),
  message: type('MessageRecordPb'),
  payload: type('PayloadRecordPb'),
  dedup: type('DedupRecordPb'),
  dedupPage: type('DedupPagePb'),
  user: type('UserRecordPb'),
} as const;

/** A decoded protobuf message viewed as a record of unknown fields. */
export type Decoded = Readonly<Record<string, unknown>>;

/** Decodes bytes with `t` into a field record. */
export function decodeAs(t: protobuf.Type, bytes: Uint8Array): Decoded {
  return t.decode(bytes) as unknown as Decoded;
}

/** Encodes a plain object (already valid for `t`) to bytes. */
export function encodeAs(t: protobuf.Type, value: object): Uint8Array {
  return t.encode(value).finish();
}

/** Field `name` of `m` when set, else undefined. */
export function field(m: Decoded, name: string): unknown {
  if (!Object.hasOwn(m, name)) return undefined;
  const v = m[name];
  return v === null ? undefined : v;
}

/** Field `name` as a number, or `fallback` when unset or not a number. */
export function num(m: Decoded, name: string, fallback = 0): number {
  const v = m[name];
  return typeof v === 'number' ? v : fallback;
}

/** Field `name` as a string, or '' when unset. */
export function str(m: Decoded, name: string): string {
  const v = m[name];
  return typeof v === 'string' ? v : '';
}

/** Field `name` as a boolean, false when unset. */
export function bool(m: Decoded, name: string): boolean {
  return m[name] === true;
}

/** Field `name` as bytes (a copy detached from the decode buffer), empty when unset. */
export function bytes(m: Decoded, name: string): Uint8Array {
  const v = m[name];
  return v instanceof Uint8Array ? Uint8Array.from(v) : new Uint8Array(0);
}

/** Field `name` as a nested message, or undefined when unset. */
export function sub(m: Decoded, name: string): Decoded | undefined {
  const v = field(m, name);
  return typeof v === 'object' && v !== undefined && v !== null ? (v as Decoded) : undefined;
}

/** Field `name` as a list of nested messages or scalars. */
export function list(m: Decoded, name: string): readonly unknown[] {
  const v = m[name];
  return Array.isArray(v) ? v : [];
}
