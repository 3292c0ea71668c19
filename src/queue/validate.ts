/**
 * Validation of commands before they are proposed. validateCommand is pure (shape, ranges,
 * names, receipts); validateAgainstState needs the current queues (existence, body size against
 * maxMessageBytes, dead-letter queue). apply() runs both again, so a command that became invalid
 * between proposal and apply yields the same error result on every node instead of a throw.
 */
import { assert } from '../../raft/assert.js';
import { isPrincipalCommand, type Command, type EnqueueMessage, type QueueAttributes, type QueueAttributesInput, type PrincipalCommand, type QueueTags } from './commands.js';
import { invalidArgument, QueueError } from './errors.js';
import {
  ackReceiptsMax,
  attributeLengthMax,
  attributeValueLengthMax,
  delayMsRange,
  enqueueBatchMessagesMax,
  idLengthMax,
  maxMessageBytesRange,
  maxReceiveCountRange,
  messageAttributesMax,
  queueNameLengthMax,
  queueTagsMax,
  receiveMessagesMax,
  receiveWaitTimeMsRange,
  redriveAllowPolicyLengthMax,
  retentionMsRange,
  tagKeyLengthMax,
  tagValueLengthMax,
  visibilityTimeoutMsRange,
  type AttributeRange,
} from './limits.js';
import { validatePrincipalCommand } from './principals.js';
import { decodeReceipt } from './receipts.js';

/** What validateAgainstState needs to know about the current queues. */
export interface QueueLookup {
  /** The attributes of queue `name`, or undefined when it does not exist. */
  queueAttributes(name: string): QueueAttributes | undefined;
  /** The tags of queue `name`, or undefined when it does not exist. */
  queueTags(name: string): QueueTags | undefined;
  /** Checks a principal command against the users and tokens (absent: no principal state to check). */
  validatePrincipalCommand?(cmd: PrincipalCommand): QueueError | undefined;
}

const queueNamePattern = new RegExp(`^[A-Za-z0-9_-]{1,${queueNameLengthMax}}(\\.fifo)?$`);

/** Whether a queue name is FIFO by its `.fifo` suffix. */
export function isFifoName(name: string): boolean {
  return name.endsWith('.fifo');
}

/** Checks a queue name: `[A-Za-z0-9_-]{1,80}` with an optional `.fifo` suffix for FIFO queues. */
export function validateQueueName(name: unknown, what = 'queue name'): QueueError | undefined {
  if (typeof name !== 'string' || !queueNamePattern.test(name)) {
    return invalidArgument(`${what} must match [A-Za-z0-9_-]{1,${queueNameLengthMax}} with an optional .fifo suffix`);
  }
  return undefined;
}

function checkRange(name: string, value: unknown, range: AttributeRange): QueueError | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    return invalidArgument(`${name} must be an integer in ${range.min}..${range.max}`);
  }
  return undefined;
}

function checkId(name: string, value: unknown): QueueError | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length < 1 || value.length > idLengthMax) {
    return invalidArgument(`${name} must be a string of 1..${idLengthMax} characters`);
  }
  return undefined;
}

