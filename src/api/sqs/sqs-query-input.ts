/**
 * Query protocol input: turns the flat form botocore (and the aws CLI) send,
 * e.g. `Attribute.1.Name=X&Attribute.1.Value=Y`, into the JSON model's input
 * shape of the action, e.g. `{ Attributes: { X: 'Y' } }`. Driven by a small
 * hand-written table per action whose names follow the query model's
 * locationNames (every list and map of SQS is flattened there).
 */
import { SqsError } from './sqs-errors.js';
import type { SqsForm } from './sqs-form.js';

/** How one JSON member is spelled in the form. */
type Field =
  | { readonly kind: 'string'; readonly loc?: string }
  | { readonly kind: 'int'; readonly loc?: string }
  /** Flattened list of strings: `Loc.1`, `Loc.2`, ... */
  | { readonly kind: 'list'; readonly loc: string }
  /** Flattened string map: `Loc.N.Key` / `Loc.N.Value`. */
  | { readonly kind: 'map'; readonly loc: string; readonly key: string; readonly value: string }
  /** Flattened map of message attribute values: `Loc.N.Name` / `Loc.N.Value.*`. */
  | { readonly kind: 'attrs'; readonly loc: string }
  /** Flattened list of structures: `Loc.N.Member`. */
  | { readonly kind: 'entries'; readonly loc: string; readonly entry: Spec };

type Spec = Readonly<Record<string, Field>>;

const S: Field = { kind: 'string' };
const I: Field = { kind: 'int' };
const QUEUE_ATTRIBUTES: Field = { kind: 'map', loc: 'Attribute', key: 'Name', value: 'Value' };
const TAGS: Field = { kind: 'map', loc: 'Tag', key: 'Key', value: 'Value' };
const MESSAGE_ATTRIBUTES: Field = { kind: 'attrs', loc: 'MessageAttribute' };
const SYSTEM_ATTRIBUTES: Field = { kind: 'attrs', loc: 'MessageSystemAttribute' };

const SEND_FIELDS: Spec = {
  MessageBody: S,
  DelaySeconds: I,
  MessageAttributes: MESSAGE_ATTRIBUTES,
  MessageSystemAttributes: SYSTEM_ATTRIBUTES,
  MessageDeduplicationId: S,
  MessageGroupId: S,
};
const SEND_ENTRY: Spec = { Id: S, ...SEND_FIELDS };

/** Input table: JSON member name -> form spelling, per action. */
const ACTIONS: Readonly<Record<string, Spec>> = {
  CreateQueue: { QueueName: S, Attributes: QUEUE_ATTRIBUTES, tags: TAGS },
  DeleteQueue: { QueueUrl: S },
  GetQueueUrl: { QueueName: S, QueueOwnerAWSAccountId: S },
  ListQueues: { QueueNamePrefix: S, NextToken: S, MaxResults: I },
  GetQueueAttributes: { QueueUrl: S, AttributeNames: { kind: 'list', loc: 'AttributeName' } },
  SetQueueAttributes: { QueueUrl: S, Attributes: QUEUE_ATTRIBUTES },
  PurgeQueue: { QueueUrl: S },
  SendMessage: { QueueUrl: S, ...SEND_FIELDS },
  SendMessageBatch: {
    QueueUrl: S,
    Entries: { kind: 'entries', loc: 'SendMessageBatchRequestEntry', entry: SEND_ENTRY },
  },
  ReceiveMessage: {
    QueueUrl: S,
    AttributeNames: { kind: 'list', loc: 'AttributeName' },
    MessageSystemAttributeNames: { kind: 'list', loc: 'MessageSystemAttributeName' },
    MessageAttributeNames: { kind: 'list', loc: 'MessageAttributeName' },
    MaxNumberOfMessages: I,
    VisibilityTimeout: I,
    WaitTimeSeconds: I,
    ReceiveRequestAttemptId: S,
  },
  DeleteMessage: { QueueUrl: S, ReceiptHandle: S },
  DeleteMessageBatch: {
    QueueUrl: S,
    Entries: { kind: 'entries', loc: 'DeleteMessageBatchRequestEntry', entry: { Id: S, ReceiptHandle: S } },
  },
  ChangeMessageVisibility: { QueueUrl: S, ReceiptHandle: S, VisibilityTimeout: I },
  ChangeMessageVisibilityBatch: {
    QueueUrl: S,
    Entries: {
      kind: 'entries',
      loc: 'ChangeMessageVisibilityBatchRequestEntry',
      entry: { Id: S, ReceiptHandle: S, VisibilityTimeout: I },
    },
  },
  TagQueue: { QueueUrl: S, Tags: TAGS },
  UntagQueue: { QueueUrl: S, TagKeys: { kind: 'list', loc: 'TagKey' } },
  ListQueueTags: { QueueUrl: S },
  ListDeadLetterSourceQueues: { QueueUrl: S, NextToken: S, MaxResults: I },
  StartMessageMoveTask: { SourceArn: S, DestinationArn: S, MaxNumberOfMessagesPerSecond: I },
  ListMessageMoveTasks: { SourceArn: S, MaxResults: I },
  CancelMessageMoveTask: { TaskHandle: S },
  AddPermission: {
    QueueUrl: S,
    Label: S,
    AWSAccountIds: { kind: 'list', loc: 'AWSAccountId' },
    Actions: { kind: 'list', loc: 'ActionName' },
  },
  RemovePermission: { QueueUrl: S, Label: S },
};

