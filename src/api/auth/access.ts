/**
 * What each command needs, and the audit line of administrative actions. The op layer
 * (queue-ops.ts proposeCommand, the one door of every write) calls checkAccess() for every
 * command of every listener; cluster admin routes call audited() directly.
 */
import type { Logger } from 'pino';
import { toRaftqError } from '../../server/error-map.js';
import type { Command } from '../../queue/index.js';
import { isAllowed, queueResource, type Action, type Principal } from '../../queue/permissions.js';
import { authorize } from './authorize.js';

/** What a command needs: an action on each of some resources, and whether it is audited. */
export interface Access {
  readonly action: Action;
  /** Actions that also allow it (an ack needs `receive`, or `consume` for a subscriber's ack). */
  readonly orElse?: readonly Action[];
  readonly resources: readonly string[];
  /** Administrative: one audit line per attempt. */
  readonly audit: boolean;
}

/**
 * The access `cmd` needs. Receives need `receive`, or `consume` when they serve a subscription
 * (`consuming`); acks and visibility changes need either (a subscriber settles its deliveries
 * with plain acks and nacks).
 */
export function accessOf(cmd: Command, consuming: boolean): Access {
  switch (cmd.type) {
    case 'enqueue':
      return { action: 'send', resources: [queueResource(cmd.queue)], audit: false };
    case 'receive':
      return { action: consuming ? 'consume' : 'receive', resources: [queueResource(cmd.queue)], audit: false };
    case 'ack':
    case 'changeVisibility':
      return { action: consuming ? 'consume' : 'receive', orElse: [consuming ? 'receive' : 'consume'], resources: [queueResource(cmd.queue)], audit: false };
    case 'redrive':
      return { action: 'admin', resources: [queueResource(cmd.queue), ...(cmd.destination === undefined ? [] : [queueResource(cmd.destination)])], audit: true };
    case 'createQueue':
    case 'deleteQueue':
    case 'purgeQueue':
    case 'setQueueAttributes':
    case 'tagQueue':
    case 'untagQueue':
      return { action: 'admin', resources: [queueResource(cmd.queue)], audit: true };
    case 'putUser':
    case 'deleteUser':
    case 'createToken':
    case 'revokeToken':
    case 'expire':
      return { action: 'admin', resources: ['cluster'], audit: true };
  }
}

/** Who acts and where audit lines go. */
export interface AccessContext {
  readonly principal?: Principal;
  /** Audit lines go here (absent: none written). */
  readonly logger?: Logger;
  readonly requestId?: string;
}

/**
 * Authorizes `action` on every resource, then runs `fn`. When `audit`, writes one audit line
 * (pino, `audit: true`) with the principal, the action (`what`, e.g. deleteQueue), the resource
 * and the outcome: `ok`, or the error code (FORBIDDEN when refused).
 */
export async function audited<T>(ctx: AccessContext, access: Access, what: string, fn: () => Promise<T>): Promise<T> {
  let outcome = 'ok';
  try {
    for (const r of access.resources) {
      const p = ctx.principal;
      if (p !== undefined && access.orElse?.some((a) => isAllowed(p, a, r)) === true) continue;
      authorize(p, access.action, r);
    }
    return await fn();
  } catch (e) {
    outcome = toRaftqError(e).code;
    throw e;
  } finally {
    if (access.audit) auditLine(ctx, access, what, outcome);
  }
}

/** Writes the audit line of one administrative action (nothing without `ctx.logger`). */
export function auditLine(ctx: AccessContext, access: Access, what: string, outcome: string): void {
  ctx.logger?.info(
    { audit: true, principal: ctx.principal?.name ?? null, action: what, permission: access.action, resource: access.resources.join(','), outcome, ...(ctx.requestId !== undefined ? { reqId: ctx.requestId } : {}) },
    'audit',
  );
}
