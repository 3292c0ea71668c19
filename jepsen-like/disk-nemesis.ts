/**
 * The `disk` nemesis: disk faults on one node's powerfs mount (jepsen-like/powerfs).
 * - `enospc`: the disk is full for the fault's duration; the node stops at its next write with
 *   STORAGE_FULL (exit 3), and is restarted at the heal, once space is back;
 * - `fsync-eio`: fsyncs answer EIO (the dirty data is dropped, as Linux does); the node stops
 *   with STORAGE_IO at its next synced write and is restarted at the heal;
 * - `read-eio`: the node is killed and restarted while reads of its write-ahead logs (*.log, or
 *   the MANIFEST when the logs are empty) answer EIO: the start is refused with STORAGE_IO;
 *   restarted at the heal.
 * A node's stop with exit 3 under its fault is expected (TestCluster.diskStops, named by the
 * fault); any other exit, or one after the heal, is a crash that fails the run.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCluster } from './cluster.js';

/**
 * What read-eio makes unreadable in `dataDir`: the write-ahead logs when one holds records
 * (LevelDB would drop them silently; raftq must refuse to start), else the MANIFEST (always read).
 */
function unreadableAtOpen(dataDir: string): string {
  const logs = readdirSync(dataDir).filter((n) => n.endsWith('.log'));
  return logs.some((n) => statSync(join(dataDir, n)).size > 0) ? '.log' : 'MANIFEST';
}

/** The variants of a disk fault. */
export type DiskFaultVariant = 'enospc' | 'fsync-eio' | 'read-eio';

/** Every disk fault variant. */
export const diskFaultVariants: readonly DiskFaultVariant[] = ['enospc', 'fsync-eio', 'read-eio'];

/** Switches `variant` on for node `target`; resolves with the healer (switch off, restart). */
export async function startDiskFault(c: TestCluster, target: string, variant: DiskFaultVariant, label: string): Promise<() => Promise<void>> {
  const disk = c.disk(target);
  c.setDiskFault(target, label);
  switch (variant) {
    case 'enospc':
      await disk.setEnospc(true);
      break;
    case 'fsync-eio':
      await disk.setFsyncEio(true);
      break;
    case 'read-eio':
      await c.killAndWait(target);
      await disk.setReadEio(unreadableAtOpen(c.node(target).dataDir));
      c.startNode(target);
      break;
  }
  return async () => {
    if (variant === 'enospc') await disk.setEnospc(false);
    else if (variant === 'fsync-eio') await disk.setFsyncEio(false);
    else await disk.setReadEio(undefined);
    c.setDiskFault(target, undefined);
    c.startNode(target);
  };
}
