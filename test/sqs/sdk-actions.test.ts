/**
 * Every SQS action raftq serves, called with the AWS SDK for JavaScript v3 (@aws-sdk/client-sqs,
 * AWS JSON 1.0 protocol, its MD5 checks on) against a three-node cluster, once through the
 * leader and once through a follower (which forwards). The SDK runs unchanged: only its endpoint
 * points at raftq.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueueTagsCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  ResourceNotFoundException,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  CancelMessageMoveTaskCommand,
  TagQueueCommand,
  UnsupportedOperation,
  UntagQueueCommand,
  AddPermissionCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster } from '../integration/cluster-harness.js';

let cluster: Cluster;
const clients: Record<'leader' | 'follower', SQSClient> = {} as Record<'leader' | 'follower', SQSClient>;

function client(port: number): SQSClient {
  return new SQSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 5 });
}

beforeAll(async () => {
  cluster = await Cluster.start({ name: 'sqs-sdk', args: ['--sqs-open'] });
  const leader = await cluster.waitForLeader();
  const follower = cluster.ids.find((id) => id !== leader.id)!;
  clients.leader = client(cluster.node(leader.id).httpPort);
  clients.follower = client(cluster.node(follower).httpPort);
}, 60_000);

afterAll(async () => {
  for (const c of Object.values(clients)) c.destroy();
  await cluster?.stopAll();
});

/** Receives until `n` messages arrived (long polls of up to 2 s). */
async function receiveN(sqs: SQSClient, url: string, n: number, extra: Partial<ConstructorParameters<typeof ReceiveMessageCommand>[0]> = {}): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < 20 && out.length < n; i++) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, ...extra }));
    out.push(...(r.Messages ?? []));
  }
  return out;
}

