/**
 * SQS queue attributes (strings, seconds) over raftq's queue attributes (numbers, milliseconds):
 * parsing CreateQueue / SetQueueAttributes input and rendering GetQueueAttributes output.
 * Attributes raftq has no equivalent for are refused by name (InvalidAttributeName), never
 * accepted and ignored.
 */
import type { QueueAttributesInput, QueueInfo } from '../../queue/index.js';
import { SqsError } from './sqs-errors.js';
import { queueArn, queueNameOfArn, type SqsIdentity } from './sqs-names.js';

const second = 1000;

interface SecondsAttribute {
  readonly key: 'delayMs' | 'retentionMs' | 'visibilityTimeoutMs' | 'receiveWaitTimeMs';
  readonly min: number;
  readonly max: number;
}

/** SQS's attributes counted in seconds, their raftq field and SQS's range. */
const secondsAttributes: Record<string, SecondsAttribute> = {
  DelaySeconds: { key: 'delayMs', min: 0, max: 900 },
  MessageRetentionPeriod: { key: 'retentionMs', min: 60, max: 1_209_600 },
  VisibilityTimeout: { key: 'visibilityTimeoutMs', min: 0, max: 43_200 },
  ReceiveMessageWaitTimeSeconds: { key: 'receiveWaitTimeMs', min: 0, max: 20 },
};

/** Attributes SQS has and raftq refuses by name, with the reason given to the client. */
const unsupported: Record<string, string> = {
  Policy: 'raftq has no resource policies; access control is per principal (security section of the README)',
  KmsMasterKeyId: 'raftq does not encrypt queues with KMS keys',
  KmsDataKeyReusePeriodSeconds: 'raftq does not encrypt queues with KMS keys',
};

/** Read-only attributes GetQueueAttributes may name. */
const readOnly = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
] as const;

/** Every attribute name GetQueueAttributes answers for. */
export const queueAttributeNames: readonly string[] = [
  ...readOnly,
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
];

