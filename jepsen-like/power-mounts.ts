import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { PowerFs } from './powerfs.js';

/** What one power cut discarded, summed over the nodes it hit. */
export interface CutDiscarded {
  filesReverted: number;
  bytesDiscarded: number;
  entriesReverted: number;
}

/**
 * The powerfs mounts of a cluster under test: each node's data directory is the mount point of
 * its own powerfs (jepsen-like/powerfs.ts), whose writes stay in a "page cache" view until
 * fsynced, so a cut loses exactly what a power loss would. Files of node `id` live under
 * `<dir>/<id>.powerfs/` (backing: the page-cache view; durable: the disk image).
 */
export class PowerMounts {
  readonly #dir: string;
  readonly #tornWritesSeed: number | undefined;
  readonly #mounts = new Map<string, PowerFs>();
  /** Nodes whose cut is under way: nothing may start on them until it ends. */
  readonly #cutting = new Set<string>();

  /**
   * With `tornWritesSeed`, every mount keeps torn writes on (powerfs `torn on`): at each cut the
   * last unsynced write of a file may survive as a prefix. Node k's mount is seeded with
   * `tornWritesSeed * 16 + k`, so the same run seed tears the same way.
   */
  constructor(dir: string, o: { readonly tornWritesSeed?: number } = {}) {
    this.#dir = dir;
    this.#tornWritesSeed = o.tornWritesSeed;
  }

  /** Mounts a powerfs on `dataDir` for node `id`. Throws PowerFsUnavailable with the reason. */
  async mount(id: string, dataDir: string): Promise<void> {
    if (this.#mounts.has(id)) throw new Error(`powerfs of ${id} is already mounted`);
    const base = join(this.#dir, `${id}.powerfs`);
    const logFile = join(this.#dir, 'powerfs.log');
    const fs = await PowerFs.mount({
      backing: join(base, 'backing'),
      durable: join(base, 'durable'),
      mount: dataDir,
      logger: (line) => appendFileSync(logFile, `${new Date().toISOString()} ${id} ${line}\n`),
    });
    this.#mounts.set(id, fs);
    if (this.#tornWritesSeed !== undefined) await fs.setTornWrites(true, this.#tornWritesSeed * 16 + this.#mounts.size);
  }

  /** Whether node `id`'s power cut is under way. */
  isCutting(id: string): boolean {
    return this.#cutting.has(id);
  }

  /**
   * Cuts the power of `ids`: `killAll` must resolve only once every process using those mounts
   * has exited (SIGKILL); then every unsynced write of each mount is discarded. The nodes stay
   * down until restarted.
   */
  async cut(ids: readonly string[], killAll: () => Promise<void>): Promise<CutDiscarded> {
    for (const id of ids) if (!this.#mounts.has(id)) throw new Error(`power cut of ${id}: no powerfs mounted`);
    for (const id of ids) this.#cutting.add(id);
    try {
      await killAll();
      const total: CutDiscarded = { filesReverted: 0, bytesDiscarded: 0, entriesReverted: 0 };
      for (const id of ids) {
        const d = await this.#mounts.get(id)!.cut();
        total.filesReverted += d.filesReverted;
        total.bytesDiscarded += d.bytesDiscarded;
        total.entriesReverted += d.entriesReverted;
      }
      return total;
    } finally {
      for (const id of ids) this.#cutting.delete(id);
    }
  }

  /** Node `id`'s powerfs, for its disk-fault switches (setEnospc, setFsyncEio, setReadEio). */
  fs(id: string): PowerFs {
    const fs = this.#mounts.get(id);
    if (fs === undefined) throw new Error(`no powerfs mounted for ${id}`);
    return fs;
  }

  /** Unmounts every powerfs (after every node stopped). */
  async unmountAll(): Promise<void> {
    const all = [...this.#mounts.values()];
    this.#mounts.clear();
    const results = await Promise.allSettled(all.map((fs) => fs.unmount()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
}
