/**
 * Bad SQS input on the HTTP port, in both protocols: malformed JSON and forms, unknown actions,
 * wrong types, oversized bodies. Each gets an SQS-shaped error with a stable code (JSON
 * `__type` plus `x-amzn-query-error`, or an XML ErrorResponse), nothing is enqueued by a
 * refused request, and the node stays healthy. Also: a node with neither credentials nor the
 * open mode refuses SQS requests, and one with credentials checks SigV4 signatures.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster } from '../integration/cluster-harness.js';

let cluster: Cluster;
let base: string;
let queueUrl: string;

beforeAll(async () => {
  cluster = await Cluster.start({ name: 'sqs-bad', args: ['--sqs-open'] });
  const leader = await cluster.waitForLeader();
  base = `http://127.0.0.1:${cluster.node(cluster.ids.find((id) => id !== leader.id)!).httpPort}`;
  const sqs = new SQSClient({ endpoint: base, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'guarded' }))).QueueUrl!;
  sqs.destroy();
}, 60_000);

afterAll(async () => {
  await cluster?.stopAll();
});

/** A JSON-protocol request: status, error code (from __type) and the query-error header. */
async function jsonCall(target: string, body: string, contentType = 'application/x-amz-json-1.0'): Promise<{ status: number; code: string | undefined; queryError: string | null; message: unknown }> {
  const res = await fetch(base + '/', { method: 'POST', headers: { 'content-type': contentType, 'x-amz-target': `AmazonSQS.${target}` }, body });
  const json = (await res.json()) as { __type?: string; message?: unknown };
  return { status: res.status, code: json.__type?.split('#').pop(), queryError: res.headers.get('x-amzn-query-error'), message: json.message };
}

