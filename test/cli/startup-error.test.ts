import { describe, expect, it } from 'vitest';
import { describeStartupError } from '../../src/cli/server-command.js';

describe('startup errors', () => {
  it('name their causes: LevelDB says why a database failed to open only in the cause', () => {
    const cause = Object.assign(new Error('Corruption: no meta-nextfile entry in descriptor'), { code: 'LEVEL_CORRUPTION' });
    const e = Object.assign(new Error('Database failed to open', { cause }), { code: 'LEVEL_DATABASE_NOT_OPEN' });
    expect(describeStartupError(e)).toBe('error LEVEL_DATABASE_NOT_OPEN: Database failed to open (caused by: Corruption: no meta-nextfile entry in descriptor)');
  });
});
