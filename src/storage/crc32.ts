/**
 * CRC-32C (Castagnoli), the checksum LevelDB, ext4 and iSCSI use for stored records. Written on
 * every stored log entry, metadata record and snapshot chunk; verified on every load.
 */

/** The reflected Castagnoli polynomial. */
const castagnoliReflected = 0x82f63b78;

/** Byte-at-a-time lookup table: 256 entries of 32 bits. */
const table: Uint32Array = buildTable();

function buildTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? castagnoliReflected ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/**
 * The CRC-32C of `bytes`. Pass a previous result as `seed` to continue a checksum over
 * several buffers: crc32c(b, crc32c(a)) === crc32c(a ++ b).
 */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  let crc = (seed ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    crc = table[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
