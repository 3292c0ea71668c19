/** A disk fault stops a node with exit 3 and a stable code; anything else is exit 1. */
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/cli/cli-errors.js';
import { describeStartupError } from '../../src/cli/server-command.js';
import { fatalExitCode, storageFaultCode } from '../../src/server/fatal-exit.js';
import { typedDiskError } from '../../src/storage/disk-errors.js';
import { StorageFullError, StorageIoError } from '../../src/storage/index.js';

describe('disk fault exits', () => {
  it('types LevelDB and Node disk errors, and gives them exit 3 and a hint', () => {
    const full = typedDiskError(new Error('IO error: /d/000003.log: No space left on device'), '/d', 'write');
    expect(full).toBeInstanceOf(StorageFullError);
    const eio = typedDiskError(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }), '/d', 'read of 000006.log');
    expect(eio).toBeInstanceOf(StorageIoError);
    const wrapped = new Error('Database failed to open', { cause: new Error('IO error: /d/000005.ldb: No space left on device') });
    expect(typedDiskError(wrapped, '/d', 'open')).toBeInstanceOf(StorageFullError);
    const other = new Error('something else');
    expect(typedDiskError(other, '/d', 'write')).toBe(other);
    expect([fatalExitCode(full), fatalExitCode(eio), fatalExitCode(other)]).toEqual([3, 3, 1]);
    expect([exitCodeOf(full), exitCodeOf(eio), exitCodeOf(other)]).toEqual([3, 3, 1]);
    expect(storageFaultCode(new Error('ready loop', { cause: full }))).toBe('STORAGE_FULL');
    expect(describeStartupError(full)).toMatch(/^error STORAGE_FULL: .*\nhint: the disk of the data directory is full/);
    expect(describeStartupError(eio)).toMatch(/^error STORAGE_IO: .*during read of 000006\.log/);
  });
});
