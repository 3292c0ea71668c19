/**
 * The environment raftq's own launchers (`raftq cluster`, the benchmark comparison) give a
 * server process.
 *
 * MALLOC_ARENA_MAX=2: glibc gives every thread that allocates its own malloc arena, and LevelDB
 * allocates from Node's thread pool; memory freed in those arenas is rarely returned (raftq bench
 * --scenario backlog, 1,000,000 x 1 KiB, --snapshot-bytes 64 MiB, one run each: peak node RSS
 * 461 MB with the default, 436 MB with 2; README "Performance"). It must be set before the
 * process starts, so launchers set it; a value already set wins.
 */
export function serverProcessEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: '2', ...base };
}
