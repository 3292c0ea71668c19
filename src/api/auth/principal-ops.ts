/**
 * User and token management, protocol-neutral like queue-ops.ts: each change is a replicated
 * command proposed through proposeCommand, so it needs `admin` on `cluster` and writes an
 * audit line. A token's secret is made here, on the node serving the request, returned once,
 * and never proposed: only its sha256 enters the log.
 */
import { RaftqError } from '../../errors.js';
import type { Permission } from '../../queue/permissions.js';
import { proposeCommand, type QueueOpsContext } from '../queue-ops.js';
import { audited } from './access.js';
import { newUserToken } from './authenticator.js';

/** A user as listed: never a secret or a hash. */
export interface UserView {
  readonly name: string;
  readonly permissions: readonly Permission[];
  readonly createdAt: number;
  readonly tokens: ReadonlyArray<{ id: string; createdAt: number; expiresAt: number; revoked: boolean }>;
}

/** Creates user `name` or replaces its permissions; returns whether it was created. */
export async function putUser(ctx: QueueOpsContext, name: string, permissions: readonly Permission[]): Promise<{ created: boolean }> {
  const res = await proposeCommand(ctx, { type: 'putUser', name, permissions });
  return { created: res.created };
}

/** Deletes user `name` and its tokens. */
export async function deleteUser(ctx: QueueOpsContext, name: string): Promise<void> {
  await proposeCommand(ctx, { type: 'deleteUser', name });
}

/** Every user (linearizable), without secrets or hashes; needs `admin` on `cluster`. */
export async function listUsers(ctx: QueueOpsContext): Promise<UserView[]> {
  return audited(ctx, { action: 'admin', resources: ['cluster'], audit: false }, 'listUsers', async () => {
    await ctx.node.linearizableRead();
    return ctx.app.stateMachine.principals.listUsers().map((u) => ({
      name: u.name,
      permissions: u.permissions,
      createdAt: u.createdAtMs,
      tokens: u.tokens.map((t) => ({ id: t.id, createdAt: t.createdAtMs, expiresAt: t.expiresAtMs, revoked: t.revoked })),
    }));
  });
}

/**
 * Creates a token for user `user`, expiring `expiresInMs` from now (undefined: never). Returns
 * the whole token (the only time it is shown) and its public id.
 */
export async function createToken(ctx: QueueOpsContext, user: string, expiresInMs: number | undefined, nowMs: number = Date.now()): Promise<{ token: string; id: string; expiresAt: number }> {
  if (expiresInMs !== undefined && (!Number.isSafeInteger(expiresInMs) || expiresInMs < 1)) throw new RaftqError('INVALID_ARGUMENT', 'expiresInMs must be a positive integer');
  const t = newUserToken();
  const expiresAtMs = expiresInMs === undefined ? 0 : nowMs + expiresInMs;
  await proposeCommand(ctx, { type: 'createToken', user, tokenId: t.id, hash: t.hash, expiresAtMs });
  return { token: t.token, id: t.id, expiresAt: expiresAtMs };
}

/** Revokes token `id` of user `user`. */
export async function revokeToken(ctx: QueueOpsContext, user: string, id: string): Promise<void> {
  await proposeCommand(ctx, { type: 'revokeToken', user, tokenId: id });
}