/** A query-protocol request: status and the XML error code. */
async function queryCall(form: string): Promise<{ status: number; code: string | undefined; xml: string }> {
  const res = await fetch(base + '/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const xml = await res.text();
  return { status: res.status, code: /<Code>([^<]*)<\/Code>/.exec(xml)?.[1], xml };
}

async function visible(): Promise<string> {
  const res = await fetch(base + '/', { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.GetQueueAttributes' }, body: JSON.stringify({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { Attributes: Record<string, string> }).Attributes['ApproximateNumberOfMessages']!;
}

describe('bad SQS input', { timeout: 60_000 }, () => {
  test('JSON protocol: SQS-shaped errors, nothing enqueued, node healthy', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const cases: Array<[string, string, string, number]> = [
      // target, body, expected code, status
      ['SendMessage', '{"QueueUrl": ', 'SerializationException', 400],
      ['SendMessage', '[1,2]', 'SerializationException', 400],
      ['FrobnicateQueue', '{}', 'UnsupportedOperation', 400],
      ['SendMessage', JSON.stringify({ QueueUrl: queueUrl }), 'MissingParameter', 400],
      ['SendMessage', JSON.stringify({ QueueUrl: queueUrl, MessageBody: 5 }), 'InvalidParameterValue', 400],
      ['SendMessage', JSON.stringify({ QueueUrl: queueUrl, MessageBody: 'x', DelaySeconds: 'soon' }), 'InvalidParameterValue', 400],
      ['SendMessage', JSON.stringify({ QueueUrl: queueUrl, MessageBody: 'x', DelaySeconds: 901 }), 'InvalidParameterValue', 400],
      ['SendMessage', JSON.stringify({ QueueUrl: queueUrl, MessageBody: 'bad \u0000 char' }), 'InvalidMessageContents', 400],
      ['SendMessage', JSON.stringify({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(262_145) }), 'InvalidParameterValue', 400],
      ['SendMessage', JSON.stringify({ QueueUrl: `${base}/123456789012/guarded`, MessageBody: 'x' }), 'QueueDoesNotExist', 400],
      ['SendMessage', JSON.stringify({ QueueUrl: 'not a url', MessageBody: 'x' }), 'InvalidAddress', 404],
      ['ReceiveMessage', JSON.stringify({ QueueUrl: queueUrl, MaxNumberOfMessages: 11 }), 'InvalidParameterValue', 400],
      ['SendMessageBatch', JSON.stringify({ QueueUrl: queueUrl, Entries: [] }), 'EmptyBatchRequest', 400],
      ['SendMessageBatch', JSON.stringify({ QueueUrl: queueUrl, Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' })) }), 'TooManyEntriesInBatchRequest', 400],
      ['SendMessageBatch', JSON.stringify({ QueueUrl: queueUrl, Entries: [{ Id: 'a', MessageBody: 'x' }, { Id: 'a', MessageBody: 'y' }] }), 'BatchEntryIdsNotDistinct', 400],
      ['DeleteMessage', JSON.stringify({ QueueUrl: queueUrl, ReceiptHandle: 'forged' }), 'ReceiptHandleIsInvalid', 404],
      ['CreateQueue', JSON.stringify({ QueueName: 'has space' }), 'InvalidParameterValue', 400],
      ['CreateQueue', JSON.stringify({ QueueName: 'attrs', Attributes: { Bogus: '1' } }), 'InvalidAttributeName', 400],
      ['CreateQueue', JSON.stringify({ QueueName: 'attrs', Attributes: { VisibilityTimeout: '-1' } }), 'InvalidAttributeValue', 400],
    ];
    for (const [target, body, code, status] of cases) {
      const r = await jsonCall(target, body);
      expect({ target, body: body.slice(0, 60), status: r.status, code: r.code }).toEqual({ target, body: body.slice(0, 60), status, code });
      expect(r.queryError, `${target} ${body.slice(0, 60)}`).toMatch(/;Sender$/);
      expect(typeof r.message).toBe('string');
    }
    expect(await visible()).toBe('0');
    expect((await fetch(base + '/health')).status).toBe(200);
    // Requests are counted by action; a client-chosen unknown name is not a label.
    const metrics = await (await fetch(base + '/metrics')).text();
    expect(metrics).toMatch(/raftq_http_requests_total\{route="sqs:SendMessage",status="400"[^}]*\} \d+/);
    expect(metrics).toMatch(/route="sqs:unsupported"/);
    expect(metrics).not.toMatch(/Frobnicate/);
  });

  test('a request above the body limit is refused without being read whole', async () => {
    const r = await jsonCall('SendMessage', JSON.stringify({ QueueUrl: queueUrl, MessageBody: 'y'.repeat(9 << 20) }));
    expect(r.status).toBe(413);
    expect(await visible()).toBe('0');
  });

  test('query protocol: XML errors for bad forms, unknown actions, wrong types', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const q = encodeURIComponent(queueUrl);
    const cases: Array<[string, string]> = [
      ['Action=Frobnicate&Version=2012-11-05', 'AWS.SimpleQueueService.UnsupportedOperation'],
      [`Action=SendMessage&Version=2012-11-05&QueueUrl=${q}`, 'MissingParameter'],
      [`Action=ReceiveMessage&Version=2012-11-05&QueueUrl=${q}&MaxNumberOfMessages=lots`, 'InvalidParameterValue'],
      [`Action=GetQueueUrl&Version=2012-11-05&QueueName=absent`, 'AWS.SimpleQueueService.NonExistentQueue'],
    ];
    for (const [form, code] of cases) {
      const r = await queryCall(form);
      expect({ form, status: r.status, code: r.code }).toEqual({ form, status: 400, code });
      expect(r.xml).toMatch(/^<\?xml|^<ErrorResponse/);
    }
    const noAction = await queryCall('Version=2012-11-05&QueueName=x');
    expect({ status: noAction.status, code: noAction.code }).toEqual({ status: 400, code: 'MissingAction' });
    const garbled = await queryCall('Action=%zz&&=');
    expect({ status: garbled.status, code: garbled.code }).toEqual({ status: 404, code: 'MalformedQueryString' });
    expect(await visible()).toBe('0');
    expect((await fetch(base + '/health')).status).toBe(200);
  });
});

describe('SQS authentication', { timeout: 60_000 }, () => {
  test('closed without credentials or --sqs-open; SigV4 checked against the credentials file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftq-sqs-keys-'));
    const keys = join(dir, 'keys.json');
    writeFileSync(keys, JSON.stringify([{ accessKeyId: 'AKIDRAFTQ', secretAccessKey: 'correct horse battery staple' }]));
    const closed = await Cluster.start({ name: 'sqs-closed', size: 1 });
    const signed = await Cluster.start({ name: 'sqs-signed', size: 1, args: ['--sqs-credentials-file', keys] });
    try {
      const at = (c: Cluster, accessKeyId: string, secretAccessKey: string): SQSClient =>
        new SQSClient({ endpoint: `http://127.0.0.1:${c.node(c.ids[0]!).httpPort}`, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
      await expect(at(closed, 'AKIDRAFTQ', 'correct horse battery staple').send(new ListQueuesCommand({}))).rejects.toMatchObject({ name: 'MissingAuthenticationToken' });
      const good = at(signed, 'AKIDRAFTQ', 'correct horse battery staple');
      const url = (await good.send(new CreateQueueCommand({ QueueName: 'signed' }))).QueueUrl!;
      expect((await good.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes).toEqual({ QueueArn: 'arn:aws:sqs:us-east-1:000000000000:signed' });
      await expect(at(signed, 'AKIDRAFTQ', 'wrong secret').send(new ListQueuesCommand({}))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
      await expect(at(signed, 'AKIDOTHER', 'correct horse battery staple').send(new ListQueuesCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
      const unsigned = await fetch(`http://127.0.0.1:${signed.node(signed.ids[0]!).httpPort}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' }, body: '{}' });
      expect(unsigned.status).toBe(403);
    } finally {
      await closed.stopAll();
      await signed.stopAll();
    }
  });
});
