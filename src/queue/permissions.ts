/**
 * Principals and their permissions: protocol-neutral, shared by every listener (HTTP, binary,
 * later Kafka SASL) and every resource kind (queues now, topics and consumer groups later).
 *
 * A permission grants `actions` on the resources its pattern matches. A pattern is `cluster`
 * (the cluster itself: users, tokens, members, backups) or `<kind>:<glob>` with kind `queue`,
 * `topic` or `group`, where `*` in the glob matches any run of characters (also none):
 * `queue:orders-*`, `queue:*`, `topic:audit.*`. A resource is `cluster` or `<kind>:<name>`.
 */
import { invalidArgument, type QueueError } from './errors.js';

/** What a principal may do: produce, take messages, subscribe, administer. */
export const actions = ['send', 'receive', 'consume', 'admin'] as const;

/** One action of {@link actions}. */
export type Action = (typeof actions)[number];

/** The kinds of named resources a pattern may address. */
export const resourceKinds = ['queue', 'topic', 'group'] as const;

/** Grants `actions` on every resource `resource` (a pattern) matches. */
export interface Permission {
  readonly resource: string;
  readonly actions: readonly Action[];
}

/** Who a request acts as, once authenticated. */
export interface Principal {
  /** A user name, or `admin-token` for the bootstrap token. */
  readonly name: string;
  readonly permissions: readonly Permission[];
  /** The bootstrap admin token: every action on every resource. */
  readonly superuser?: boolean;
  /** The id of the user token it authenticated with (to look it up again). */
  readonly tokenId?: string;
}

/** Limits of the replicated principal state. */
export const principalLimits = {
  users: 10_000,
  tokensPerUser: 100,
  permissionsPerUser: 100,
  patternChars: 256,
} as const;

const userNamePattern = /^[A-Za-z0-9_.@-]{1,64}$/;
const globPattern = /^[A-Za-z0-9_.@*-]+$/;

/** INVALID_ARGUMENT when `name` is not 1..64 of [A-Za-z0-9_.@-]. */
export function validateUserName(name: string): QueueError | undefined {
  return userNamePattern.test(name) ? undefined : invalidArgument(`user name ${JSON.stringify(name)} must be 1..64 of [A-Za-z0-9_.@-]`);
}

/** INVALID_ARGUMENT when `pattern` is not `cluster` or `<queue|topic|group>:<glob>`. */
export function validateResourcePattern(pattern: string): QueueError | undefined {
  if (pattern === 'cluster') return undefined;
  const colon = pattern.indexOf(':');
  const kind = colon < 0 ? '' : pattern.slice(0, colon);
  const glob = pattern.slice(colon + 1);
  if (!(resourceKinds as readonly string[]).includes(kind) || glob.length === 0 || pattern.length > principalLimits.patternChars || !globPattern.test(glob)) {
    return invalidArgument(`resource pattern ${JSON.stringify(pattern)} must be cluster or queue:|topic:|group: followed by a name or glob (* wildcards), at most ${principalLimits.patternChars} characters`);
  }
  return undefined;
}

/** INVALID_ARGUMENT when `permissions` is too long, or a pattern or action is malformed. */
export function validatePermissions(permissions: readonly Permission[]): QueueError | undefined {
  if (permissions.length > principalLimits.permissionsPerUser) {
    return invalidArgument(`at most ${principalLimits.permissionsPerUser} permissions per user`);
  }
  for (const p of permissions) {
    const err = validateResourcePattern(p.resource);
    if (err !== undefined) return err;
    if (p.actions.length === 0) return invalidArgument(`permission on ${p.resource} grants no action`);
    for (const a of p.actions) {
      if (!(actions as readonly string[]).includes(a)) return invalidArgument(`unknown action ${JSON.stringify(a)} (one of ${actions.join(', ')})`);
    }
  }
  return undefined;
}

/** Whether glob `glob` (`*` = any run of characters) matches all of `name`. */
export function globMatches(glob: string, name: string): boolean {
  const parts = glob.split('*');
  if (parts.length === 1) return glob === name;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = name.indexOf(parts[i]!, at);
    if (found < 0 || found + parts[i]!.length > end) return false;
    at = found + parts[i]!.length;
  }
  return true;
}

/** Whether pattern `pattern` matches resource `resource` (`cluster` or `<kind>:<name>`). */
export function patternMatches(pattern: string, resource: string): boolean {
  if (pattern === 'cluster' || resource === 'cluster') return pattern === resource;
  const pc = pattern.indexOf(':');
  const rc = resource.indexOf(':');
  if (pc < 0 || rc < 0 || pattern.slice(0, pc) !== resource.slice(0, rc)) return false;
  return globMatches(pattern.slice(pc + 1), resource.slice(rc + 1));
}

/** Whether `principal` may do `action` on `resource`. */
export function isAllowed(principal: Principal, action: Action, resource: string): boolean {
  if (principal.superuser === true) return true;
  return principal.permissions.some((p) => p.actions.includes(action) && patternMatches(p.resource, resource));
}

/** Whether `principal` holds any action at all on `resource` (what listing shows). */
export function maySee(principal: Principal, resource: string): boolean {
  if (principal.superuser === true) return true;
  return principal.permissions.some((p) => p.actions.length > 0 && patternMatches(p.resource, resource));
}

/** The resource string of queue `name`. */
export function queueResource(name: string): string {
  return `queue:${name}`;
}
