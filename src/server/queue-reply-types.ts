import type { CommandResult, ReceivedMessage } from '../queue/index.js';

/** A receive result with bodies attached: what a consumer gets back. */
export interface ReceiveReply {
  readonly ok: true;
  readonly type: 'receive';
  readonly messages: readonly ReceivedMessage[];
  readonly deadLettered: number;
}

/** What a client gets for a queue command: the apply result, with bodies for a receive. */
export type QueueReply = Exclude<CommandResult, { type: 'receive' }> | ReceiveReply;
