/**
 * Disk use of the nodes' data directories, as `du` counts it: every file under the directory,
 * recursively, by the blocks allocated to it (and by its length, for reference). A sampler
 * polls a set of directories and keeps each one's peak.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** One directory's use. */
export interface DirUsage {
  /** Bytes allocated on disk (st_blocks x 512), what `du` reports. */
  readonly bytes: number;
  /** Sum of the files' lengths. */
  readonly apparentBytes: number;
  readonly files: number;
}

/** Whether `e` is a file system error that means the entry went away while it was walked. */
function vanished(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * The disk use of everything under `dir` (recursively; symbolic links are not followed).
 * Entries deleted while it walks (a compaction) are skipped; a missing `dir` is empty.
 */
export async function dirUsage(dir: string): Promise<DirUsage> {
  let bytes = 0;
  let apparentBytes = 0;
  let files = 0;
  const walk = async (path: string): Promise<void> => {
    let st;
    try {
      st = await lstat(path);
    } catch (e) {
      if (vanished(e)) return;
      throw e;
    }
    bytes += st.blocks * 512;
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = await readdir(path);
      } catch (e) {
        if (vanished(e)) return;
        throw e;
      }
      for (const n of names) await walk(join(path, n));
      return;
    }
    apparentBytes += st.size;
    files++;
  };
  await walk(dir);
  return { bytes, apparentBytes, files };
}

/** One directory's figures from a sampler: the latest sample and the peak. */
export interface SampledDir {
  readonly id: string;
  readonly dir: string;
  readonly lastBytes: number;
  readonly peakBytes: number;
  readonly peakApparentBytes: number;
  readonly samples: number;
}

/** Samples `dirs` (id -> path) every `everyMs` until stop(); tracks each one's peak. */
export class DiskSampler {
  readonly #dirs: ReadonlyArray<{ id: string; dir: string }>;
  readonly #state = new Map<string, { last: number; peak: number; peakApparent: number; samples: number }>();
  readonly #timer: NodeJS.Timeout;
  #chain: Promise<void> = Promise.resolve();
  #error: unknown;

  constructor(dirs: ReadonlyArray<{ id: string; dir: string }>, everyMs = 2000) {
    this.#dirs = dirs;
    for (const d of dirs) this.#state.set(d.id, { last: 0, peak: 0, peakApparent: 0, samples: 0 });
    this.#timer = setInterval(() => void this.sample(), everyMs);
    this.#timer.unref();
  }

  /** Takes one sample of every directory now (queued behind a sample in progress). */
  sample(): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      for (const d of this.#dirs) {
        try {
          const u = await dirUsage(d.dir);
          const s = this.#state.get(d.id)!;
          s.last = u.bytes;
          s.peak = Math.max(s.peak, u.bytes);
          s.peakApparent = Math.max(s.peakApparent, u.apparentBytes);
          s.samples++;
        } catch (e) {
          this.#error ??= e;
        }
      }
    });
    return this.#chain;
  }

  /** Every directory's figures so far. */
  get dirs(): SampledDir[] {
    return this.#dirs.map((d) => {
      const s = this.#state.get(d.id)!;
      return { id: d.id, dir: d.dir, lastBytes: s.last, peakBytes: s.peak, peakApparentBytes: s.peakApparent, samples: s.samples };
    });
  }

  /** Stops sampling after one last sample; throws the first error a sample met. */
  async stop(): Promise<SampledDir[]> {
    clearInterval(this.#timer);
    await this.sample();
    if (this.#error !== undefined) throw this.#error;
    return this.dirs;
  }
}

/** Bytes as MiB with one decimal, e.g. "123.4 MiB". */
export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** A size for a label: GiB (up to 2 decimals) from 1 GiB up, else MiB with one decimal. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toLocaleString('en-US', { maximumFractionDigits: 2 })} GiB`;
  return mib(bytes);
}
