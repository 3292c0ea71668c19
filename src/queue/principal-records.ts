/**
 * The user record of the principal state (key 0x71 0x07 <name>, UserRecordPb of
 * src/proto/queue.proto) and the permission list shared with the commands' codec. Tokens keep
 * only the sha256 of their secret. Equal records encode to equal bytes (fields in number
 * order, lists in a fixed order), so keyspaces stay byte-identical across nodes.
 */
import type { Action, Permission } from './permissions.js';
import { bool, decodeAs, encodeAs, list, num, pb, str, type Decoded } from './proto.js';

/** A token of a user as stored: never its secret. */
export interface TokenRecord {
  /** Public id (the `<id>` of `rq_<id>_<secret>`). */
  readonly id: string;
  /** sha256 of the secret, 64 lower-case hex digits. */
  readonly hash: string;
  readonly createdAtMs: number;
  /** 0 = never expires. */
  readonly expiresAtMs: number;
  readonly revoked: boolean;
}

/** A user as stored. */
export interface UserRecord {
  readonly name: string;
  readonly permissions: readonly Permission[];
  /** By creation. */
  readonly tokens: readonly TokenRecord[];
  readonly createdAtMs: number;
}

/** Permissions as PermissionPb bodies. */
export function permissionsBody(permissions: readonly Permission[]): object[] {
  return permissions.map((p) => ({ resource: p.resource, actions: [...p.actions] }));
}

/** Permissions from a list of decoded PermissionPb (actions are checked by validation, not here). */
export function decodePermissions(m: Decoded): Permission[] {
  return list(m, 'permissions').map((raw) => {
    const p = raw as Decoded;
    return { resource: str(p, 'resource'), actions: list(p, 'actions').filter((a): a is Action => typeof a === 'string') };
  });
}

/** Encodes a UserRecord. */
export function encodeUser(r: UserRecord): Uint8Array {
  return encodeAs(pb.user, {
    name: r.name,
    permissions: permissionsBody(r.permissions),
    tokens: r.tokens.map((t) => ({ ...t })),
    createdAtMs: r.createdAtMs,
  });
}

/** Decodes a UserRecord. */
export function decodeUser(b: Uint8Array): UserRecord {
  const m = decodeAs(pb.user, b);
  const tokens = list(m, 'tokens').map((raw) => {
    const t = raw as Decoded;
    return { id: str(t, 'id'), hash: str(t, 'hash'), createdAtMs: num(t, 'createdAtMs'), expiresAtMs: num(t, 'expiresAtMs'), revoked: bool(t, 'revoked') };
  });
  return { name: str(m, 'name'), permissions: decodePermissions(m), tokens, createdAtMs: num(m, 'createdAtMs') };
}
