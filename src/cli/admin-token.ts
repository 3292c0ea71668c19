/**
 * The bootstrap admin token of a local secure cluster (`raftq cluster --secure`): made once in
 * DATA/admin.token (mode 0600) and reused after, like the development certificates.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/** Reads the admin token at `file`, or writes a fresh random one there (mode 0600); returns it. */
export function ensureAdminToken(file: string): string {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) {
      chmodSync(file, 0o600);
      return token;
    }
  }
  const token = `rq_admin_${randomBytes(32).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}
