import { RaftqError } from '../errors.js';
import { encodeCommand, type Command, type CommandResult } from '../queue/index.js';
import type { NodeRuntime } from '../server/node-runtime.js';
import type { QueueReply } from '../server/queue-app.js';

/** The successful reply to a command of type `T`. */
export type ReplyTo<T extends Command['type']> = Extract<Exclude<QueueReply, { ok: false }>, { type: T }>;

/** The node operation this module needs. */
export type CommandNode = Pick<NodeRuntime<CommandResult, QueueReply>, 'submit'>;

/**
 * The one door through which the APIs propose a queue command: it replicates `cmd` (through the
 * leader), turns an error result into a RaftqError, and checks that the reply answers this very
 * command. A reply of another type means a reply was matched to the wrong request: that is a
 * broken invariant, answered INTERNAL and never turned into a success (issue 15, item 1).
 */
export async function submitCommand<C extends Command>(node: CommandNode, cmd: C, opts: { requestId?: string } = {}): Promise<ReplyTo<C['type']>> {
  const reply = await node.submit(encodeCommand(cmd), opts.requestId !== undefined ? { requestId: opts.requestId } : {});
  if (!reply.ok) throw new RaftqError(reply.code, reply.message);
  if (reply.type !== cmd.type) throw new RaftqError('INTERNAL', `assertion failed: a ${cmd.type} request was answered with a ${reply.type} result`);
  return reply as ReplyTo<C['type']>;
}
