/**
 * Authentication of client requests (`--auth off|required`), shared by every listener: HTTP
 * takes `Authorization: Bearer <token>`, the binary protocol a token in its Hello. A token is
 * either the bootstrap admin token (`--admin-token-file`: not replicated, every permission,
 * compared by its sha256 in constant time) or a user token `rq_<id>_<secret>`, looked up by id
 * in the replicated principal state (src/queue/principals.ts), whose stored sha256 of the
 * secret is compared in constant time; a revoked or expired token does not authenticate.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RaftqError } from '../../errors.js';
import type { Principal } from '../../queue/permissions.js';
import { tokenLive, type PrincipalStore } from '../../queue/principals.js';

/** The principal name of the bootstrap admin token. */
export const adminPrincipalName = 'admin-token';

/** How a node authenticates. */
export interface AuthSettings {
  readonly mode: 'off' | 'required';
  /** sha256 of the bootstrap admin token, when one is configured. */
  readonly adminTokenHash?: Buffer;
  /** Serve /metrics without a token. */
  readonly metricsOpen?: boolean;
}

/** The sha256 of `text`. */
export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Reads the admin token file (trimmed); INVALID_ARGUMENT when it is missing or empty. */
export function readAdminToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new RaftqError('INVALID_ARGUMENT', `admin token file ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (text.length < 16) throw new RaftqError('INVALID_ARGUMENT', `admin token file ${file}: the token must be at least 16 characters`);
  return text;
}

/** A new user token: its public id, the whole token (returned once) and the sha256 of its secret. */
export function newUserToken(): { id: string; token: string; hash: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  return { id, token: `rq_${id}_${secret}`, hash: createHash('sha256').update(secret, 'utf8').digest('hex') };
}

/** A fresh admin token (raftq cluster --secure). */
export function newAdminToken(): string {
  return `rq_admin_${randomBytes(32).toString('base64url')}`;
}

const userTokenPattern = /^rq_([a-z0-9]{4,32})_([A-Za-z0-9_-]{16,128})$/;

/** Authenticates tokens against the settings and the replicated principal state. */
export class Authenticator {
  readonly #s: AuthSettings;
  readonly #principals: () => PrincipalStore;
  readonly #nowMs: () => number;

  constructor(settings: AuthSettings, principals: () => PrincipalStore, nowMs: () => number = Date.now) {
    this.#s = settings;
    this.#principals = principals;
    this.#nowMs = nowMs;
  }

  /** Whether requests need a token. */
  get required(): boolean {
    return this.#s.mode === 'required';
  }

  /** Whether /metrics needs a token. */
  get metricsNeedToken(): boolean {
    return this.required && this.#s.metricsOpen !== true;
  }

  /**
   * The principal of `token`: undefined when auth is off (everything allowed, the token
   * ignored); UNAUTHENTICATED when required and the token is missing, unknown, revoked or expired.
   */
  authenticate(token: string | undefined): Principal | undefined {
    if (!this.required) return undefined;
    if (token === undefined || token === '') throw new RaftqError('UNAUTHENTICATED', 'a token is required (HTTP: Authorization: Bearer <token>)');
    const admin = this.#s.adminTokenHash;
    if (admin !== undefined && timingSafeEqual(sha256(token), admin)) return { name: adminPrincipalName, permissions: [], superuser: true };
    const m = userTokenPattern.exec(token);
    const found = m === null ? undefined : this.#principals().findToken(m[1]!);
    if (m === null || found === undefined) throw new RaftqError('UNAUTHENTICATED', 'unknown token');
    const given = createHash('sha256').update(m[2]!, 'utf8').digest();
    const stored = Buffer.from(found.token.hash, 'hex');
    if (stored.length !== given.length || !timingSafeEqual(given, stored)) throw new RaftqError('UNAUTHENTICATED', 'unknown token');
    if (found.token.revoked) throw new RaftqError('UNAUTHENTICATED', `token ${found.token.id} is revoked`);
    if (!tokenLive(found.token, this.#nowMs())) throw new RaftqError('UNAUTHENTICATED', `token ${found.token.id} has expired`);
    return { name: found.user.name, permissions: found.user.permissions, tokenId: found.token.id };
  }

  /**
   * `principal` as the replicated state has it now: its user's current permissions;
   * UNAUTHENTICATED once its token is revoked or expired or its user deleted. For sessions that
   * authenticate once (a binary connection's Hello) and act many times.
   */
  current(principal: Principal): Principal {
    if (principal.superuser === true || principal.tokenId === undefined) return principal;
    const found = this.#principals().findToken(principal.tokenId);
    if (found === undefined) throw new RaftqError('UNAUTHENTICATED', `token ${principal.tokenId} is gone (revoked or its user deleted)`);
    if (found.token.revoked) throw new RaftqError('UNAUTHENTICATED', `token ${found.token.id} is revoked`);
    if (!tokenLive(found.token, this.#nowMs())) throw new RaftqError('UNAUTHENTICATED', `token ${found.token.id} has expired`);
    if (found.user.permissions === principal.permissions) return principal;
    return { name: found.user.name, permissions: found.user.permissions, tokenId: found.token.id };
  }

  /** authenticate() of an `Authorization` header value (`Bearer <token>`). */
  authenticateHeader(header: string | undefined): Principal | undefined {
    if (!this.required) return undefined;
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    return this.authenticate(m === null ? undefined : m[1]);
  }
}