/** Checks client-given attributes of queue `queue` (ranges, redrive policy pairing, fifo flag). */
export function validateAttributes(queue: string, attrs: unknown): QueueError | undefined {
  if (attrs === undefined) return undefined;
  if (typeof attrs !== 'object' || attrs === null) return invalidArgument('attributes must be an object');
  const a = attrs as QueueAttributesInput;
  // maxReceiveCount 0 with deadLetterQueue '' removes a redrive policy.
  const noPolicy = a.maxReceiveCount === 0 && a.deadLetterQueue === '';
  const err =
    checkRange('visibilityTimeoutMs', a.visibilityTimeoutMs, visibilityTimeoutMsRange) ??
    checkRange('delayMs', a.delayMs, delayMsRange) ??
    checkRange('retentionMs', a.retentionMs, retentionMsRange) ??
    checkRange('maxMessageBytes', a.maxMessageBytes, maxMessageBytesRange) ??
    (noPolicy ? undefined : checkRange('maxReceiveCount', a.maxReceiveCount, maxReceiveCountRange)) ??
    checkRange('receiveWaitTimeMs', a.receiveWaitTimeMs, receiveWaitTimeMsRange);
  if (err !== undefined) return err;
  if (a.fifo !== undefined && a.fifo !== isFifoName(queue)) {
    return invalidArgument('fifo must match the name: FIFO queue names end in .fifo, others must not');
  }
  if (a.fifo !== undefined && typeof a.fifo !== 'boolean') return invalidArgument('fifo must be a boolean');
  if (a.contentBasedDeduplication !== undefined) {
    if (typeof a.contentBasedDeduplication !== 'boolean') return invalidArgument('contentBasedDeduplication must be a boolean');
    if (a.contentBasedDeduplication && !isFifoName(queue)) return invalidArgument('contentBasedDeduplication is for FIFO queues only');
  }
  if (a.redriveAllowPolicy !== undefined && (typeof a.redriveAllowPolicy !== 'string' || a.redriveAllowPolicy.length > redriveAllowPolicyLengthMax)) {
    return invalidArgument(`redriveAllowPolicy must be a string of at most ${redriveAllowPolicyLengthMax} characters`);
  }
  if ((a.maxReceiveCount === undefined) !== (a.deadLetterQueue === undefined)) {
    return invalidArgument('maxReceiveCount and deadLetterQueue must be given together');
  }
  if (a.deadLetterQueue !== undefined && !noPolicy) {
    const nameErr = validateQueueName(a.deadLetterQueue, 'deadLetterQueue');
    if (nameErr !== undefined) return nameErr;
    if (a.deadLetterQueue === queue) return invalidArgument('a queue cannot be its own dead-letter queue');
    if (isFifoName(a.deadLetterQueue) !== isFifoName(queue)) {
      return invalidArgument('the dead-letter queue of a FIFO queue must be FIFO, and of a standard queue standard');
    }
  }
  return undefined;
}

function validateMessage(fifo: boolean, m: unknown, i: number): QueueError | undefined {
  if (typeof m !== 'object' || m === null) return invalidArgument(`message ${i} must be an object`);
  const msg = m as EnqueueMessage;
  if (!(msg.body instanceof Uint8Array)) return invalidArgument(`message ${i}: body must be bytes`);
  if (msg.body.length > maxMessageBytesRange.max) {
    return new QueueError('TOO_LARGE', `message ${i}: body of ${msg.body.length} bytes exceeds ${maxMessageBytesRange.max}`);
  }
  const err =
    checkRange(`message ${i}: delayMs`, msg.delayMs, delayMsRange) ??
    checkId(`message ${i}: groupId`, msg.groupId) ??
    checkId(`message ${i}: dedupId`, msg.dedupId) ??
    validateMessageAttributes(msg.attributes, i);
  if (err !== undefined) return err;
  if (fifo && msg.groupId === undefined) return invalidArgument(`message ${i}: FIFO queues need a groupId`);
  if (fifo && msg.delayMs !== undefined) return invalidArgument(`message ${i}: FIFO queues take no per-message delayMs`);
  if (!fifo && (msg.groupId !== undefined || msg.dedupId !== undefined)) {
    return invalidArgument(`message ${i}: groupId and dedupId are for FIFO queues only`);
  }
  return undefined;
}

function validateMessageAttributes(attrs: unknown, i: number): QueueError | undefined {
  if (attrs === undefined) return undefined;
  if (typeof attrs !== 'object' || attrs === null) return invalidArgument(`message ${i}: attributes must be an object`);
  const entries = Object.entries(attrs);
  if (entries.length > messageAttributesMax) return invalidArgument(`message ${i}: more than ${messageAttributesMax} attributes`);
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > attributeLengthMax || typeof v !== 'string' || v.length > attributeValueLengthMax) {
      return invalidArgument(
        `message ${i}: attribute keys are strings of 1..${attributeLengthMax} characters and values strings of at most ${attributeValueLengthMax} characters`,
      );
    }
  }
  return undefined;
}

