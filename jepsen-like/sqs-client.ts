import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DefiniteError, type EnqueueOptions, type ReceivedMessage, type WorkloadClient } from './workload-client.js';

/**
 * SQS error names after which the request certainly did not take effect (refused by
 * validation). ServiceUnavailable is not one: raftq answers it for a timeout too, whose
 * outcome is unknown.
 */
const definiteNames = new Set([
  'QueueDoesNotExist',
  'QueueNameExists',
  'InvalidParameterValue',
  'MissingParameter',
  'ReceiptHandleIsInvalid',
  'InvalidAttributeName',
  'InvalidAttributeValue',
  'InvalidMessageContents',
]);

/** The account id queue URLs carry (raftq's default). */
const accountId = '000000000000';

/**
 * A WorkloadClient over raftq's SQS API with the AWS SDK for JavaScript v3, as an SQS user
 * would drive it: one endpoint at a time, moved to the next node when a node cannot be reached
 * or answers ServiceUnavailable. SQS has no idempotency key for standard queues, so a request
 * that may have reached a node is never sent again: its error stands, outcome unknown.
 *
 * `idempotencyKeys` is false: a standard queue's SendMessage has none, so the queue workload
 * sends each message once, unkeyed.
 *
 * A DeleteMessage always answers as an unknown outcome: SQS answers success for a receipt
 * superseded by a later delivery and deletes nothing, so a success does not say the message
 * is gone, and the checker must not count it as an ack.
 */
export class SqsWorkloadClient implements WorkloadClient {
  readonly idempotencyKeys = false;
  readonly #nodes: string[];
  readonly #clients: SQSClient[];
  #current = 0;
  readonly #opTimeoutMs: number;

  constructor(nodes: readonly string[], opTimeoutMs: number) {
    this.#nodes = [...nodes];
    this.#opTimeoutMs = opTimeoutMs;
    this.#clients = this.#nodes.map(
      (n) => new SQSClient({ endpoint: `http://${n}`, region: 'us-east-1', credentials: { accessKeyId: 'jepsen', secretAccessKey: 'jepsen' }, maxAttempts: 1 }),
    );
  }

  async createQueue(name: string, attributes: Record<string, unknown>): Promise<void> {
    const a: Record<string, string> = {};
    if (typeof attributes['visibilityTimeoutMs'] === 'number') a['VisibilityTimeout'] = String(Math.ceil(attributes['visibilityTimeoutMs'] / 1000));
    if (attributes['fifo'] === true) a['FifoQueue'] = 'true';
    await this.#call((c, url) => c.send(new CreateQueueCommand({ QueueName: name, Attributes: a })).then(() => url), name, true);
  }

  async enqueue(queue: string, body: string, opts: EnqueueOptions = {}): Promise<{ id: string }> {
    const res = await this.#call(
      (c, url) =>
        c.send(
          new SendMessageCommand({
            QueueUrl: url,
            MessageBody: body,
            ...(opts.groupId !== undefined ? { MessageGroupId: opts.groupId } : {}),
            ...(opts.dedupId !== undefined || opts.groupId !== undefined ? { MessageDeduplicationId: opts.dedupId ?? opts.idempotencyKey ?? body } : {}),
          }),
        ),
      queue,
      false,
    );
    return { id: res.MessageId! };
  }

  async receive(queue: string, max: number, visibilityTimeoutMs: number, waitMs: number): Promise<ReceivedMessage[]> {
    const res = await this.#call(
      (c, url) =>
        c.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: Math.min(max, 10),
            VisibilityTimeout: Math.ceil(visibilityTimeoutMs / 1000),
            WaitTimeSeconds: Math.min(20, Math.floor(waitMs / 1000)),
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
          }),
        ),
      queue,
      false,
      waitMs,
    );
    return (res.Messages ?? []).map((m) => ({
      id: m.MessageId!,
      body: m.Body!,
      receipt: m.ReceiptHandle!,
      receiveCount: Number(m.Attributes?.['ApproximateReceiveCount'] ?? 0),
      ...(m.Attributes?.['MessageGroupId'] !== undefined ? { groupId: m.Attributes['MessageGroupId'] } : {}),
    }));
  }

  async ack(queue: string, receipt: string): Promise<void> {
    await this.#call((c, url) => c.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: receipt })), queue, false);
    throw new Error('DeleteMessage answered; SQS does not say whether it deleted (a superseded receipt deletes nothing)');
  }

  async nack(queue: string, receipt: string): Promise<void> {
    await this.#call((c, url) => c.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: receipt, VisibilityTimeout: 0 })), queue, false);
  }

  async stats(queue: string): Promise<{ visible: number; inFlight: number; delayed: number }> {
    const res = await this.#call(
      (c, url) => c.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] })),
      queue,
      true,
    );
    const a = res.Attributes ?? {};
    return { visible: Number(a['ApproximateNumberOfMessages']), inFlight: Number(a['ApproximateNumberOfMessagesNotVisible']), delayed: Number(a['ApproximateNumberOfMessagesDelayed']) };
  }

  async close(): Promise<void> {
    for (const c of this.#clients) c.destroy();
  }

  /**
   * One operation against the current node, moving to the next one on a refused connection or
   * ServiceUnavailable until the deadline; once a request may have reached a node, a
   * non-`idempotent` operation's error stands.
   */
  async #call<T>(send: (c: SQSClient, queueUrl: string) => Promise<T>, queue: string, idempotent: boolean, extraMs = 0): Promise<T> {
    const deadline = Date.now() + this.#opTimeoutMs + extraMs;
    let lastError: unknown = new Error('no attempt made');
    while (Date.now() < deadline) {
      const i = this.#current % this.#nodes.length;
      try {
        return await send(this.#clients[i]!, `http://${this.#nodes[i]}/${accountId}/${encodeURIComponent(queue)}`);
      } catch (e) {
        lastError = e;
        const name = (e as { name?: unknown }).name;
        const refused = (e as { code?: unknown }).code === 'ECONNREFUSED' || String((e as { message?: unknown }).message).includes('ECONNREFUSED');
        if (typeof name === 'string' && definiteNames.has(name)) throw new DefiniteError(name, e instanceof Error ? e.message : name);
        this.#current++;
        if (!refused && !idempotent) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw lastError;
  }
}
