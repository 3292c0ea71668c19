/**
 * SimDisk: an in-memory, deterministic SegmentDisk that models power loss exactly as the
 * segment log's contract assumes a disk behaves, and no better:
 * - per file, the bytes made durable by its last datasync(); per directory, the names made
 *   durable by its last syncDir(). crash() keeps exactly those and discards everything else
 *   (unsynced writes, truncations, creations, deletions, renames);
 * - with `tornWrites`, a file that only grew since its last datasync keeps, after a crash, its
 *   durable bytes plus a seeded prefix of the unsynced ones (a torn write: possibly cutting a
 *   record in two), instead of losing them all;
 * - with `truncationsMayPersist`, an unsynced truncation may survive a crash without the
 *   writes after it (a journaled size change);
 * - a crash can be scheduled after a number of disk operations (to crash inside a sync);
 *   after a crash every operation fails (code ECRASHED) until reboot();
 * - a fault (ENOSPC, EIO) can be injected on the next call of a chosen operation.
 * Directories exist durably once made (mkdir); the log never creates them.
 */
import { join } from 'node:path';
import { seededRng } from '../../raft/rng.js';
import type { SegmentDisk, SegmentFile } from '../../src/storage/segment-log/segment-disk.js';

/** A file's content. Invariant: `grewOnly` implies durable is a prefix of data. */
interface Inode {
  data: Uint8Array;
  durable: Uint8Array;
  /** Only appends since the last datasync (no truncation). */
  grewOnly: boolean;
  /** The shortest length truncated to since the last datasync, if any. */
  truncatedTo: number | undefined;
}

interface Dir {
  entries: Map<string, Inode>;
  durableEntries: Map<string, Inode>;
}

/** The operations SimDisk counts and can fail. */
export type SimOp = 'open' | 'list' | 'unlink' | 'rename' | 'syncDir' | 'makeDir' | 'append' | 'read' | 'size' | 'truncate' | 'datasync' | 'close';

/** Options of SimDisk. */
export interface SimDiskOptions {
  /** Seed of the torn-write lengths. */
  readonly seed?: number;
  /** Tear unsynced appends at a crash instead of dropping them all. */
  readonly tornWrites?: boolean;
  /**
   * An unsynced truncation may survive a crash (as a journaled size change does on ext4),
   * without the writes after it: a seeded coin per truncated file.
   */
  readonly truncationsMayPersist?: boolean;
}

/** An error with an errno-style code, as node:fs throws. */
export function errnoError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

const mutatingOps: ReadonlySet<SimOp> = new Set<SimOp>(['open', 'unlink', 'rename', 'syncDir', 'makeDir', 'append', 'truncate', 'datasync']);

/** The simulated disk. */
export class SimDisk implements SegmentDisk {
  readonly #dirs = new Map<string, Dir>();
  readonly #random: () => number;
  readonly #tornWrites: boolean;
  readonly #truncationsMayPersist: boolean;
  /** Calls per operation since construction. */
  readonly calls = new Map<SimOp, number>();
  #down = false;
  /** Handles opened before this generation are dead. */
  #generation = 0;
  #crashAfterMutations: number | undefined;
  #faults: { op: SimOp; code: string }[] = [];
  /** Called at the start of every operation (tests use it to act in the middle of a sync). */
  beforeOp: ((op: SimOp) => void) | undefined;

  constructor(options: SimDiskOptions = {}) {
    this.#random = seededRng(options.seed ?? 1).next;
    this.#tornWrites = options.tornWrites ?? false;
    this.#truncationsMayPersist = options.truncationsMayPersist ?? false;
  }