/** Checks queue tags: an object of at most 50 string values, keys of 1..128 and values of 0..256 characters. */
export function validateTags(tags: unknown, what = 'tags'): QueueError | undefined {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return invalidArgument(`${what} must be an object of strings`);
  const entries = Object.entries(tags);
  if (entries.length > queueTagsMax) return invalidArgument(`${what}: more than ${queueTagsMax} tags`);
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > tagKeyLengthMax || typeof v !== 'string' || v.length > tagValueLengthMax) {
      return invalidArgument(`${what}: tag keys are strings of 1..${tagKeyLengthMax} characters and values strings of at most ${tagValueLengthMax} characters`);
    }
  }
  return undefined;
}

function validateTagKeys(keys: unknown): QueueError | undefined {
  if (!Array.isArray(keys) || keys.length > queueTagsMax) return invalidArgument(`keys must be an array of at most ${queueTagsMax} tag keys`);
  for (const k of keys as unknown[]) {
    if (typeof k !== 'string' || k.length < 1 || k.length > tagKeyLengthMax) return invalidArgument(`tag keys are strings of 1..${tagKeyLengthMax} characters`);
  }
  return undefined;
}

/** The tags of a queue after tagQueue merges `added` into `current` (keys of `added` win). */
export function mergeTags(current: QueueTags, added: QueueTags): QueueTags {
  return sortedTags({ ...current, ...added });
}

/** The tags of a queue after untagQueue removes `keys` from `current`. */
export function removeTags(current: QueueTags, keys: readonly string[]): QueueTags {
  const gone = new Set(keys);
  return sortedTags(Object.fromEntries(Object.entries(current).filter(([k]) => !gone.has(k))));
}

/** A copy of `tags` with its keys in sorted order (own properties only, so "__proto__" stays a tag). */
export function sortedTags(tags: QueueTags): QueueTags {
  const keys = Object.keys(tags).sort();
  return Object.fromEntries(keys.map((k) => [k, tags[k]!]));
}

function validateEnqueue(cmd: Extract<Command, { type: 'enqueue' }>): QueueError | undefined {
  if (!Array.isArray(cmd.messages) || cmd.messages.length < 1 || cmd.messages.length > enqueueBatchMessagesMax) {
    return invalidArgument(`an enqueue carries 1..${enqueueBatchMessagesMax} messages`);
  }
  const fifo = isFifoName(cmd.queue);
  for (let i = 0; i < cmd.messages.length; i++) {
    const err = validateMessage(fifo, cmd.messages[i], i);
    if (err !== undefined) return err;
  }
  const key = cmd.producerKey;
  if (key === undefined) return undefined;
  if (typeof key !== 'object' || key === null) return invalidArgument('producerKey must be an object');
  if ('idempotencyKey' in key) return checkId('idempotencyKey', key.idempotencyKey) ?? (key.idempotencyKey === undefined ? invalidArgument('idempotencyKey is required') : undefined);
  if (!Number.isSafeInteger(key.sequence) || key.sequence < 0) return invalidArgument('producer sequence must be a non-negative integer');
  return checkId('producerId', key.producerId) ?? (key.producerId === undefined ? invalidArgument('producerId is required') : undefined);
}

/**
 * Checks everything about a command that does not depend on state. Returns the error, or
 * undefined when the command may be proposed (subject to validateAgainstState).
 */
