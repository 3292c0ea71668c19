/** ensureAdminToken (raftq cluster --secure): made once with mode 0600, reused after; a server reads it. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readAdminToken } from '../../src/api/auth/authenticator.js';
import { ensureAdminToken } from '../../src/cli/admin-token.js';

const dir = mkdtempSync(join(tmpdir(), 'raftq-admin-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('makes a random token with mode 0600 once, then reuses it (and tightens its mode)', () => {
  const file = join(dir, 'admin.token');
  const first = ensureAdminToken(file);
  expect(first).toMatch(/^rq_admin_[A-Za-z0-9_-]{40,}$/);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  chmodSync(file, 0o644);
  expect(ensureAdminToken(file)).toBe(first);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readAdminToken(file)).toBe(first);
  expect(ensureAdminToken(join(dir, 'other.token'))).not.toBe(first);
});

it('replaces an empty or too short file; the server refuses one', () => {
  const file = join(dir, 'short.token');
  writeFileSync(file, 'abc\n');
  expect(() => readAdminToken(file)).toThrow(/at least 16/);
  const made = ensureAdminToken(file);
  expect(readFileSync(file, 'utf8').trim()).toBe(made);
  expect(() => readAdminToken(join(dir, 'missing.token'))).toThrow(/admin token file/);
});
