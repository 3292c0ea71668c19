/**
 * The one authorization check of every listener: the op layer (queue-ops.ts) and the cluster
 * admin routes call authorize() before they act. A principal of undefined means authentication
 * is off (`--auth off`): everything is allowed, as before authentication existed.
 */
import { RaftqError } from '../../errors.js';
import { isAllowed, maySee, type Action, type Principal } from '../../queue/permissions.js';

/**
 * Throws FORBIDDEN, naming the principal, the action and the resource, unless `principal` may do
 * `action` on `resource` (or is undefined: auth off).
 */
export function authorize(principal: Principal | undefined, action: Action, resource: string): void {
  if (principal === undefined || isAllowed(principal, action, resource)) return;
  throw new RaftqError('FORBIDDEN', `principal ${principal.name} may not ${action} on ${resource}`);
}

/** Whether `principal` may see `resource` in a listing (any permission on it; auth off: yes). */
export function canSee(principal: Principal | undefined, resource: string): boolean {
  return principal === undefined || maySee(principal, resource);
}