export function validateCommand(cmd: Command): QueueError | undefined {
  if (typeof cmd !== 'object' || cmd === null) return invalidArgument('command must be an object');
  if (cmd.type === 'expire') return undefined;
  if (isPrincipalCommand(cmd)) return validatePrincipalCommand(cmd);
  const nameErr = validateQueueName(cmd.queue);
  if (nameErr !== undefined) return nameErr;
  switch (cmd.type) {
    case 'createQueue':
      return validateAttributes(cmd.queue, cmd.attributes) ?? (cmd.tags === undefined ? undefined : validateTags(cmd.tags));
    case 'setQueueAttributes':
      return validateAttributes(cmd.queue, cmd.attributes);
    case 'tagQueue':
      return validateTags(cmd.tags);
    case 'untagQueue':
      return validateTagKeys(cmd.keys);
    case 'deleteQueue':
    case 'purgeQueue':
      return undefined;
    case 'redrive': {
      const dest = cmd.destination;
      if (dest === undefined) return undefined;
      const err = validateQueueName(dest, 'destination');
      if (err !== undefined) return err;
      if (dest === cmd.queue) return invalidArgument('a redrive destination cannot be the dead-letter queue itself');
      if (isFifoName(dest) !== isFifoName(cmd.queue)) {
        return invalidArgument('the redrive destination of a FIFO dead-letter queue must be FIFO, and of a standard one standard');
      }
      return undefined;
    }
    case 'enqueue':
      return validateEnqueue(cmd);
    case 'receive':
      if (!Number.isInteger(cmd.max) || cmd.max < 1 || cmd.max > receiveMessagesMax) {
        return invalidArgument(`max must be an integer in 1..${receiveMessagesMax}`);
      }
      return checkRange('visibilityTimeoutMs', cmd.visibilityTimeoutMs, visibilityTimeoutMsRange);
    case 'ack': {
      if (!Array.isArray(cmd.receipts) || cmd.receipts.length < 1 || cmd.receipts.length > ackReceiptsMax) {
        return invalidArgument(`an ack carries 1..${ackReceiptsMax} receipts`);
      }
      for (const r of cmd.receipts) {
        const decoded = decodeReceipt(r);
        if (decoded instanceof QueueError) return decoded;
      }
      return undefined;
    }
    case 'changeVisibility': {
      const decoded = decodeReceipt(cmd.receipt);
      if (decoded instanceof QueueError) return decoded;
      return (
        checkRange('visibilityTimeoutMs', cmd.visibilityTimeoutMs, visibilityTimeoutMsRange) ??
        (cmd.visibilityTimeoutMs === undefined ? invalidArgument('visibilityTimeoutMs is required') : undefined)
      );
    }
    default:
      return invalidArgument(`unknown command type ${String((cmd as { type?: unknown }).type)}`);
  }
}

/** Resolves client attributes over `base` (the current attributes, or the defaults on create). */
export function resolveAttributes(queue: string, input: QueueAttributesInput | undefined, base?: QueueAttributes): QueueAttributes {
  const b = base ?? {
    visibilityTimeoutMs: visibilityTimeoutMsRange.default,
    delayMs: delayMsRange.default,
    retentionMs: retentionMsRange.default,
    maxMessageBytes: maxMessageBytesRange.default,
    maxReceiveCount: 0,
    deadLetterQueue: '',
    fifo: isFifoName(queue),
    contentBasedDeduplication: false,
    receiveWaitTimeMs: receiveWaitTimeMsRange.default,
    redriveAllowPolicy: '',
  };
  const i = input ?? {};
  return {
    visibilityTimeoutMs: i.visibilityTimeoutMs ?? b.visibilityTimeoutMs,
    delayMs: i.delayMs ?? b.delayMs,
    retentionMs: i.retentionMs ?? b.retentionMs,
    maxMessageBytes: i.maxMessageBytes ?? b.maxMessageBytes,
    maxReceiveCount: i.maxReceiveCount ?? b.maxReceiveCount,
    deadLetterQueue: i.deadLetterQueue ?? b.deadLetterQueue,
    fifo: b.fifo,
    contentBasedDeduplication: i.contentBasedDeduplication ?? b.contentBasedDeduplication,
    receiveWaitTimeMs: i.receiveWaitTimeMs ?? b.receiveWaitTimeMs,
    redriveAllowPolicy: i.redriveAllowPolicy ?? b.redriveAllowPolicy,
  };
}

