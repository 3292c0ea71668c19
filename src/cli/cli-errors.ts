import { RaftqError, type ErrorCode } from '../errors.js';
import { UsageError } from './cli-args.js';

/** What to try next, per error code. */
const hints: Partial<Record<ErrorCode, string>> = {
  NOT_LEADER: 'the leader changed during the request; run it again',
  NO_LEADER: 'the cluster has no leader: is a majority of its nodes running? See `raftq status`',
  QUEUE_NOT_FOUND: 'create it with `raftq create QUEUE`; list queues with `raftq queues`',
  QUEUE_EXISTS: 'a queue of that name exists with other attributes: pick another name, or delete it first',
  INVALID_ARGUMENT: 'check the arguments; every command takes --help',
  TOO_LARGE: "the message exceeds the queue's maxMessageBytes or the request limit",
  STALE_RECEIPT: 'the message was delivered again since this receipt was issued; use the newest receipt',
  UNAVAILABLE: 'is the cluster running (`raftq cluster`)? Pass its client addresses with --nodes or RAFTQ_NODES',
  TIMEOUT: 'the outcome is unknown; retrying a send is safe (sends are deduplicated)',
  INTERNAL: 'this is a bug in raftq: please report it with the node logs',
};

/**
 * Formats an error for a person: `error CODE: message`, then a hint. Errors of a node's
 * startup (storage, ports) are described by server-command.ts, loaded only then.
 */
export async function describeError(e: unknown): Promise<string> {
  if (e instanceof UsageError) {
    const first = e.usage.split('\n')[0] ?? '';
    const name = /^usage: raftq (\S+)/.exec(first)?.[1];
    return `error INVALID_ARGUMENT: ${e.message}\n${first}${name !== undefined ? `\nhint: see raftq ${name} --help` : ''}`;
  }
  if (e instanceof RaftqError) {
    const hint = hints[e.code];
    return `error ${e.code}: ${e.message}${hint !== undefined ? `\nhint: ${hint}` : ''}`;
  }
  return (await import('./server-command.js')).describeStartupError(e);
}

/** The exit code for an error: 2 for bad usage or input, 3 for a disk fault (a node's start), 1 otherwise. */
export function exitCodeOf(e: unknown): number {
  const code = (e as { code?: unknown }).code;
  return code === 'INVALID_ARGUMENT' ? 2 : code === 'STORAGE_FULL' || code === 'STORAGE_IO' ? 3 : 1;
}
