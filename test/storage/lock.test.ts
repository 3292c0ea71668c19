/** A data directory is locked by one process: a second opener fails at once with DATA_DIR_LOCKED. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DataDirLockedError } from '../../src/storage/errors.js';
import { openTest } from './durable-harness.js';
import { makeTempDir, removeDir } from './helpers.js';

/** Holds a LevelDB open on argv[1] until stdin closes; says "locked" once it holds it. */
const holderScript = `
import { Level } from 'level';
const db = new Level(process.argv[1]);
await db.open();
process.stdout.write('locked\\n');
process.stdin.resume();
process.stdin.on('end', async () => { await db.close(); process.exit(0); });
`;

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeDir(dir));

it('refuses a second open of the same directory in this process', async () => {
  const first = await openTest(dir);
  try {
    const err = await openTest(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect(err).toMatchObject({ code: 'DATA_DIR_LOCKED' });
    expect((err as Error).message).toContain(dir);
  } finally {
    await first.close();
  }
  await (await openTest(dir)).close(); // released on close
});

it('refuses a directory held by another process, at once', async () => {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', holderScript, dir], {
    cwd: process.cwd(),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(line.toString()).toBe('locked\n');
    const started = performance.now();
    await expect(openTest(dir)).rejects.toBeInstanceOf(DataDirLockedError);
    expect(performance.now() - started).toBeLessThan(1000);
  } finally {
    child.stdin!.end();
    await once(child, 'exit');
  }
  await (await openTest(dir)).close(); // the holder exited: the lock is free again
});
