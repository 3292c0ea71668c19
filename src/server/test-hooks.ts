import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { TestingKnobs } from '../../raft/raft.js';

/**
 * Fault hooks that a server honours only with --test-mode (RAFTQ_TEST_MODE), for the
 * jepsen-like harness:
 * - RAFTQ_TEST_CLOCK_FILE: a file holding a clock offset in milliseconds, re-read every 100 ms;
 *   the node's wall clock (the stamp it puts on entries as leader) becomes Date.now() + offset.
 * - RAFTQ_TEST_UNSAFE=commit-on-local-persist: the leader acknowledges writes once they are on
 *   its own disk, before a majority has them (a deliberately broken build for negative controls).
 */
export interface TestHooks {
  readonly now?: () => number;
  readonly testingKnobs?: TestingKnobs;
  /** Stops the clock file poller. */
  stop(): void;
}

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
  if (unsafe !== undefined && unsafe !== '' && unsafe !== 'commit-on-local-persist') {
    throw new Error(`RAFTQ_TEST_UNSAFE: unknown mode "${unsafe}" (known: commit-on-local-persist)`);
  }
  if (unsafe === 'commit-on-local-persist') logger.warn({}, 'test mode: UNSAFE commit-on-local-persist enabled; acknowledged writes can be lost');
  return {
    ...(clockFile !== undefined && clockFile !== '' ? { now: () => Date.now() + offsetMs } : {}),
    ...(unsafe === 'commit-on-local-persist' ? { testingKnobs: { commitOnLocalPersist: true } } : {}),
    stop: () => {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
