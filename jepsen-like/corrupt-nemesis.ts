/**
 * The `corrupt` nemesis: file corruption on a minority of nodes, as Jepsen did to NATS and
 * TigerBeetle. Each fault kills its targets (kill -9, waiting for the exits), damages one data
 * file of each (storage/data-files.ts names them: the files holding the Raft log, the hard state
 * and the state machine, whatever the layout) in one of three modes, and restarts them at the
 * heal, as `kill` does:
 * - `flip`: 1 to 8 random bits at random offsets of one file flipped;
 * - `truncate`: one file cut at a random offset;
 * - `zero`: one random 4 KiB-aligned chunk of one file overwritten with zeros.
 * The file is picked with a probability proportional to its size (where the bytes are); every
 * choice comes from an Rng seeded by the fault, so a run's seed replays the same decisions (the
 * files themselves depend on timing). Each damage is written and fsynced through the node's data
 * directory, so on a powerfs mount (power and disk nemeses) it is durable like any synced write
 * and a later power cut keeps it.
 *
 * A correct raftq notices the damage (every record is checksummed), never serves or replicates
 * damaged data, and repairs itself from its peers; only damage on a majority (`--corrupt-scope
 * all`, for the negative control) may stop the cluster.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { seededRng, type Rng } from '../raft/rng.js';
import { dataFiles, type DataFile, type DataFileRole } from '../src/storage/data-files.js';
import type { TestCluster } from './cluster.js';

/** How a fault damages a file. */
export type CorruptMode = 'flip' | 'truncate' | 'zero';

/** Every corruption mode (the variants of a `corrupt` fault). */
export const corruptModes: readonly CorruptMode[] = ['flip', 'truncate', 'zero'];

/**
 * Which nodes one fault damages: `minority` (one node, or up to floor((n-1)/2) of n), which a
 * correct raftq must survive without losing anything, or `all` (every node), which it may answer
 * by stopping, saying why (the negative control's scope).
 */
export type CorruptScope = 'minority' | 'all';

/** Every corruption scope. */
export const corruptScopes: readonly CorruptScope[] = ['minority', 'all'];

/** Most bits one `flip` damage flips. */
const flipBitsMax = 8;

/** Size and alignment of the chunk one `zero` damage overwrites (a page of most file systems). */
const zeroChunkBytes = 4096;

/** Exactly what one damage did to one file. */
export interface Damage {
  readonly node: string;
  readonly file: string;
  readonly role: DataFileRole;
  readonly mode: CorruptMode;
  /** The file's size before the damage. */
  readonly sizeBytes: number;
  /** flip: the lowest offset flipped; truncate: the new size; zero: the chunk's offset. */
  readonly offset: number;
  /** flip: bytes changed; truncate: bytes cut off; zero: bytes overwritten. */
  readonly lengthBytes: number;
  /** flip: each bit flipped (bit 0 is the least significant). */
  readonly bits?: ReadonlyArray<{ readonly offset: number; readonly bit: number }>;
  /** zero: how many of the overwritten bytes were not zero already. */
  readonly changedBytes?: number;
}

/** "n2 000005.ldb (table, 123 bytes): flipped 2 bits (at 17 bit 3, 90 bit 0)" and the like. */
export function describeDamage(d: Damage): string {
  const what =
    d.mode === 'flip'
      ? `flipped ${d.bits!.length} bits (${d.bits!.map((b) => `at ${b.offset} bit ${b.bit}`).join(', ')})`
      : d.mode === 'truncate'
        ? `truncated at ${d.offset} (${d.lengthBytes} bytes cut)`
        : `zeroed ${d.lengthBytes} bytes at ${d.offset} (${d.changedBytes} were not zero)`;
  return `${d.node} ${d.file} (${d.role}, ${d.sizeBytes} bytes): ${what}`;
}

/** The file of `files` that holds the byte `rng` picks: each file weighted by its size. */
function pickBySize(files: readonly DataFile[], rng: Rng): DataFile | undefined {
  const total = files.reduce((s, f) => s + f.sizeBytes, 0);
  if (total === 0) return undefined;
  let at = Math.floor(rng.next() * total);
  for (const f of files) {
    if (at < f.sizeBytes) return f;
    at -= f.sizeBytes;
  }
  throw new Error(`pickBySize: byte ${at} beyond ${total}`);
}

