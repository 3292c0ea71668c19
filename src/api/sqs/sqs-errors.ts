/**
 * SQS error codes: the typed error every SQS wire module throws, and the
 * catalogue that gives each code its HTTP status, fault side and the code
 * the query protocol (XML `<Code>`, and the `x-amzn-query-error` header of
 * the JSON protocol) carries.
 *
 * `code` is always the JSON model's shape name (what `__type` names after
 * the `#`); `sqsQueryCode(code)` is the query protocol's spelling of it,
 * taken from the `awsQueryError` / `error.code` traits of the models.
 */

/** Which side is at fault, as the query protocol's `<Type>` says. */
export type SqsFault = 'Sender' | 'Receiver';

interface CatalogueEntry {
  /** Query protocol code; omitted when it is the shape name itself. */
  readonly query?: string;
  readonly status: number;
  readonly fault?: SqsFault;
}

/**
 * Every exception shape of the JSON model (newest) and the Debian query
 * model, plus the AWS common errors. Statuses and query codes come from the
 * models' error traits (the SDK's `awsQueryError` tuples agree with them);
 * shapes without a trait (InvalidAttributeName, InvalidAttributeValue,
 * InvalidIdFormat, InvalidMessageContents) answer 400 with their own name.
 */
const CATALOGUE: Readonly<Record<string, CatalogueEntry>> = {
  // Exception shapes of the models.
  BatchEntryIdsNotDistinct: { query: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', status: 400 },
  BatchRequestTooLong: { query: 'AWS.SimpleQueueService.BatchRequestTooLong', status: 400 },
  EmptyBatchRequest: { query: 'AWS.SimpleQueueService.EmptyBatchRequest', status: 400 },
  InvalidAddress: { status: 404 },
  InvalidAttributeName: { status: 400 },
  InvalidAttributeValue: { status: 400 },
  InvalidBatchEntryId: { query: 'AWS.SimpleQueueService.InvalidBatchEntryId', status: 400 },
  InvalidIdFormat: { status: 400 },
  InvalidMessageContents: { status: 400 },
  InvalidSecurity: { status: 403 },
  KmsAccessDenied: { query: 'KMS.AccessDeniedException', status: 400 },
  KmsDisabled: { query: 'KMS.DisabledException', status: 400 },
  KmsInvalidKeyUsage: { query: 'KMS.InvalidKeyUsageException', status: 400 },
  KmsInvalidState: { query: 'KMS.InvalidStateException', status: 400 },
  KmsNotFound: { query: 'KMS.NotFoundException', status: 400 },
  KmsOptInRequired: { query: 'KMS.OptInRequired', status: 403 },
  KmsThrottled: { query: 'KMS.ThrottlingException', status: 400 },
  MessageNotInflight: { query: 'AWS.SimpleQueueService.MessageNotInflight', status: 400 },
  OverLimit: { status: 403 },
  PurgeQueueInProgress: { query: 'AWS.SimpleQueueService.PurgeQueueInProgress', status: 403 },
  QueueDeletedRecently: { query: 'AWS.SimpleQueueService.QueueDeletedRecently', status: 400 },
  QueueDoesNotExist: { query: 'AWS.SimpleQueueService.NonExistentQueue', status: 400 },
  QueueNameExists: { query: 'QueueAlreadyExists', status: 400 },
  ReceiptHandleIsInvalid: { status: 404 },
  // The JSON model says 403 for RequestThrottled (SDK awsQueryError tuple).
  RequestThrottled: { status: 403 },
  ResourceNotFoundException: { status: 404 },
  TooManyEntriesInBatchRequest: { query: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', status: 400 },
  UnsupportedOperation: { query: 'AWS.SimpleQueueService.UnsupportedOperation', status: 400 },
  // AWS common errors (query API reference, "Common Errors").
  AccessDenied: { status: 403 },
  IncompleteSignature: { status: 400 },
  InternalFailure: { status: 500, fault: 'Receiver' },
  InvalidAction: { status: 400 },
  InvalidClientTokenId: { status: 403 },
  InvalidParameterCombination: { status: 400 },
  InvalidParameterValue: { status: 400 },
  InvalidQueryParameter: { status: 400 },
  MalformedQueryString: { status: 404 },
  MissingAction: { status: 400 },
  MissingAuthenticationToken: { status: 403 },
  MissingParameter: { status: 400 },
  NotAuthorized: { status: 400 },
  OptInRequired: { status: 403 },
  RequestExpired: { status: 400 },
  ServiceUnavailable: { status: 503, fault: 'Receiver' },
  SignatureDoesNotMatch: { status: 403 },
  ThrottlingException: { status: 400 },
  ValidationError: { status: 400 },
  // JSON protocol: a body that is not a JSON object. This is what AWS JSON
  // services answer for unparseable input; no SQS client models it, so
  // @aws-sdk/client-sqs raises its base SQSServiceException with
  // name 'SerializationException' and our message (the same path it takes
  // for InvalidParameterValue), which is the most honest code to give.
  SerializationException: { status: 400 },
  // JSON protocol: an X-Amz-Target that names no operation of the service.
  UnknownOperationException: { status: 400 },
};

const DEFAULT_ENTRY: CatalogueEntry = { status: 400 };

function entryOf(code: string): CatalogueEntry {
  return Object.hasOwn(CATALOGUE, code) ? (CATALOGUE[code] ?? DEFAULT_ENTRY) : DEFAULT_ENTRY;
}

/**
 * The query protocol code of a JSON shape name: e.g. `QueueDoesNotExist` ->
 * `AWS.SimpleQueueService.NonExistentQueue`, `QueueNameExists` ->
 * `QueueAlreadyExists`. Codes the catalogue does not rename map to themselves.
 */
export function sqsQueryCode(code: string): string {
  return entryOf(code).query ?? code;
}

/** True when the catalogue knows the code (a modeled or common AWS error). */
export function isKnownSqsErrorCode(code: string): boolean {
  return Object.hasOwn(CATALOGUE, code);
}

/**
 * An error to answer an SQS request with. `status` and `fault` default from
 * the catalogue (400 / Sender for unknown codes; a status >= 500 given
 * explicitly makes the fault Receiver).
 */
export class SqsError extends Error {
  /** The JSON model's shape name, e.g. 'QueueDoesNotExist'. */
  readonly code: string;
  /** HTTP status of the error response. */
  readonly status: number;
  /** 'Sender' for client errors, 'Receiver' for server faults. */
  readonly fault: SqsFault;

  constructor(code: string, message: string, status?: number) {
    super(message);
    this.name = 'SqsError';
    this.code = code;
    const entry = entryOf(code);
    this.status = status ?? entry.status;
    this.fault = entry.fault ?? (this.status >= 500 ? 'Receiver' : 'Sender');
  }
}