function badValue(name: string, why: string): SqsError {
  return new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}. Reason: ${why}`);
}

function intValue(name: string, v: string, min: number, max: number): number {
  if (!/^\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max) throw badValue(name, `must be an integer from ${min} to ${max}.`);
  return Number(v);
}

function boolValue(name: string, v: string): boolean {
  if (v !== 'true' && v !== 'false') throw badValue(name, 'must be true or false.');
  return v === 'true';
}

/** The redrive policy of SQS's RedrivePolicy JSON: DLQ name and maxReceiveCount; '' clears it. */
function redrivePolicy(id: SqsIdentity, v: string): Pick<QueueAttributesInput, 'deadLetterQueue' | 'maxReceiveCount'> {
  if (v === '') return { deadLetterQueue: '', maxReceiveCount: 0 };
  let p: unknown;
  try {
    p = JSON.parse(v);
  } catch {
    throw badValue('RedrivePolicy', 'Redrive policy is not a valid JSON map.');
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw badValue('RedrivePolicy', 'Redrive policy is not a valid JSON map.');
  const o = p as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'deadLetterTargetArn' && k !== 'maxReceiveCount') throw badValue('RedrivePolicy', `Unknown key ${k}.`);
  }
  const arn = o['deadLetterTargetArn'];
  if (typeof arn !== 'string') throw badValue('RedrivePolicy', 'Dead letter target arn is required.');
  const countRaw = o['maxReceiveCount'];
  const count = typeof countRaw === 'number' ? countRaw : typeof countRaw === 'string' && /^\d{1,4}$/.test(countRaw) ? Number(countRaw) : NaN;
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw badValue('RedrivePolicy', 'maxReceiveCount must be an integer from 1 to 1000.');
  let dlq: string;
  try {
    dlq = queueNameOfArn(id, arn, 'deadLetterTargetArn');
  } catch {
    throw badValue('RedrivePolicy', `Dead letter target ${arn} does not exist.`);
  }
  return { deadLetterQueue: dlq, maxReceiveCount: count };
}

/** Checks SQS's RedriveAllowPolicy JSON and returns it as stored. */
function redriveAllowPolicy(v: string): string {
  if (v === '') return '';
  let p: unknown;
  try {
    p = JSON.parse(v);
  } catch {
    throw badValue('RedriveAllowPolicy', 'not a valid JSON map.');
  }
  const o = typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as Record<string, unknown>) : undefined;
  const permission = o?.['redrivePermission'];
  if (permission !== 'allowAll' && permission !== 'denyAll' && permission !== 'byQueue') throw badValue('RedriveAllowPolicy', 'redrivePermission must be allowAll, denyAll or byQueue.');
  const arns = o?.['sourceQueueArns'];
  if (permission === 'byQueue') {
    if (!Array.isArray(arns) || arns.length < 1 || arns.length > 10 || !arns.every((a) => typeof a === 'string')) throw badValue('RedriveAllowPolicy', 'byQueue needs sourceQueueArns, 1 to 10 queue ARNs.');
  } else if (arns !== undefined) {
    throw badValue('RedriveAllowPolicy', 'sourceQueueArns is only for redrivePermission byQueue.');
  }
  if (v.length > 1024) throw badValue('RedriveAllowPolicy', 'at most 1024 characters.');
  return JSON.stringify(o);
}

/**
 * raftq attributes from SQS attribute strings, for a create (`creating`) or a change of queue
 * `queue`. FifoQueue is given only on create and must match the name; FIFO-only attributes are
 * refused on a standard queue.
 */
export function parseQueueAttributes(id: SqsIdentity, queue: string, attrs: Readonly<Record<string, string>>, creating: boolean): QueueAttributesInput {
  const fifo = queue.endsWith('.fifo');
  const out: QueueAttributesInput = {};
  for (const [name, value] of Object.entries(attrs)) {
    const s = secondsAttributes[name];
    if (s !== undefined) {
      out[s.key] = intValue(name, value, s.min, s.max) * second;
      continue;
    }
    if (unsupported[name] !== undefined) throw new SqsError('InvalidAttributeName', `Attribute ${name} is not supported: ${unsupported[name]}.`);
    switch (name) {
      case 'MaximumMessageSize':
        out.maxMessageBytes = intValue(name, value, 1024, 1_048_576);
        break;
      case 'RedrivePolicy':
        Object.assign(out, redrivePolicy(id, value));
        break;
      case 'RedriveAllowPolicy':
        out.redriveAllowPolicy = redriveAllowPolicy(value);
        break;
      case 'FifoQueue':
        if (!creating) throw new SqsError('InvalidAttributeName', 'Attribute FifoQueue cannot be changed after the queue is created.');
        if (boolValue(name, value) !== fifo) throw badValue(name, 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix.');
        break;
      case 'ContentBasedDeduplication':
        if (!fifo) throw new SqsError('InvalidAttributeName', 'Unknown Attribute ContentBasedDeduplication.');
        out.contentBasedDeduplication = boolValue(name, value);
        break;
      case 'DeduplicationScope':
        if (!fifo) throw new SqsError('InvalidAttributeName', 'Unknown Attribute DeduplicationScope.');
        if (value !== 'queue') throw badValue(name, 'raftq deduplicates per queue only (queue).');
        break;
      case 'FifoThroughputLimit':
        if (!fifo) throw new SqsError('InvalidAttributeName', 'Unknown Attribute FifoThroughputLimit.');
        if (value !== 'perQueue') throw badValue(name, 'raftq limits FIFO throughput per queue only (perQueue).');
        break;
      case 'SqsManagedSseEnabled':
        if (boolValue(name, value)) throw badValue(name, 'raftq does not encrypt queues at rest; use disk encryption under the data directory.');
        break;
      default:
        throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
  }
  if (creating && fifo && attrs['FifoQueue'] === undefined) {
    throw badValue('FifoQueue', 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix (set FifoQueue to true).');
  }
  return out;
}

/** GetQueueAttributes: the attributes `names` asks for (`All` for every one), as SQS strings. */
export function renderQueueAttributes(id: SqsIdentity, q: QueueInfo, names: readonly string[]): Record<string, string> {
  const all = names.includes('All');
  for (const n of names) {
    if (n !== 'All' && !queueAttributeNames.includes(n) && unsupported[n] === undefined) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${n}.`);
  }
  const a = q.attributes;
  const secs = (ms: number): string => String(Math.floor(ms / second));
  const values: Record<string, string | undefined> = {
    ApproximateNumberOfMessages: String(q.stats.visible),
    ApproximateNumberOfMessagesNotVisible: String(q.stats.inFlight),
    ApproximateNumberOfMessagesDelayed: String(q.stats.delayed),
    CreatedTimestamp: secs(q.createdAtMs),
    LastModifiedTimestamp: secs(q.createdAtMs),
    QueueArn: queueArn(id, q.name),
    DelaySeconds: secs(a.delayMs),
    MaximumMessageSize: String(a.maxMessageBytes),
    MessageRetentionPeriod: secs(a.retentionMs),
    ReceiveMessageWaitTimeSeconds: secs(a.receiveWaitTimeMs),
    VisibilityTimeout: secs(a.visibilityTimeoutMs),
    RedrivePolicy: a.deadLetterQueue !== '' ? JSON.stringify({ deadLetterTargetArn: queueArn(id, a.deadLetterQueue), maxReceiveCount: a.maxReceiveCount }) : undefined,
    RedriveAllowPolicy: a.redriveAllowPolicy !== '' ? a.redriveAllowPolicy : undefined,
    SqsManagedSseEnabled: 'false',
    FifoQueue: a.fifo ? 'true' : undefined,
    ContentBasedDeduplication: a.fifo ? String(a.contentBasedDeduplication) : undefined,
    DeduplicationScope: a.fifo ? 'queue' : undefined,
    FifoThroughputLimit: a.fifo ? 'perQueue' : undefined,
  };
  const out: Record<string, string> = {};
  for (const n of queueAttributeNames) {
    const v = values[n];
    if (v !== undefined && (all || names.includes(n))) out[n] = v;
  }
  return out;
}

/**
 * Whether dead-letter queue `dlq` lets `source` send its dead letters to it (its
 * RedriveAllowPolicy); InvalidParameterValue otherwise.
 */
export function checkRedriveAllowed(id: SqsIdentity, dlq: QueueInfo, source: string): void {
  const policy = dlq.attributes.redriveAllowPolicy;
  if (policy === '') return;
  const p = JSON.parse(policy) as { redrivePermission: string; sourceQueueArns?: string[] };
  const allowed = p.redrivePermission === 'allowAll' || (p.redrivePermission === 'byQueue' && (p.sourceQueueArns ?? []).includes(queueArn(id, source)));
  if (!allowed) throw new SqsError('InvalidParameterValue', `Value for parameter RedrivePolicy is invalid. Reason: the RedriveAllowPolicy of ${dlq.name} does not allow ${source} to use it as its dead-letter queue.`);
}