/**
 * Damages one data file of node `node`'s data directory `dir` in `mode`, with every choice drawn
 * from `rng`, and fsyncs it. The node must be down. Undefined when no data file has a byte.
 */
export function damageDataDir(node: string, dir: string, mode: CorruptMode, rng: Rng): Damage | undefined {
  const f = pickBySize(dataFiles(dir), rng);
  if (f === undefined) return undefined;
  const size = f.sizeBytes;
  const base = { node, file: f.name, role: f.role, mode, sizeBytes: size };
  const fd = openSync(f.path, 'r+');
  try {
    let damage: Damage;
    switch (mode) {
      case 'flip': {
        // Distinct bits (two flips of one bit would cancel), at most one per bit of the file.
        const count = Math.min(1 + rng.int(flipBitsMax), size * 8);
        const chosen = new Map<string, { offset: number; bit: number }>();
        while (chosen.size < count) {
          const b = { offset: rng.int(size), bit: rng.int(8) };
          chosen.set(`${b.offset}.${b.bit}`, b);
        }
        const bits = [...chosen.values()].sort((a, b) => a.offset - b.offset || a.bit - b.bit);
        const byte = Buffer.alloc(1);
        for (const b of bits) {
          if (readSync(fd, byte, 0, 1, b.offset) !== 1) throw new Error(`${f.path}: short read at ${b.offset}`);
          byte[0] = byte[0]! ^ (1 << b.bit);
          writeSync(fd, byte, 0, 1, b.offset);
        }
        damage = { ...base, offset: bits[0]!.offset, lengthBytes: new Set(bits.map((b) => b.offset)).size, bits };
        break;
      }
      case 'truncate': {
        const offset = rng.int(size);
        ftruncateSync(fd, offset);
        damage = { ...base, offset, lengthBytes: size - offset };
        break;
      }
      case 'zero': {
        const offset = rng.int(Math.ceil(size / zeroChunkBytes)) * zeroChunkBytes;
        const length = Math.min(zeroChunkBytes, size - offset);
        const old = Buffer.alloc(length);
        if (readSync(fd, old, 0, length, offset) !== length) throw new Error(`${f.path}: short read at ${offset}`);
        writeSync(fd, Buffer.alloc(length), 0, length, offset);
        damage = { ...base, offset, lengthBytes: length, changedBytes: old.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0) };
        break;
      }
    }
    fsyncSync(fd);
    return damage;
  } finally {
    closeSync(fd);
  }
}

/**
 * The nodes one fault damages: every node for scope `all`; else, from `ids` rotated by `pick`,
 * 1 up to floor((n-1)/2) nodes (how many drawn from `rng`): always a minority.
 */
export function corruptTargets(ids: readonly string[], scope: CorruptScope, pick: number, rng: Rng): string[] {
  if (scope === 'all') return [...ids];
  const minorityMax = Math.max(1, Math.floor((ids.length - 1) / 2));
  const k = Math.floor(pick * ids.length);
  const rotated = [...ids.slice(k), ...ids.slice(0, k)];
  return rotated.slice(0, 1 + rng.int(minorityMax));
}

/** The Rng of one fault's choices: seeded by the fault's seed-derived `pick`. */
export function faultRng(pick: number): Rng {
  return seededRng(Math.floor(pick * 2 ** 32));
}

/**
 * Kills `targets` (waiting for their exits), then damages one data file of each in `mode`.
 * Resolves with what was done (a node whose files hold no byte yet gets no damage). The targets
 * stay down: the caller restarts them at the heal (queue that restart before calling).
 */
export async function corruptNodes(c: TestCluster, targets: readonly string[], mode: CorruptMode, rng: Rng): Promise<Damage[]> {
  await Promise.all(targets.map((id) => c.killAndWait(id)));
  const damages: Damage[] = [];
  for (const id of targets) {
    const d = damageDataDir(id, c.node(id).dataDir, mode, rng);
    if (d !== undefined) damages.push(d);
  }
  return damages;
}
