/**
 * Shared by the storage tests that run on powerfs (jepsen-like/powerfs): whether it can run
 * here (with the reason when not, so the tests report themselves skipped with it), and fresh
 * mounts under os.tmpdir() that are unmounted and removed after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PowerFs } from '../../jepsen-like/powerfs.js';

/** Whether powerfs can run on this machine. */
export const powerFsAvailability = await PowerFs.available();

/** Appended to a describe's title: why its tests are skipped, or nothing. */
export const powerFsSkipReason = powerFsAvailability.ok ? '' : ` (skipped: powerfs unavailable: ${powerFsAvailability.reason})`;

/** The mounts a test file made; call unmountAll() in afterEach. */
export class TestMounts {
  #mounted: Array<{ fs: PowerFs; dir: string }> = [];

  /** A fresh powerfs mount (backing, durable image and mount point under one new temp dir). */
  async mount(prefix: string): Promise<PowerFs> {
    const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    try {
      const fs = await PowerFs.mount({ backing: join(dir, 'backing'), durable: join(dir, 'durable'), mount: join(dir, 'mnt') });
      this.#mounted.push({ fs, dir });
      return fs;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Unmounts and removes every mount made since the last call. */
  async unmountAll(): Promise<void> {
    for (const { fs, dir } of this.#mounted.splice(0)) {
      await fs.unmount();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