/** Whether two resolved attribute sets are identical. */
export function sameAttributes(a: QueueAttributes, b: QueueAttributes): boolean {
  return (
    a.visibilityTimeoutMs === b.visibilityTimeoutMs &&
    a.delayMs === b.delayMs &&
    a.retentionMs === b.retentionMs &&
    a.maxMessageBytes === b.maxMessageBytes &&
    a.maxReceiveCount === b.maxReceiveCount &&
    a.deadLetterQueue === b.deadLetterQueue &&
    a.fifo === b.fifo &&
    a.contentBasedDeduplication === b.contentBasedDeduplication &&
    a.receiveWaitTimeMs === b.receiveWaitTimeMs &&
    a.redriveAllowPolicy === b.redriveAllowPolicy
  );
}

function checkDeadLetterQueue(lookup: QueueLookup, attrs: QueueAttributesInput | undefined): QueueError | undefined {
  const dlq = attrs?.deadLetterQueue;
  if (dlq === undefined || dlq === '' || lookup.queueAttributes(dlq) !== undefined) return undefined;
  return new QueueError('QUEUE_NOT_FOUND', `dead-letter queue ${dlq} does not exist`);
}

/**
 * Checks a command (that passed validateCommand) against the current state: the queue exists
 * (QUEUE_NOT_FOUND), createQueue does not conflict (QUEUE_EXISTS), the dead-letter queue exists,
 * bodies fit the queue's maxMessageBytes (TOO_LARGE). The leader calls it before proposing;
 * apply calls it again on every node.
 */
export function validateAgainstState(cmd: Command, lookup: QueueLookup): QueueError | undefined {
  if (cmd.type === 'expire') return undefined;
  if (isPrincipalCommand(cmd)) return lookup.validatePrincipalCommand?.(cmd);
  const current = lookup.queueAttributes(cmd.queue);
  if (cmd.type === 'createQueue') {
    if (current === undefined) return checkDeadLetterQueue(lookup, cmd.attributes);
    if (sameAttributes(current, resolveAttributes(cmd.queue, cmd.attributes))) return undefined;
    return new QueueError('QUEUE_EXISTS', `queue ${cmd.queue} exists with different attributes`);
  }
  if (current === undefined) return new QueueError('QUEUE_NOT_FOUND', `queue ${cmd.queue} does not exist`);
  if (cmd.type === 'setQueueAttributes') return checkDeadLetterQueue(lookup, cmd.attributes);
  if (cmd.type === 'tagQueue') {
    const tags = lookup.queueTags(cmd.queue);
    assert(tags !== undefined, 'a queue with attributes has tags');
    const n = Object.keys(mergeTags(tags, cmd.tags)).length;
    if (n > queueTagsMax) return invalidArgument(`queue ${cmd.queue} would have ${n} tags, more than ${queueTagsMax}`);
    return undefined;
  }
  if (cmd.type === 'redrive' && cmd.destination !== undefined && lookup.queueAttributes(cmd.destination) === undefined) {
    return new QueueError('QUEUE_NOT_FOUND', `redrive destination ${cmd.destination} does not exist`);
  }
  if (cmd.type === 'enqueue') {
    for (let i = 0; i < cmd.messages.length; i++) {
      const size = cmd.messages[i]!.body.length;
      if (size > current.maxMessageBytes) {
        return new QueueError('TOO_LARGE', `message ${i}: body of ${size} bytes exceeds maxMessageBytes ${current.maxMessageBytes} of ${cmd.queue}`);
      }
    }
  }
  return undefined;
}
