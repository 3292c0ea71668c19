/**
 * Queue URLs and ARNs of the SQS API: a queue `name` is `http://<host>/<account>/<name>` (the
 * host the client reached, so the URL works from where the client is) and
 * `arn:aws:sqs:<region>:<account>:<name>`, with the region and account configured per cluster.
 */
import { SqsError } from './sqs-errors.js';

/** The region and account a cluster presents itself as. */
export interface SqsIdentity {
  readonly region: string;
  /** Twelve digits, as AWS account ids are. */
  readonly accountId: string;
}

/** The URL of queue `name`, for a client that reached this node at `baseUrl` (`http://host:port`). */
export function queueUrl(baseUrl: string, id: SqsIdentity, name: string): string {
  return `${baseUrl}/${id.accountId}/${encodeURIComponent(name)}`;
}

/** The ARN of queue `name`. */
export function queueArn(id: SqsIdentity, name: string): string {
  return `arn:aws:sqs:${id.region}:${id.accountId}:${name}`;
}

/**
 * The queue a QueueUrl names. Any host is accepted (a client may reach another node, or go
 * through a proxy); the path must be `/<account>/<name>` with this cluster's account, or the
 * queue does not exist here (QueueDoesNotExist, as SQS answers for another account's queue).
 */
export function queueNameOfUrl(id: SqsIdentity, url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw new SqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
  }
  const m = /^\/([^/]+)\/([^/]+)\/?$/.exec(path);
  if (m === null) throw new SqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
  if (m[1] !== id.accountId) throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
  try {
    return decodeURIComponent(m[2]!);
  } catch {
    // A malformed escape (`%ZZ`, invalid UTF-8): a client's bad address, not an internal error.
    throw new SqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
  }
}

/** The queue an ARN names: `arn:aws:sqs:<region>:<account>:<name>` of this cluster's region and account. */
export function queueNameOfArn(id: SqsIdentity, arn: string, member: string): string {
  const m = /^arn:aws:sqs:([^:]+):([^:]+):([^:]+)$/.exec(arn);
  if (m === null) throw new SqsError('InvalidParameterValue', `Value ${arn} for parameter ${member} is invalid. Reason: not a queue ARN (arn:aws:sqs:region:account:name).`);
  if (m[1] !== id.region || m[2] !== id.accountId) throw new SqsError('QueueDoesNotExist', `The queue of ${member} does not exist.`);
  return m[3]!;
}

/**
 * The base URL (`http://host:port`, or https when the node serves TLS) for queue URLs answered
 * to a request carrying `hostHeader`; `fallback` (this node's advertised HTTP address) when the
 * header is absent or malformed.
 */
export function baseUrlOf(hostHeader: string | undefined, fallback: string, scheme: 'http' | 'https' = 'http'): string {
  const host = hostHeader !== undefined && /^[A-Za-z0-9.\-_[\]:]{1,255}$/.test(hostHeader) ? hostHeader : fallback;
  return `${scheme}://${host}`;
}
