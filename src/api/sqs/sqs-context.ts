/**
 * What every SQS action runs with: the op layer, the identity queue URLs and ARNs are made of,
 * the URL base of the answering node as the client reached it, and the node-local state of
 * receive attempts.
 */
import type { QueueOpsContext } from '../queue-ops.js';
import type { SqsIdentity } from './sqs-names.js';
import type { ReceiveAttempts } from './sqs-receive-attempts.js';

/** The context of one SQS call. */
export interface SqsContext {
  readonly ops: QueueOpsContext;
  readonly id: SqsIdentity;
  /** `http://host:port` as the client reached this node: queue URLs are made from it. */
  readonly baseUrl: string;
  /** Aborted when the server shuts down: ends long polls. */
  readonly stop: AbortSignal;
  readonly attempts: ReceiveAttempts;
}

/** One SQS action: its JSON-shaped input to its JSON-shaped output. */
export type SqsAction = (ctx: SqsContext, input: Readonly<Record<string, unknown>>) => Promise<Record<string, unknown>>;
