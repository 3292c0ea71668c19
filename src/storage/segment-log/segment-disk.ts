/**
 * The file operations the segment log performs, and nothing else: the seam where tests put a
 * simulated disk that models power loss (test/storage/sim-disk.ts) under the same code that
 * runs on the real file system (node-disk.ts).
 *
 * Files are named by (directory, name) pairs; the log never nests directories. Durability is
 * explicit: written bytes survive a power loss only after `datasync()` of their file, and a
 * created, deleted or renamed name only after `syncDir()` of its directory. Errors are the
 * platform's (an errno `code` such as ENOSPC or EIO); segment-log.ts maps them to typed
 * storage errors (../disk-errors.ts).
 */

/** An open file. Invariant: used by one caller at a time; closed exactly once. */
export interface SegmentFile {
  /** Appends `bytes` at the end of the file. */
  append(bytes: Uint8Array): Promise<void>;
  /** Reads up to `length` bytes at `offset`; fewer only at the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** The current size in bytes. */
  size(): Promise<number>;
  /** Cuts the file to `length` bytes (never grows it). */
  truncate(length: number): Promise<void>;
  /** Makes the file's data and size durable (fdatasync). */
  datasync(): Promise<void>;
  /** Releases the handle. */
  close(): Promise<void>;
}

/** A file system as the segment log uses it. */
export interface SegmentDisk {
  /** Opens a file for reading and appending; `create` makes it, and fails if it exists. */
  open(dir: string, name: string, mode: 'create' | 'existing'): Promise<SegmentFile>;
  /** The names in `dir` (files only, any order). */
  list(dir: string): Promise<string[]>;
  /** Removes a name. */
  unlink(dir: string, name: string): Promise<void>;
  /** Renames `from` to `to` in `dir`, replacing `to` if it exists. */
  rename(dir: string, from: string, to: string): Promise<void>;
  /** Makes the creations, deletions and renames in `dir` durable (fsync of the directory). */
  syncDir(dir: string): Promise<void>;
  /**
   * Creates the directory `name` in `parent` unless it exists, and makes it durable (fsyncs
   * the new directory and `parent`) unless `sync` is false (only the skip-dir-fsync negative
   * control). Returns the new directory's path.
   */
  makeDir(parent: string, name: string, sync?: boolean): Promise<string>;
}
