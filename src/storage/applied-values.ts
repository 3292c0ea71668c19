/**
 * Checksummed values of the applied keyspace (the queue state machine's records: messages,
 * payloads, dedup entries). Every stored value is
 *
 *   u32be crc32c(key ++ value) | value
 *
 * where `key` is the state machine's key (without the generation prefix of keys.ts): a value
 * copied under another key, or a flipped bit in a message body, fails verification. Written on
 * every put (applied batches, snapshot installs, the format-3 migration) and verified on every
 * read (get, getMany, iterate, snapshot streaming): damaged bytes are never returned.
 */
import { crc32c } from './crc32.js';
import { StorageCorruptionError } from './errors.js';

/** Bytes the checksum adds in front of every applied value. */
export const appliedValueCrcBytes = 4;

/** The stored form of the state machine's `value` at `key`. */
export function encodeAppliedValue(key: Uint8Array, value: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(appliedValueCrcBytes + value.length);
  out.set(value, appliedValueCrcBytes);
  out.writeUInt32BE(crc32c(value, crc32c(key)), 0);
  return out;
}

/**
 * The state machine's value from its stored form, verified unless `verify` is false (only the
 * skip-checksums negative control). Throws StorageCorruptionError naming the key on a mismatch.
 */
export function decodeAppliedValue(key: Uint8Array, stored: Uint8Array, verify: boolean): Uint8Array {
  if (stored.length < appliedValueCrcBytes) {
    throw new StorageCorruptionError(describeAppliedKey(key), null, `value of ${stored.length} bytes is shorter than its checksum`);
  }
  const value = stored.subarray(appliedValueCrcBytes);
  if (!verify) return value;
  const view = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const expected = view.readUInt32BE(0);
  const actual = crc32c(value, crc32c(key));
  if (expected !== actual) {
    throw new StorageCorruptionError(describeAppliedKey(key), null, `checksum mismatch (stored 0x${hex(expected)}, computed 0x${hex(actual)})`);
  }
  return value;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** "applied[<key>]": the key as text when it is printable, else as hex. */
export function describeAppliedKey(key: Uint8Array): string {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  const printable = b.every((c) => c >= 0x20 && c < 0x7f);
  return `applied[${printable ? b.toString('latin1') : `0x${b.toString('hex')}`}]`;
}
