/**
 * The bounded queue of Raft messages waiting for one peer's next flush. Raft tolerates lost
 * messages (it retries appends and re-sends heartbeats), so when the queue is full the newest
 * message is dropped and counted instead of letting memory grow.
 */
import { assert } from '../../raft/assert.js';
import type { Message } from '../../raft/types.js';

/**
 * Default bound on queued messages per peer: 4096. Raft's own flow control keeps a bounded
 * number of appends in flight per follower (plus one heartbeat per tick and responses), so a
 * healthy peer never queues more than a few hundred; 4096 absorbs a stall of several election
 * timeouts before dropping.
 */
export const sendQueueMessagesMaxDefault = 4096;

/**
 * Default bound on the estimated bytes queued per peer: 64 MiB. It caps memory when large
 * appends pile up behind a slow socket; four maximum-size frames.
 */
export const sendQueueBytesMaxDefault = 64 * 1024 * 1024;

/** Bytes charged per message beyond its payloads (envelope, numbers, protobuf tags). */
const messageOverheadBytes = 64;
/** Bytes charged per entry beyond its data (term, index, type, tags). */
const entryOverheadBytes = 24;

/** An estimate of `msg`'s encoded size in bytes, used for queue bounds and batch sizing. */
export function messageBytesEstimate(msg: Message): number {
  switch (msg.type) {
    case 'app': {
      let n = messageOverheadBytes;
      for (const e of msg.entries) n += e.data.byteLength + entryOverheadBytes;
      return n;
    }
    case 'heartbeat':
    case 'heartbeatResp':
    case 'readIndex':
    case 'readIndexResp':
      return messageOverheadBytes + msg.context.byteLength;
    case 'snap':
      return messageOverheadBytes + 16 * (msg.snapshot.confState.voters.length + msg.snapshot.confState.learners.length);
    default:
      return messageOverheadBytes;
  }
}

/** Messages queued for one peer, bounded by count and by estimated bytes. */
export class SendQueue {
  readonly #messagesMax: number;
  readonly #bytesMax: number;
  /** Invariant: #messages.length <= #messagesMax. */
  #messages: Message[] = [];
  /** Invariant: #bytes is the sum of messageBytesEstimate over #messages, and <= #bytesMax. */
  #bytes = 0;

  constructor(messagesMax: number = sendQueueMessagesMaxDefault, bytesMax: number = sendQueueBytesMaxDefault) {
    assert(Number.isInteger(messagesMax) && messagesMax > 0 && bytesMax > 0, 'send queue bounds must be positive');
    this.#messagesMax = messagesMax;
    this.#bytesMax = bytesMax;
  }

  /** Messages queued. */
  get length(): number {
    return this.#messages.length;
  }

  /** Estimated bytes queued. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends `msg`; returns false (and keeps the queue unchanged) when a bound would be exceeded. */
  maybePush(msg: Message): boolean {
    const bytes = messageBytesEstimate(msg);
    if (this.#messages.length >= this.#messagesMax || this.#bytes + bytes > this.#bytesMax) return false;
    this.#messages.push(msg);
    this.#bytes += bytes;
    return true;
  }

  /** Removes and returns every queued message, oldest first. */
  takeAll(): Message[] {
    const out = this.#messages;
    this.#messages = [];
    this.#bytes = 0;
    return out;
  }
}
