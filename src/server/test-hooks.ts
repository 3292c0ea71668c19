import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { TestingKnobs } from '../../raft/raft.js';
import type { Db } from '../storage/level-db.js';
import type { StorageLogger } from '../storage/logger.js';
import type { UnsafeSegmentLogMode } from '../storage/segment-log/segment-log-options.js';
import { openDbWithoutDirFsync } from './unsynced-dir-db.js';
import { openUnsyncedDb } from './unsynced-db.js';
import { openDbWithoutVerify } from './unverified-db.js';

/**
 * Fault hooks that a server honours only with --test-mode (RAFTQ_TEST_MODE), for the
 * jepsen-like harness:
 * - RAFTQ_TEST_CLOCK_FILE: a file holding a clock offset in milliseconds, re-read every 100 ms;
 *   the node's wall clock (the stamp it puts on entries as leader) becomes Date.now() + offset.
 * - RAFTQ_TEST_UNSAFE=commit-on-local-persist: the leader acknowledges writes once they are on
 *   its own disk, before a majority has them (a deliberately broken build for negative controls).
 * - RAFTQ_TEST_UNSAFE=skip-fsync: every LevelDB write is made with sync:false and the segment
 *   log never fdatasyncs, so writes are acknowledged before they are on disk (the power
 *   nemesis's negative control: a node that never fsyncs).
 * - RAFTQ_TEST_UNSAFE=skip-dir-fsync: LevelDB's files and the segments are synced but no
 *   directory is, so a new log file, CURRENT's rename or a new segment can vanish at a power
 *   cut (the durable open's control).
 * - RAFTQ_TEST_UNSAFE=segment-skip-fdatasync / segment-skip-dir-fsync: the same two faults in
 *   the segment log alone (its writer skips fdatasync; it skips the directory fsync after a
 *   segment is created), LevelDB intact: storage v2's own controls.
 * - RAFTQ_TEST_UNSAFE=skip-checksums: no checksum is verified, LevelDB's files are not checked
 *   before it opens them, and a damaged directory is never repaired: damage is served (the
 *   corrupt nemesis's control).
 * Outside test mode none of this is read (src/node/start-server.ts calls loadTestHooks only then).
 */
export interface TestHooks {
  readonly now?: () => number;
  readonly testingKnobs?: TestingKnobs;
  /** Opens the node's LevelDB instead of level-db.ts openDb (skip-fsync, skip-dir-fsync, skip-checksums). */
  readonly openDb?: (dir: string, logger?: StorageLogger) => Promise<Db>;
  /**
   * skip-checksums: storage neither verifies checksums nor checks its files before opening, and
   * never repairs from peers: the negative control of the corrupt nemesis (it serves damage).
   */
  readonly skipChecksums?: boolean;
  /** A sync step the segment log skips (skip-fsync, skip-dir-fsync and the segment-only modes). */
  readonly unsafeSegmentLog?: UnsafeSegmentLogMode;
  /** Stops the clock file poller. */
  stop(): void;
}

/** The deliberately broken builds RAFTQ_TEST_UNSAFE selects (negative controls). */
export const unsafeModes = ['commit-on-local-persist', 'skip-fsync', 'skip-dir-fsync', 'skip-checksums', 'segment-skip-fdatasync', 'segment-skip-dir-fsync'] as const;

/** One of unsafeModes. */
export type UnsafeMode = (typeof unsafeModes)[number];

/** Reads the test hooks from the environment (only called in test mode). */
export function loadTestHooks(env: NodeJS.ProcessEnv, logger: Logger): TestHooks {
  let offsetMs = 0;
  let timer: NodeJS.Timeout | undefined;
  const clockFile = env['RAFTQ_TEST_CLOCK_FILE'];
  const readOffset = (): void => {
    try {
      const v = Number(readFileSync(clockFile!, 'utf8').trim());
      if (Number.isFinite(v) && v !== offsetMs) {
        logger.warn({ offsetMs: v }, 'test mode: clock offset changed');
        offsetMs = v;
      }
    } catch {
      // No file yet: no offset.
    }
  };
  if (clockFile !== undefined && clockFile !== '') {
    readOffset();
    timer = setInterval(readOffset, 100);
    timer.unref();
  }
  const unsafe = env['RAFTQ_TEST_UNSAFE'];
  if (unsafe !== undefined && unsafe !== '' && !(unsafeModes as readonly string[]).includes(unsafe)) {
    throw new Error(`RAFTQ_TEST_UNSAFE: unknown mode "${unsafe}" (known: ${unsafeModes.join(', ')})`);
  }
  if (unsafe !== undefined && unsafe !== '') logger.warn({ mode: unsafe }, `test mode: UNSAFE ${unsafe} enabled; acknowledged writes can be lost`);
  return {
    ...(clockFile !== undefined && clockFile !== '' ? { now: () => Date.now() + offsetMs } : {}),
    ...(unsafe === 'commit-on-local-persist' ? { testingKnobs: { commitOnLocalPersist: true } } : {}),
    ...(unsafe === 'skip-fsync' ? { openDb: openUnsyncedDb, unsafeSegmentLog: 'skip-fdatasync' as const } : {}),
    ...(unsafe === 'skip-dir-fsync' ? { openDb: openDbWithoutDirFsync, unsafeSegmentLog: 'skip-dir-fsync' as const } : {}),
    ...(unsafe === 'segment-skip-fdatasync' ? { unsafeSegmentLog: 'skip-fdatasync' as const } : {}),
    ...(unsafe === 'segment-skip-dir-fsync' ? { unsafeSegmentLog: 'skip-dir-fsync' as const } : {}),
    ...(unsafe === 'skip-checksums' ? { openDb: openDbWithoutVerify, skipChecksums: true } : {}),
    stop: () => {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
