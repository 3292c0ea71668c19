/**
 * The real file system behind SegmentDisk, through node:fs/promises.
 *
 * Promise-based, not synchronous: the log runs inside the node's event loop beside the
 * transport and the client API, and an fdatasync can take tens of milliseconds on a loaded
 * disk. The synchronous calls would stall every socket for that long; the promise calls run
 * on libuv's thread pool and the loop keeps serving. The cost is a thread-pool hop per call,
 * which group commit (one fdatasync per sync()) keeps rare.
 */
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { SegmentDisk, SegmentFile } from './segment-disk.js';

class NodeSegmentFile implements SegmentFile {
  readonly #handle: FileHandle;
  constructor(handle: FileHandle) {
    this.#handle = handle;
  }
  async append(bytes: Uint8Array): Promise<void> {
    // The file is opened with O_APPEND ('a+'): every write lands at the end, whatever the position.
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, done, bytes.length - done, null);
      done += bytesWritten;
    }
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.#handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? out : out.subarray(0, done);
  }
  async size(): Promise<number> {
    return (await this.#handle.stat()).size;
  }
  truncate(length: number): Promise<void> {
    return this.#handle.truncate(length);
  }
  datasync(): Promise<void> {
    return this.#handle.datasync();
  }
  close(): Promise<void> {
    return this.#handle.close();
  }
}

/** fsync of a directory: its creations, deletions and renames become durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** SegmentDisk on the real file system. */
export const nodeDisk: SegmentDisk = {
  async open(dir, name, mode) {
    // 'ax+' creates exclusively (EEXIST if present); 'a+' requires nothing but is used on
    // existing files only, so a missing one is created empty: check existence first.
    const path = join(dir, name);
    if (mode === 'create') return new NodeSegmentFile(await open(path, 'ax+'));
    const probe = await open(path, 'r');
    await probe.close();
    return new NodeSegmentFile(await open(path, 'a+'));
  },
  async list(dir) {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => e.name);
  },
  unlink(dir, name) {
    return unlink(join(dir, name));
  },
  rename(dir, from, to) {
    return rename(join(dir, from), join(dir, to));
  },
  syncDir,
  async makeDir(parent, name, sync = true) {
    const path = join(parent, name);
    // Synced whether or not this call created it: an earlier run may have crashed before its sync.
    await mkdir(path, { recursive: true });
    if (sync) {
      await syncDir(path);
      await syncDir(parent);
    }
    return path;
  },
};
