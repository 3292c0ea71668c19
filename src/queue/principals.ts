/**
 * The replicated principal state: users, their permissions and their tokens (hashes only).
 * Part of the queue state machine (state-machine.ts delegates the principal commands here), so
 * it travels through the Raft log, checkpoints and snapshots like the queues do; protocol
 * neutral, so every listener (HTTP, binary, later Kafka SASL) authenticates against it.
 *
 * Determinism: time is the state machine's clock; users iterate by name; a user's tokens keep
 * creation order. A createToken at the limit first drops the user's dead tokens (revoked or
 * expired at the clock), so a revoked token stays listed until room is needed.
 */
import type { CommandResult, PrincipalCommand } from './commands.js';
import { invalidArgument, QueueError } from './errors.js';
import { kindPrefix, keyKind, userKey } from './keys.js';
import { principalLimits, validatePermissions, validateUserName, type Permission } from './permissions.js';
import { decodeUser, encodeUser, type TokenRecord, type UserRecord } from './principal-records.js';
import type { StateReader, StateWriter } from './state-store.js';

export type { TokenRecord, UserRecord } from './principal-records.js';

const tokenIdPattern = /^[a-z0-9]{4,32}$/;
const hashPattern = /^[0-9a-f]{64}$/;

/** Whether `t` authenticates at `nowMs`: not revoked, not expired. */
export function tokenLive(t: TokenRecord, nowMs: number): boolean {
  return !t.revoked && (t.expiresAtMs === 0 || nowMs < t.expiresAtMs);
}

/** Checks a principal command's shape (no state): names, patterns, actions, ids, hash. */
export function validatePrincipalCommand(cmd: PrincipalCommand): QueueError | undefined {
  switch (cmd.type) {
    case 'putUser':
      return validateUserName(cmd.name) ?? (Array.isArray(cmd.permissions) ? validatePermissions(cmd.permissions) : invalidArgument('permissions must be a list'));
    case 'deleteUser':
      return validateUserName(cmd.name);
    case 'createToken':
      if (!tokenIdPattern.test(cmd.tokenId)) return invalidArgument('token id must be 4..32 of [a-z0-9]');
      if (!hashPattern.test(cmd.hash)) return invalidArgument('token hash must be 64 lower-case hex digits');
      if (!Number.isSafeInteger(cmd.expiresAtMs) || cmd.expiresAtMs < 0) return invalidArgument('expiresAtMs must be an integer >= 0');
      return validateUserName(cmd.user);
    case 'revokeToken':
      return validateUserName(cmd.user) ?? (tokenIdPattern.test(cmd.tokenId) ? undefined : invalidArgument('token id must be 4..32 of [a-z0-9]'));
  }
}

/** The users of the cluster, by name, with an index of tokens by id. */
export class PrincipalStore {
  #users = new Map<string, UserRecord>();
  /** token id -> user name, for every stored token. */
  #tokens = new Map<string, string>();

  /** Reads every user record of a keyspace into `this` (empty before). */
  async load(reader: StateReader): Promise<void> {
    for await (const [, value] of reader.iterate(kindPrefix(keyKind.user))) this.#set(decodeUser(value));
  }

  /** User `name`, or undefined. */
  getUser(name: string): UserRecord | undefined {
    return this.#users.get(name);
  }

  /** Every user, by name. */
  listUsers(): UserRecord[] {
    return [...this.#users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The token `id` and its user, or undefined (whether it is live is for the caller: tokenLive). */
  findToken(id: string): { user: UserRecord; token: TokenRecord } | undefined {
    const name = this.#tokens.get(id);
    if (name === undefined) return undefined;
    const user = this.#users.get(name)!;
    const token = user.tokens.find((t) => t.id === id)!;
    return { user, token };
  }

  /** Checks `cmd` (valid in shape) against the state at clock `nowMs`. */
  validateAgainstState(cmd: PrincipalCommand, nowMs: number): QueueError | undefined {
    switch (cmd.type) {
      case 'putUser':
        if (!this.#users.has(cmd.name) && this.#users.size >= principalLimits.users) return invalidArgument(`at most ${principalLimits.users} users`);
        return undefined;
      case 'deleteUser':
        return this.#users.has(cmd.name) ? undefined : notFound(`user ${cmd.name} does not exist`);
      case 'createToken': {
        const user = this.#users.get(cmd.user);
        if (user === undefined) return notFound(`user ${cmd.user} does not exist`);
        if (this.#tokens.has(cmd.tokenId)) return invalidArgument(`token id ${cmd.tokenId} is taken`);
        if (cmd.expiresAtMs !== 0 && cmd.expiresAtMs <= nowMs) return invalidArgument('the token would expire before it is created');
        if (user.tokens.filter((t) => tokenLive(t, nowMs)).length >= principalLimits.tokensPerUser) {
          return invalidArgument(`user ${cmd.user} has ${principalLimits.tokensPerUser} live tokens, the most allowed`);
        }
        return undefined;
      }
      case 'revokeToken': {
        const user = this.#users.get(cmd.user);
        if (user === undefined) return notFound(`user ${cmd.user} does not exist`);
        return user.tokens.some((t) => t.id === cmd.tokenId) ? undefined : notFound(`user ${cmd.user} has no token ${cmd.tokenId}`);
      }
    }
  }

  /** Applies `cmd`, which passed both validations, at clock `nowMs`. */
  apply(cmd: PrincipalCommand, nowMs: number, w: StateWriter): CommandResult {
    switch (cmd.type) {
      case 'putUser': {
        const old = this.#users.get(cmd.name);
        const permissions: Permission[] = cmd.permissions.map((p) => ({ resource: p.resource, actions: [...p.actions] }));
        this.#write({ name: cmd.name, permissions, tokens: old?.tokens ?? [], createdAtMs: old?.createdAtMs ?? nowMs }, w);
        return { ok: true, type: 'putUser', created: old === undefined };
      }
      case 'deleteUser': {
        const old = this.#users.get(cmd.name)!;
        for (const t of old.tokens) this.#tokens.delete(t.id);
        this.#users.delete(cmd.name);
        w.del(userKey(cmd.name));
        return { ok: true, type: 'deleteUser' };
      }
      case 'createToken': {
        const user = this.#users.get(cmd.user)!;
        let tokens = [...user.tokens];
        if (tokens.length >= principalLimits.tokensPerUser) {
          for (const t of tokens) if (!tokenLive(t, nowMs)) this.#tokens.delete(t.id);
          tokens = tokens.filter((t) => tokenLive(t, nowMs));
        }
        tokens.push({ id: cmd.tokenId, hash: cmd.hash, createdAtMs: nowMs, expiresAtMs: cmd.expiresAtMs, revoked: false });
        this.#write({ ...user, tokens }, w);
        return { ok: true, type: 'createToken' };
      }
      case 'revokeToken': {
        const user = this.#users.get(cmd.user)!;
        this.#write({ ...user, tokens: user.tokens.map((t) => (t.id === cmd.tokenId ? { ...t, revoked: true } : t)) }, w);
        return { ok: true, type: 'revokeToken' };
      }
    }
  }

  #write(user: UserRecord, w: StateWriter): void {
    this.#set(user);
    w.put(userKey(user.name), encodeUser(user));
  }

  #set(user: UserRecord): void {
    this.#users.set(user.name, user);
    for (const t of user.tokens) this.#tokens.set(t.id, user.name);
  }
}

function notFound(message: string): QueueError {
  return new QueueError('NOT_FOUND', message);
}
