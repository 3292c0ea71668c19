/**
 * Query protocol output: writes a JSON model output shape as the XML body
 * of `<{Action}Result>`, following the query model's element names (every
 * list and map of SQS is flattened: `<QueueUrl>` repeated, `<Attribute>`
 * with `<Name>`/`<Value>`, `<Tag>` with `<Key>`/`<Value>`).
 */
import { escapeXml, textElement } from './sqs-xml.js';

/** How a JSON value is written as XML. */
type XShape =
  | { readonly k: 'scalar' }
  /** Flattened list: each item is `<item>` directly in the parent. */
  | { readonly k: 'list'; readonly item: string; readonly of: XShape }
  /** Flattened map: each entry is `<item><key/><value/></item>`. */
  | { readonly k: 'map'; readonly item: string; readonly key: string; readonly value: string; readonly of: XShape }
  /** Structure: members in this order, each `[jsonName, xmlName, shape]`. */
  | { readonly k: 'struct'; readonly fields: ReadonlyArray<readonly [string, string, XShape]> };

const SCALAR: XShape = { k: 'scalar' };

function struct(...names: Array<string | readonly [string, string, XShape]>): XShape {
  return { k: 'struct', fields: names.map((n) => (typeof n === 'string' ? ([n, n, SCALAR] as const) : n)) };
}

const ATTRIBUTE_VALUE = struct(
  'StringValue',
  'BinaryValue',
  ['StringListValues', 'StringListValue', { k: 'list', item: 'StringListValue', of: SCALAR }],
  ['BinaryListValues', 'BinaryListValue', { k: 'list', item: 'BinaryListValue', of: SCALAR }],
  'DataType',
);

const MESSAGE = struct(
  'MessageId',
  'ReceiptHandle',
  'MD5OfBody',
  'Body',
  ['Attributes', 'Attribute', { k: 'map', item: 'Attribute', key: 'Name', value: 'Value', of: SCALAR }],
  'MD5OfMessageAttributes',
  ['MessageAttributes', 'MessageAttribute', { k: 'map', item: 'MessageAttribute', key: 'Name', value: 'Value', of: ATTRIBUTE_VALUE }],
);

const ERROR_ENTRY = struct('Id', 'SenderFault', 'Code', 'Message');
const FAILED = ['Failed', 'BatchResultErrorEntry', { k: 'list', item: 'BatchResultErrorEntry', of: ERROR_ENTRY }] as const;

function list(json: string, item: string, of: XShape = SCALAR): readonly [string, string, XShape] {
  return [json, item, { k: 'list', item, of }];
}

/** Output table: the JSON output shape of each action as XML. */
const OUTPUTS: Readonly<Record<string, XShape>> = {
  CreateQueue: struct('QueueUrl'),
  GetQueueUrl: struct('QueueUrl'),
  ListQueues: struct(list('QueueUrls', 'QueueUrl'), 'NextToken'),
  GetQueueAttributes: struct(['Attributes', 'Attribute', { k: 'map', item: 'Attribute', key: 'Name', value: 'Value', of: SCALAR }]),
  SendMessage: struct('MD5OfMessageBody', 'MD5OfMessageAttributes', 'MD5OfMessageSystemAttributes', 'MessageId', 'SequenceNumber'),
  SendMessageBatch: struct(
    list('Successful', 'SendMessageBatchResultEntry', struct('Id', 'MessageId', 'MD5OfMessageBody', 'MD5OfMessageAttributes', 'MD5OfMessageSystemAttributes', 'SequenceNumber')),
    FAILED,
  ),
  ReceiveMessage: struct(list('Messages', 'Message', MESSAGE)),
  DeleteMessageBatch: struct(list('Successful', 'DeleteMessageBatchResultEntry', struct('Id')), FAILED),
  ChangeMessageVisibilityBatch: struct(list('Successful', 'ChangeMessageVisibilityBatchResultEntry', struct('Id')), FAILED),
  ListQueueTags: struct(['Tags', 'Tag', { k: 'map', item: 'Tag', key: 'Key', value: 'Value', of: SCALAR }]),
  ListDeadLetterSourceQueues: struct(list('queueUrls', 'QueueUrl'), 'NextToken'),
  StartMessageMoveTask: struct('TaskHandle'),
  CancelMessageMoveTask: struct('ApproximateNumberOfMessagesMoved'),
  ListMessageMoveTasks: struct(
    list(
      'Results',
      'ListMessageMoveTasksResultEntry',
      struct(
        'TaskHandle',
        'Status',
        'SourceArn',
        'DestinationArn',
        'MaxNumberOfMessagesPerSecond',
        'ApproximateNumberOfMessagesMoved',
        'ApproximateNumberOfMessagesToMove',
        'FailureReason',
        'StartedTimestamp',
      ),
    ),
  ),
};

/**
 * True when the action's query response has a `<{Action}Result>` element
 * (actions with an empty output, such as DeleteQueue, have none).
 */
export function hasQueryResult(action: string): boolean {
  return Object.hasOwn(OUTPUTS, action);
}

/**
 * The XML content of `<{Action}Result>` for a JSON output. Members the
 * table does not know are left out; for an action outside the table the
 * output's scalar members are written under their own names.
 */
export function queryResultXml(action: string, output: Readonly<Record<string, unknown>>): string {
  const shape = Object.hasOwn(OUTPUTS, action) ? OUTPUTS[action] : undefined;
  if (shape !== undefined) return write(shape, output);
  const scalars = Object.keys(output).filter((k) => isScalar(output[k]) && /^[A-Za-z][A-Za-z0-9]*$/.test(k));
  return write(struct(...scalars), output);
}

function isScalar(v: unknown): v is string | number | boolean | bigint {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint';
}

function scalarText(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (isScalar(v)) return String(v);
  return '';
}

function write(shape: XShape, value: unknown): string {
  switch (shape.k) {
    case 'scalar':
      return escapeXml(scalarText(value));
    case 'struct': {
      if (value === null || typeof value !== 'object') return '';
      const obj = value as Readonly<Record<string, unknown>>;
      let xml = '';
      for (const [json, name, member] of shape.fields) {
        const v = obj[json];
        if (v === undefined || v === null) continue;
        xml += member.k === 'list' || member.k === 'map' ? write(member, v) : `<${name}>${write(member, v)}</${name}>`;
      }
      return xml;
    }
    case 'list': {
      if (!Array.isArray(value)) return '';
      return value.map((item: unknown) => `<${shape.item}>${write(shape.of, item)}</${shape.item}>`).join('');
    }
    case 'map': {
      if (value === null || typeof value !== 'object') return '';
      let xml = '';
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined || v === null) continue;
        xml += `<${shape.item}>${textElement(shape.key, key)}<${shape.value}>${write(shape.of, v)}</${shape.value}></${shape.item}>`;
      }
      return xml;
    }
  }
}