/** True when the action is in the input table (it has a known input shape). */
export function hasQueryInputSpec(action: string): boolean {
  return Object.hasOwn(ACTIONS, action);
}

/** True when the action's input has a QueueUrl member. */
export function takesQueueUrl(action: string): boolean {
  return hasQueryInputSpec(action) && ACTIONS[action]?.['QueueUrl'] !== undefined;
}

/**
 * Converts the form of a query request into the JSON input shape of
 * `action`. Unknown actions give `{}`; form names the table does not know
 * are ignored (as AWS ignores unknown parameters it is not strict about).
 * Throws SqsError InvalidParameterValue for a non-integer integer member.
 */
export function queryInputOf(action: string, form: SqsForm): Record<string, unknown> {
  const spec = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
  return spec === undefined ? {} : readStruct(form, '', spec);
}

function readStruct(form: SqsForm, prefix: string, spec: Spec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [member, field] of Object.entries(spec)) {
    const value = readField(form, prefix, member, field);
    if (value !== undefined) out[member] = value;
  }
  return out;
}

function readField(form: SqsForm, prefix: string, member: string, field: Field): unknown {
  switch (field.kind) {
    case 'string':
      return form.get(prefix + (field.loc ?? member));
    case 'int': {
      const name = field.loc ?? member;
      const raw = form.get(prefix + name);
      return raw === undefined ? undefined : parseInteger(name, raw);
    }
    case 'list': {
      const base = `${prefix}${field.loc}.`;
      const items = indicesUnder(form, base).map((i) => form.get(`${base}${i}`));
      const strings = items.filter((v): v is string => v !== undefined);
      return strings.length === 0 ? undefined : strings;
    }
    case 'map': {
      const base = `${prefix}${field.loc}.`;
      const map: Record<string, string> = {};
      let found = false;
      for (const i of indicesUnder(form, base)) {
        const key = form.get(`${base}${i}.${field.key}`);
        const value = form.get(`${base}${i}.${field.value}`);
        if (key === undefined) continue;
        map[key] = value ?? '';
        found = true;
      }
      return found ? map : undefined;
    }
    case 'attrs':
      return readAttributeMap(form, `${prefix}${field.loc}.`);
    case 'entries': {
      const base = `${prefix}${field.loc}.`;
      const entries = indicesUnder(form, base).map((i) => readStruct(form, `${base}${i}.`, field.entry));
      return entries.length === 0 ? undefined : entries;
    }
  }
}

function readAttributeMap(form: SqsForm, base: string): Record<string, unknown> | undefined {
  const map: Record<string, unknown> = {};
  let found = false;
  for (const i of indicesUnder(form, base)) {
    const name = form.get(`${base}${i}.Name`);
    if (name === undefined) continue;
    const v = `${base}${i}.Value.`;
    const value: Record<string, unknown> = {};
    const dataType = form.get(`${v}DataType`);
    if (dataType !== undefined) value['DataType'] = dataType;
    const str = form.get(`${v}StringValue`);
    if (str !== undefined) value['StringValue'] = str;
    const bin = form.get(`${v}BinaryValue`);
    if (bin !== undefined) value['BinaryValue'] = bin;
    const strList = listUnder(form, `${v}StringListValue.`);
    if (strList !== undefined) value['StringListValues'] = strList;
    const binList = listUnder(form, `${v}BinaryListValue.`);
    if (binList !== undefined) value['BinaryListValues'] = binList;
    map[name] = value;
    found = true;
  }
  return found ? map : undefined;
}

function listUnder(form: SqsForm, base: string): string[] | undefined {
  const items: string[] = [];
  for (const i of indicesUnder(form, base)) {
    const item = form.get(`${base}${i}`);
    if (item !== undefined) items.push(item);
  }
  return items.length === 0 ? undefined : items;
}

/**
 * The distinct list indices N of the names `base + N` and `base + N.*`, in
 * numeric order. Botocore numbers from 1 without gaps; gaps are tolerated.
 */
function indicesUnder(form: SqsForm, base: string): number[] {
  const seen = new Set<number>();
  for (const name of form.keys()) {
    if (!name.startsWith(base)) continue;
    const rest = name.slice(base.length);
    const dot = rest.indexOf('.');
    const digits = dot < 0 ? rest : rest.slice(0, dot);
    if (!/^[1-9][0-9]{0,8}$/.test(digits)) {
      throw new SqsError('InvalidParameterValue', `Invalid list index in parameter ${name}`);
    }
    seen.add(Number(digits));
  }
  return [...seen].sort((a, b) => a - b);
}

function parseInteger(name: string, raw: string): number {
  const trimmed = raw.trim();
  if (!/^[+-]?[0-9]{1,15}$/.test(trimmed)) {
    throw new SqsError('InvalidParameterValue', `Value ${raw} for parameter ${name} is invalid. Reason: must be an integer.`);
  }
  return Number(trimmed);
}
