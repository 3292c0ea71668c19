/**
 * Byte-level mutations for the fuzz targets: bit flips, byte overwrites, truncation, insertion
 * and deletion applied to a valid encoding, so the decoders see inputs that get past their
 * first checks (a mutated frame keeps most of its structure).
 */
import fc from 'fast-check';

/** One edit of a byte string; positions are taken modulo its length. */
export type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: number; readonly count: number };

/** A mutation with an arbitrary position. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }) },
);

/** 1 to 4 mutations. */
export const mutations: fc.Arbitrary<Mutation[]> = fc.array(mutation, { minLength: 1, maxLength: 4 });

/** `bytes` with `edits` applied in order (a new array; `bytes` is not changed). */
export function mutate(bytes: Uint8Array, edits: readonly Mutation[]): Uint8Array {
  let out = Uint8Array.from(bytes);
  for (const m of edits) {
    const len = out.length;
    const at = len === 0 ? 0 : m.at % len;
    switch (m.op) {
      case 'flip':
        if (len > 0) out[at] = (out[at] ?? 0) ^ (1 << m.bit);
        break;
      case 'set':
        if (len > 0) out[at] = m.value;
        break;
      case 'truncate':
        out = out.slice(0, at);
        break;
      case 'insert':
        out = Uint8Array.from(Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]));
        break;
      case 'delete':
        out = Uint8Array.from(Buffer.concat([out.subarray(0, at), out.subarray(Math.min(len, at + m.count))]));
        break;
    }
  }
  return out;
}

/** Splits `bytes` into chunks at the given cut points (taken modulo its length + 1, sorted). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}
