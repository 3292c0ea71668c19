/**
 * A negative control's storage: the node's LevelDB opened without verifying its files first
 * (storage/leveldb-verify.ts), so LevelDB drops a damaged log record silently and serves a
 * damaged table block, as it does by default. Honoured only in test mode (test-hooks.ts,
 * RAFTQ_TEST_UNSAFE=skip-checksums, together with storage's skipChecksums); the jepsen-like
 * `corrupt` nemesis must then see damaged or lost data, which proves the checker can see it.
 */
import { type Db, fsyncDir, openDbWith } from '../storage/level-db.js';
import type { StorageLogger } from '../storage/logger.js';

/** openDb (level-db.ts) without the pre-open verifier. */
export function openDbWithoutVerify(dir: string, logger?: StorageLogger): Promise<Db> {
  return openDbWith(dir, { syncDir: fsyncDir, verifyFiles: false, ...(logger !== undefined ? { logger } : {}) });
}
