/** The route type of the HTTP API (http-server.ts), shared with route modules such as auth/user-routes.ts. */
import type { IncomingMessage } from 'node:http';
import type { QueueOpsContext } from './queue-ops.js';

/** A route's handler: `ctx` carries the request's id and principal to the ops it calls. */
export type Handler = (req: IncomingMessage, params: string[], ctx: QueueOpsContext) => Promise<unknown>;

/** One route of the HTTP API. */
export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly name: string;
  readonly handler: Handler;
}
