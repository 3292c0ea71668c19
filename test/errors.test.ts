/**
 * The error catalogue (src/errors.ts) and README.md's "## Error codes" table agree: every code
 * is documented once with its HTTP status, and no documented code is missing from the catalogue.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { RaftqError, errorCatalogue, errorCodes, isErrorCode } from '../src/errors.js';

/** The rows `| \`CODE\` | status | ... |` of README.md's "## Error codes" section. */
function documentedCodes(): Array<{ code: string; status: number }> {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const start = readme.search(/^## Error codes\s*$/m);
  expect(start, 'README.md has a "## Error codes" section').toBeGreaterThanOrEqual(0);
  const rest = readme.slice(start).split('\n').slice(1);
  const end = rest.findIndex((l) => /^#{1,2} /.test(l));
  const section = end < 0 ? rest : rest.slice(0, end);
  const rows: Array<{ code: string; status: number }> = [];
  for (const line of section) {
    const m = /^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|.*\|\s*$/.exec(line);
    if (m !== null) rows.push({ code: m[1]!, status: Number(m[2]) });
  }
  return rows;
}

test('every catalogued code is documented in README.md with its status', () => {
  const rows = documentedCodes();
  for (const code of errorCodes) {
    const row = rows.filter((r) => r.code === code);
    expect(row.length, `${code} documented exactly once`).toBe(1);
    expect(row[0]!.status, `${code} status`).toBe(errorCatalogue[code].status);
  }
});

test('README.md documents no code that does not exist', () => {
  for (const { code } of documentedCodes()) expect(isErrorCode(code), `${code} is in src/errors.ts`).toBe(true);
});

test('the catalogue is well formed: upper-case codes, error statuses, descriptions', () => {
  expect(new Set(errorCodes).size).toBe(errorCodes.length);
  for (const code of errorCodes) {
    expect(code).toMatch(/^[A-Z][A-Z_]*$/);
    expect(errorCatalogue[code].status).toBeGreaterThanOrEqual(400);
    expect(errorCatalogue[code].status).toBeLessThan(600);
    expect(errorCatalogue[code].description.length).toBeGreaterThan(10);
    expect(new RaftqError(code, 'x').status).toBe(errorCatalogue[code].status);
  }
  expect(isErrorCode('NOPE')).toBe(false);
});
