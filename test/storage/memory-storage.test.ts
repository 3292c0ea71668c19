/** raft's MemoryStorage against the shared storage compliance suite. */
import { MemoryStorage } from '../../raft/storage.js';
import { registerStorageSuite } from './storage-suite.js';

registerStorageSuite('MemoryStorage', async (confState) => {
  const storage = new MemoryStorage(confState);
  return {
    storage,
    append: async (ents) => storage.append(ents),
    setHardState: async (hs) => storage.setHardState(hs),
    compact: async (index, cs) => {
      storage.createSnapshot(index, cs);
      storage.compact(index);
    },
    applySnapshot: async (meta) => storage.applySnapshot(meta),
    reopen: async () => undefined,
    close: async () => undefined,
  };
});
