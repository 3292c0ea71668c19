/** Opening DurableStorage in temporary directories for tests. */
import type { ConfState } from '../../raft/types.js';
import { DurableStorage } from '../../src/storage/durable-storage.js';
import { makeTempDir, removeDir } from './helpers.js';
import type { HarnessFactory, StorageHarness } from './storage-suite.js';

/** The identity every test directory is opened with. */
export const testIdentity = { clusterId: 'c1', nodeId: 'n1' } as const;

/** Opens `dir` as the test node. */
export function openTest(dir: string, initialConfState?: ConfState): Promise<DurableStorage> {
  return DurableStorage.open(dir, initialConfState === undefined ? testIdentity : { ...testIdentity, initialConfState });
}

/** A compliance-suite harness over a DurableStorage in a fresh temporary directory. */
export const durableHarness: HarnessFactory = async (confState) => {
  const dir = await makeTempDir();
  let storage = await openTest(dir, confState);
  const harness: StorageHarness = {
    get storage() {
      return storage;
    },
    append: async (entries) => void (await storage.save({ entries })),
    setHardState: async (hardState) => void (await storage.save({ entries: [], hardState })),
    compact: async (index, cs) => {
      // The log is compacted behind applied state only.
      if (index > storage.appliedIndex()) await storage.applyBatch([], index, cs);
      await storage.compact(index, cs);
    },
    applySnapshot: async (meta) => void (await storage.installSnapshot(meta, emptyChunks())),
    reopen: async () => {
      await storage.close();
      storage = await openTest(dir);
    },
    close: async () => {
      await storage.close();
      await removeDir(dir);
    },
  };
  return harness;
};

async function* emptyChunks(): AsyncGenerator<Uint8Array> {}