describe.each(['leader', 'follower'] as const)('the AWS SDK v3 through the %s', { timeout: 120_000 }, (via) => {
  const name = (base: string): string => `${base}-${via}`;

  test('queues: create, url, list with pagination, attributes, tags, purge, delete', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const sqs = clients[via];
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name('jobs'), Attributes: { VisibilityTimeout: '45', DelaySeconds: '0', MessageRetentionPeriod: '3600' }, tags: { team: 'core' } }));
    expect(created.QueueUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/000000000000/${name('jobs')}$`));
    // Identical attributes: the same URL; different ones: QueueNameExists.
    expect((await sqs.send(new CreateQueueCommand({ QueueName: name('jobs'), Attributes: { VisibilityTimeout: '45', MessageRetentionPeriod: '3600' } }))).QueueUrl).toBe(created.QueueUrl);
    await expect(sqs.send(new CreateQueueCommand({ QueueName: name('jobs'), Attributes: { VisibilityTimeout: '46' } }))).rejects.toBeInstanceOf(QueueNameExists);
    const url = created.QueueUrl!;
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: name('jobs') }))).QueueUrl).toBe(url);
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: name('absent') }))).rejects.toBeInstanceOf(QueueDoesNotExist);

    for (const i of [1, 2, 3, 4]) await sqs.send(new CreateQueueCommand({ QueueName: name(`page${i}`) }));
    const pages: string[] = [];
    let token: string | undefined;
    do {
      const r = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'page', MaxResults: 3, ...(token !== undefined ? { NextToken: token } : {}) }));
      pages.push(...(r.QueueUrls ?? []).filter((u) => u.endsWith(via)).map((u) => u.split('/').pop()!));
      token = r.NextToken;
    } while (token !== undefined);
    expect(pages).toEqual([1, 2, 3, 4].map((i) => name(`page${i}`)));

    const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes!;
    expect(attrs).toMatchObject({ VisibilityTimeout: '45', MessageRetentionPeriod: '3600', DelaySeconds: '0', MaximumMessageSize: '262144', ApproximateNumberOfMessages: '0', QueueArn: `arn:aws:sqs:us-east-1:000000000000:${name('jobs')}` });
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: '10', ReceiveMessageWaitTimeSeconds: '1' } }));
    const some = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['VisibilityTimeout', 'ReceiveMessageWaitTimeSeconds'] }))).Attributes;
    expect(some).toEqual({ VisibilityTimeout: '10', ReceiveMessageWaitTimeSeconds: '1' });

    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags).toEqual({ team: 'core' });
    await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { env: 'test', team: 'queues' } }));
    await sqs.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: ['env'] }));
    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags).toEqual({ team: 'queues' });

    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'to purge' }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    expect((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes).toEqual({ ApproximateNumberOfMessages: '0' });
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    await expect(sqs.send(new GetQueueAttributesCommand({ QueueUrl: url }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(sqs.send(new AddPermissionCommand({ QueueUrl: url, Label: 'x', AWSAccountIds: ['1'], Actions: ['*'] }))).rejects.toBeInstanceOf(UnsupportedOperation);
  });

  test('messages: typed attributes and their MD5s, system attributes, long poll, batches, delete, visibility', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const sqs = clients[via];
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: name('msgs') }))).QueueUrl!;
    const before = Date.now();
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'héllo\twörld',
        MessageAttributes: {
          color: { DataType: 'String', StringValue: 'red' },
          count: { DataType: 'Number', StringValue: '42.5' },
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 2, 255]) },
          doc: { DataType: 'String.json', StringValue: '{"a":1}' },
        },
      }),
    );
    expect(sent.MessageId).toBeTruthy();
    const [m] = await receiveN(sqs, url, 1, { MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'], VisibilityTimeout: 30 });
    expect(m!.Body).toBe('héllo\twörld');
    expect(m!.MessageId).toBe(sent.MessageId);
    expect(m!.MessageAttributes!['color']).toEqual({ DataType: 'String', StringValue: 'red' });
    expect(m!.MessageAttributes!['count']).toEqual({ DataType: 'Number', StringValue: '42.5' });
    expect([...m!.MessageAttributes!['blob']!.BinaryValue!]).toEqual([0, 1, 2, 255]);
    expect(m!.MessageAttributes!['doc']).toEqual({ DataType: 'String.json', StringValue: '{"a":1}' });
    expect(m!.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    const sys = m!.Attributes!;
    expect(sys['ApproximateReceiveCount']).toBe('1');
    expect(Number(sys['SentTimestamp'])).toBeGreaterThanOrEqual(before - 60_000);
    expect(Number(sys['ApproximateFirstReceiveTimestamp'])).toBeGreaterThanOrEqual(Number(sys['SentTimestamp']));
    // Only the attributes asked for.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle!, VisibilityTimeout: 0 }));
    const [again] = await receiveN(sqs, url, 1, { MessageAttributeNames: ['color'], MessageSystemAttributeNames: ['ApproximateReceiveCount'] });
    expect(Object.keys(again!.MessageAttributes!)).toEqual(['color']);
    expect(again!.Attributes).toEqual({ ApproximateReceiveCount: '2' });
    // The superseded receipt deletes nothing (SQS semantics); the new one deletes.
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle! }));
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: again!.ReceiptHandle! }));
    await expect(sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'not-a-receipt' }))).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);

    // A long poll waiting when the message is sent returns it.
    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }));
    await new Promise((r) => setTimeout(r, 300));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' }));
    const polled = await polling;
    expect(polled.Messages?.map((x) => x.Body)).toEqual(['late']);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: polled.Messages![0]!.ReceiptHandle! }));

    // A batch: one bad entry fails alone.
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'bad', MessageBody: 'two', MessageAttributes: { 'AWS.reserved': { DataType: 'String', StringValue: 'x' } } },
          { Id: 'c', MessageBody: 'three', DelaySeconds: 0 },
        ],
      }),
    );
    expect(batch.Successful!.map((e) => e.Id).sort()).toEqual(['a', 'c']);
    expect(batch.Failed).toEqual([expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'InvalidParameterValue' })]);
    const got = await receiveN(sqs, url, 2);
    expect(got.map((x) => x.Body).sort()).toEqual(['one', 'three']);
    const vis = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'x', ReceiptHandle: got[0]!.ReceiptHandle!, VisibilityTimeout: 120 },
          { Id: 'y', ReceiptHandle: 'garbage', VisibilityTimeout: 10 },
        ],
      }),
    );
    expect(vis.Successful!.map((e) => e.Id)).toEqual(['x']);
    expect(vis.Failed).toEqual([expect.objectContaining({ Id: 'y', Code: 'ReceiptHandleIsInvalid' })]);
    const del = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'p', ReceiptHandle: got[0]!.ReceiptHandle! },
          { Id: 'q', ReceiptHandle: got[1]!.ReceiptHandle! },
          { Id: 'r', ReceiptHandle: 'garbage' },
        ],
      }),
    );
    expect(del.Successful!.map((e) => e.Id).sort()).toEqual(['p', 'q']);
    expect(del.Failed!.map((e) => e.Id)).toEqual(['r']);
    const left = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(left.Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  test('FIFO: content-based deduplication, groups in order, sequence numbers, receive attempts', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const sqs = clients[via];
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: name('orders') + '.fifo', Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } }))).QueueUrl!;
    const first = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'o1', MessageGroupId: 'g' }));
    const dup = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'o1', MessageGroupId: 'g' }));
    expect(dup.MessageId).toBe(first.MessageId);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'o2', MessageGroupId: 'g', MessageDeduplicationId: 'explicit-2' }));
    // As in SQS: one receive returns several messages of a group, in order.
    const r1 = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, ReceiveRequestAttemptId: 'attempt-1', MessageSystemAttributeNames: ['All'] }));
    expect(r1.Messages!.map((m) => m.Body)).toEqual(['o1', 'o2']);
    expect(r1.Messages![0]!.Attributes).toMatchObject({ MessageGroupId: 'g', MessageDeduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(r1.Messages![1]!.Attributes).toMatchObject({ MessageGroupId: 'g', MessageDeduplicationId: 'explicit-2' });
    expect(BigInt(r1.Messages![1]!.Attributes!['SequenceNumber']!)).toBeGreaterThan(BigInt(r1.Messages![0]!.Attributes!['SequenceNumber']!));
    // A retried attempt gets the same deliveries (same receipts), not the next ones.
    const r2 = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, ReceiveRequestAttemptId: 'attempt-1', MessageSystemAttributeNames: ['All'] }));
    expect(r2.Messages!.map((m) => m.ReceiptHandle)).toEqual(r1.Messages!.map((m) => m.ReceiptHandle));
    // The group is blocked while any of its messages is in flight, even after its first is deleted.
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'o3', MessageGroupId: 'g' }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }))).Messages).toBeUndefined();
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: r1.Messages![0]!.ReceiptHandle! }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }))).Messages).toBeUndefined();
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: r1.Messages![1]!.ReceiptHandle! }));
    const r3 = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
    expect(r3.Messages!.map((m) => m.Body)).toEqual(['o3']);
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'no group' }))).rejects.toMatchObject({ name: 'MissingParameter' });
  });

  test('dead letters: redrive policy, source queues, message move tasks', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const sqs = clients[via];
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name('dlq'), Attributes: { RedriveAllowPolicy: JSON.stringify({ redrivePermission: 'allowAll' }) } }))).QueueUrl!;
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
    const srcUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name('work'), Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) } }))).QueueUrl!;
    const policy = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: srcUrl, AttributeNames: ['RedrivePolicy'] }))).Attributes!['RedrivePolicy']!;
    expect(JSON.parse(policy)).toEqual({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 });
    expect((await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }))).queueUrls).toEqual([srcUrl]);
    await sqs.send(new SendMessageCommand({ QueueUrl: srcUrl, MessageBody: 'poison' }));
    await receiveN(sqs, srcUrl, 1, { VisibilityTimeout: 0 });
    // The second receive finds it past maxReceiveCount: it moves to the dead-letter queue.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl, WaitTimeSeconds: 1 }))).Messages).toBeUndefined();
    const inDlq = await receiveN(sqs, dlqUrl, 1, { VisibilityTimeout: 0 });
    expect(inDlq.map((m) => m.Body)).toEqual(['poison']);
    const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    expect(task.TaskHandle).toBeTruthy();
    const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    expect(tasks.Results).toEqual([expect.objectContaining({ TaskHandle: task.TaskHandle, Status: 'COMPLETED', SourceArn: dlqArn, ApproximateNumberOfMessagesMoved: 1 })]);
    await expect(sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: task.TaskHandle! }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    const back = await receiveN(sqs, srcUrl, 1);
    expect(back.map((m) => m.Body)).toEqual(['poison']);
    // A move task to a named destination takes the dead letters there instead.
    const elsewhere = (await sqs.send(new CreateQueueCommand({ QueueName: name('elsewhere') }))).QueueUrl!;
    const elsewhereArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: elsewhere, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: srcUrl, ReceiptHandle: back[0]!.ReceiptHandle!, VisibilityTimeout: 0 }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl, WaitTimeSeconds: 1 }))).Messages).toBeUndefined();
    expect((await receiveN(sqs, dlqUrl, 1, { VisibilityTimeout: 0 })).map((m) => m.Body)).toEqual(['poison']);
    const toElsewhere = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: elsewhereArn }));
    expect((await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }))).Results).toEqual([
      expect.objectContaining({ TaskHandle: toElsewhere.TaskHandle, DestinationArn: elsewhereArn, ApproximateNumberOfMessagesMoved: 1 }),
    ]);
    expect((await receiveN(sqs, elsewhere, 1)).map((m) => m.Body)).toEqual(['poison']);
    // Clearing the redrive policy.
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: srcUrl, Attributes: { RedrivePolicy: '' } }));
    expect((await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }))).queueUrls).toEqual([]);
  });
});
