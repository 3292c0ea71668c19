/** Reads outside the segment log: below firstIndex() is a typed LogCompactedError, above lastIndex() a caller bug. */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../raft/assert.js';
import { LogCompactedError, StorageError } from '../../src/storage/errors.js';
import { openSim, records, rejection, simDisk } from './segment-log-helpers.js';

const small = { segmentBytesMax: 200, indexIntervalBytes: 64 };

describe('SegmentLog reads outside the log', () => {
  it('term() and entries() below firstIndex() throw LogCompactedError (LOG_COMPACTED)', async () => {
    const log = await openSim(simDisk(), small);
    log.append(records(1, 30));
    await log.sync();
    const first = await log.compactPrefix(12);
    expect(first).toBeGreaterThan(1);
    const termErr = ((): unknown => {
      try {
        log.term(first - 1);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(termErr).toBeInstanceOf(LogCompactedError);
    expect(termErr).toBeInstanceOf(StorageError);
    expect((termErr as LogCompactedError).code).toBe('LOG_COMPACTED');
    expect([(termErr as LogCompactedError).index, (termErr as LogCompactedError).firstIndex]).toEqual([first - 1, first]);
    const readErr = await rejection(() => log.entries(1, 5));
    expect(readErr).toBeInstanceOf(LogCompactedError);
    expect((readErr as LogCompactedError).index).toBe(1);
    expect(log.term(first)).toBe(1);
  });

  it('term() and entries() above lastIndex() stay assertions', async () => {
    const log = await openSim(simDisk(), small);
    log.append(records(1, 5));
    expect(() => log.term(6)).toThrow(AssertionError);
    expect(await rejection(() => log.entries(1, 7))).toBeInstanceOf(AssertionError);
    expect(await rejection(() => log.entries(7, 8))).toBeInstanceOf(AssertionError);
  });
});
