/**
 * HTTP routes of user and token management (README "Authentication"), all needing `admin` on
 * `cluster` (principal-ops.ts):
 *
 * - `PUT /v1/users/{name}` `{permissions: [{resource, actions}]}` -> `{created}`
 * - `DELETE /v1/users/{name}`
 * - `GET /v1/users` -> `{users: [...]}` (no secrets, no hashes)
 * - `POST /v1/users/{name}/tokens` `{expiresInMs?}` -> `{token, id, expiresAt}`: the only place
 *   the token is ever shown
 * - `DELETE /v1/users/{name}/tokens/{id}`
 */
import type { IncomingMessage } from 'node:http';
import { RaftqError } from '../../errors.js';
import { actions, type Action, type Permission } from '../../queue/permissions.js';
import type { Handler, Route } from '../http-route.js';
import { object } from '../request-schemas.js';
import * as principalOps from './principal-ops.js';

/** Builds a route (HttpApi's route builder). */
type RouteOf = (method: string, path: string, name: string, handler: Handler) => Route;

/** Parses `{permissions: [{resource, actions}]}` (shapes only; patterns are validated with the command). */
export function parsePermissions(v: unknown): Permission[] {
  const o = object(v, 'request', ['permissions']);
  const list = o['permissions'];
  if (!Array.isArray(list)) throw new RaftqError('INVALID_ARGUMENT', 'permissions must be a list of {resource, actions}');
  return list.map((p, i) => {
    const e = object(p, `permissions[${i}]`, ['resource', 'actions']);
    const resource = e['resource'];
    const acts = e['actions'];
    if (typeof resource !== 'string') throw new RaftqError('INVALID_ARGUMENT', `permissions[${i}].resource must be a string`);
    if (!Array.isArray(acts) || !acts.every((a): a is Action => typeof a === 'string' && (actions as readonly string[]).includes(a))) {
      throw new RaftqError('INVALID_ARGUMENT', `permissions[${i}].actions must be a list of ${actions.join(', ')}`);
    }
    return { resource, actions: acts };
  });
}

/** The user and token routes. */
export function userRoutes(r: RouteOf, body: (req: IncomingMessage) => Promise<unknown>): Route[] {
  const seg = '([^/]+)';
  return [
    r('GET', '/v1/users', 'listUsers', async (_req, _p, ctx) => ({ users: await principalOps.listUsers(ctx) })),
    r('PUT', `/v1/users/${seg}`, 'putUser', async (req, [name], ctx) => principalOps.putUser(ctx, name!, parsePermissions(await body(req)))),
    r('DELETE', `/v1/users/${seg}`, 'deleteUser', async (_req, [name], ctx) => {
      await principalOps.deleteUser(ctx, name!);
      return {};
    }),
    r('POST', `/v1/users/${seg}/tokens`, 'createToken', async (req, [name], ctx) => {
      const o = object((await body(req)) ?? {}, 'request', ['expiresInMs']);
      const e = o['expiresInMs'];
      if (e !== undefined && typeof e !== 'number') throw new RaftqError('INVALID_ARGUMENT', 'expiresInMs must be a number');
      return principalOps.createToken(ctx, name!, e);
    }),
    r('DELETE', `/v1/users/${seg}/tokens/${seg}`, 'revokeToken', async (_req, [name, id], ctx) => {
      await principalOps.revokeToken(ctx, name!, id!);
      return {};
    }),
  ];
}