  /** Makes a durable, empty directory. */
  mkdir(dir: string): void {
    if (!this.#dirs.has(dir)) this.#dirs.set(dir, { entries: new Map(), durableEntries: new Map() });
  }

  /** Power loss now: keeps only what was made durable (and torn prefixes, if enabled). */
  crash(): void {
    const inodes = new Set<Inode>();
    for (const d of this.#dirs.values()) {
      d.entries = new Map(d.durableEntries);
      for (const inode of d.entries.values()) inodes.add(inode);
    }
    for (const inode of inodes) {
      let survivor = inode.durable;
      if (this.#tornWrites && inode.grewOnly && inode.data.length > inode.durable.length) {
        const extra = Math.floor(this.#random() * (inode.data.length - inode.durable.length + 1));
        survivor = inode.data.slice(0, inode.durable.length + extra);
      } else if (this.#truncationsMayPersist && inode.truncatedTo !== undefined && this.#random() < 0.5) {
        survivor = inode.durable.slice(0, Math.min(inode.truncatedTo, inode.durable.length));
      }
      inode.data = survivor;
      inode.durable = survivor;
      inode.grewOnly = true;
      inode.truncatedTo = undefined;
    }
    this.#generation++;
    this.#down = true;
    this.#crashAfterMutations = undefined;
  }

  /** Powers the machine back on after a crash. */
  reboot(): void {
    this.#down = false;
  }

  /** Crashes when `mutations` more mutating operations have completed (0: before the next). */
  scheduleCrash(mutations: number): void {
    this.#crashAfterMutations = mutations;
  }

  /** The next call of `op` fails with errno `code` (ENOSPC, EIO) and changes nothing. */
  injectFault(op: SimOp, code: 'ENOSPC' | 'EIO'): void {
    this.#faults.push({ op, code });
  }

  /** The current bytes of a file (for tests that damage it). */
  bytesOf(dir: string, name: string): Uint8Array {
    const inode = this.#dir(dir).entries.get(name);
    if (inode === undefined) throw errnoError('ENOENT', `${dir}/${name}`);
    return inode.data;
  }

  /** Replaces a file's bytes durably (damage done behind the log's back). */
  overwrite(dir: string, name: string, bytes: Uint8Array): void {
    const inode = this.#dir(dir).entries.get(name);
    if (inode === undefined) throw errnoError('ENOENT', `${dir}/${name}`);
    inode.data = bytes.slice();
    inode.durable = inode.data;
    inode.grewOnly = true;
    inode.truncatedTo = undefined;
  }

  /** Counts and gates one operation: crash, fault or go. */
  #enter(op: SimOp, generation = this.#generation): void {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    this.beforeOp?.(op);
    if (!this.#down && mutatingOps.has(op) && this.#crashAfterMutations !== undefined) {
      if (this.#crashAfterMutations === 0) this.crash();
      else this.#crashAfterMutations--;
    }
    if (this.#down || generation !== this.#generation) throw errnoError('ECRASHED', `${op} after a simulated power loss`);
    const fault = this.#faults.findIndex((f) => f.op === op);
    if (fault >= 0) {
      const [{ code }] = this.#faults.splice(fault, 1) as [{ op: SimOp; code: string }];
      throw errnoError(code, `injected on ${op}`);
    }
  }

  #dir(dir: string): Dir {
    const d = this.#dirs.get(dir);
    if (d === undefined) throw errnoError('ENOENT', dir);
    return d;
  }

  async open(dir: string, name: string, mode: 'create' | 'existing'): Promise<SegmentFile> {
    this.#enter('open');
    const d = this.#dir(dir);
    let inode = d.entries.get(name);
    if (mode === 'create') {
      if (inode !== undefined) throw errnoError('EEXIST', `${dir}/${name}`);
      inode = { data: new Uint8Array(0), durable: new Uint8Array(0), grewOnly: true, truncatedTo: undefined };
      d.entries.set(name, inode);
    } else if (inode === undefined) {
      throw errnoError('ENOENT', `${dir}/${name}`);
    }
    return this.#handle(inode);
  }

  async list(dir: string): Promise<string[]> {
    this.#enter('list');
    return [...this.#dir(dir).entries.keys()];
  }

  async unlink(dir: string, name: string): Promise<void> {
    this.#enter('unlink');
    if (!this.#dir(dir).entries.delete(name)) throw errnoError('ENOENT', `${dir}/${name}`);
  }

  async rename(dir: string, from: string, to: string): Promise<void> {
    this.#enter('rename');
    const d = this.#dir(dir);
    const inode = d.entries.get(from);
    if (inode === undefined) throw errnoError('ENOENT', `${dir}/${from}`);
    d.entries.delete(from);
    d.entries.set(to, inode);
  }

  /** Creates `parent/name` durably (the simulation keeps no parent entries: a made directory survives). */
  async makeDir(parent: string, name: string, _sync = true): Promise<string> {
    this.#enter('makeDir');
    const path = join(parent, name);
    this.mkdir(path);
    return path;
  }

  /**
   * Moves every directory under `from` (itself and `from/...`) to the same place under `to`:
   * tests that rebuild a LevelDB elsewhere after a cut move the simulated log along with it.
   */
  moveTree(from: string, to: string): void {
    for (const [path, d] of [...this.#dirs]) {
      if (path !== from && !path.startsWith(`${from}/`)) continue;
      this.#dirs.delete(path);
      this.#dirs.set(to + path.slice(from.length), d);
    }
  }

  async syncDir(dir: string): Promise<void> {
    this.#enter('syncDir');
    const d = this.#dir(dir);
    d.durableEntries = new Map(d.entries);
  }

  #handle(inode: Inode): SegmentFile {
    const generation = this.#generation;
    let closed = false;
    const enter = (op: SimOp): void => {
      if (closed) throw new Error(`SimDisk: ${op} on a closed handle`);
      this.#enter(op, generation);
    };
    return {
      append: async (bytes) => {
        enter('append');
        const next = new Uint8Array(inode.data.length + bytes.length);
        next.set(inode.data);
        next.set(bytes, inode.data.length);
        inode.data = next;
      },
      read: async (offset, length) => {
        enter('read');
        return inode.data.slice(offset, Math.min(inode.data.length, offset + length));
      },
      size: async () => {
        enter('size');
        return inode.data.length;
      },
      truncate: async (length) => {
        enter('truncate');
        if (length < inode.data.length) {
          inode.data = inode.data.slice(0, length);
          inode.grewOnly = false;
          inode.truncatedTo = Math.min(length, inode.truncatedTo ?? length);
        }
      },
      datasync: async () => {
        enter('datasync');
        inode.durable = inode.data;
        inode.grewOnly = true;
        inode.truncatedTo = undefined;
      },
      close: async () => {
        enter('close');
        closed = true;
      },
    };
  }
}
