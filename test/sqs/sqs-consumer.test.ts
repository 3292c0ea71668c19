/**
 * sqs-producer and sqs-consumer (npm), unchanged, processing a queue end to end through a
 * follower while the leader is killed with SIGKILL: every message the producer got
 * acknowledged is handled, and no message comes back after the consumer's delete of its
 * delivery succeeded (no delete lost, so no message is deleted twice).
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { Producer } from 'sqs-producer';
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster, waitFor } from '../integration/cluster-harness.js';

describe('sqs-consumer and sqs-producer across a leader kill -9', { timeout: 180_000 }, () => {
  let cluster: Cluster;
  let sqs: SQSClient;

  beforeAll(async () => {
    cluster = await Cluster.start({ name: 'sqs-consumer', args: ['--sqs-open'] });
  }, 60_000);

  afterAll(async () => {
    sqs?.destroy();
    await cluster?.stopAll();
  });

  test('nothing acknowledged is lost, nothing deleted comes back', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    sqs = new SQSClient({ endpoint: `http://127.0.0.1:${cluster.node(follower).httpPort}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 8 });
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'consumed', Attributes: { VisibilityTimeout: '20' } }))).QueueUrl!;

    const total = 400;
    const acked = new Set<string>();
    const handled = new Map<string, number>();
    const lastReceipt = new Map<string, string>();
    const deletedReceipt = new Map<string, string>();
    const resurrected: string[] = [];
    const errors: string[] = [];

    const consumer = Consumer.create({
      queueUrl,
      sqs,
      batchSize: 10,
      waitTimeSeconds: 1,
      visibilityTimeout: 20,
      handleMessage: async (m: Message) => {
        handled.set(m.Body!, (handled.get(m.Body!) ?? 0) + 1);
        return m;
      },
    });
    consumer.on('message_received', (m: Message) => {
      const gone = deletedReceipt.get(m.MessageId!);
      if (gone !== undefined && gone !== m.ReceiptHandle) resurrected.push(`${m.MessageId} (${m.Body})`);
      lastReceipt.set(m.MessageId!, m.ReceiptHandle!);
    });
    consumer.on('message_processed', (m: Message) => deletedReceipt.set(m.MessageId!, m.ReceiptHandle!));
    consumer.on('error', (e: Error) => errors.push(e.message));
    consumer.on('processing_error', (e: Error) => errors.push(e.message));
    consumer.start();

    const producer = Producer.create({ queueUrl, sqs, batchSize: 10 });
    let killed = false;
    let ackedAtKill = -1;
    for (let from = 0; from < total; from += 50) {
      const bodies = Array.from({ length: 50 }, (_, i) => `m-${from + i}`);
      let pending = bodies;
      for (let attempt = 0; pending.length > 0; attempt++) {
        expect(attempt, `sending ${pending.join(',')}`).toBeLessThan(20);
        try {
          await producer.send(pending.map((b) => ({ id: b, body: b })));
          pending.forEach((b) => acked.add(b));
          pending = [];
        } catch (e) {
          // FailedMessagesError names the entries to send again; anything else: all of them.
          const failed = (e as { failedMessages?: string[] }).failedMessages;
          const again = new Set(failed ?? pending);
          pending.filter((b) => !again.has(b)).forEach((b) => acked.add(b));
          pending = pending.filter((b) => again.has(b));
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      if (!killed && handled.size >= total / 4) {
        killed = true;
        ackedAtKill = acked.size;
        await cluster.kill(leader.id, 'SIGKILL');
      }
    }
    // The kill came while the producer still had messages to send and the consumer to handle.
    expect(ackedAtKill).toBeGreaterThan(0);
    expect(ackedAtKill).toBeLessThan(total);
    await waitFor('every acknowledged message handled', () => [...acked].every((b) => handled.has(b)), 90_000, 200);
    // Deleted is deleted: with the consumer caught up, nothing is left in the queue (visible or leased).
    await waitFor('the queue drained', async () => {
      const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
      return a['ApproximateNumberOfMessages'] === '0' && a['ApproximateNumberOfMessagesNotVisible'] === '0';
    }, 60_000, 200);
    consumer.stop({ abort: false });
    expect(acked.size).toBe(total);
    expect(resurrected, `messages delivered again after their delete succeeded; consumer errors: ${errors.slice(0, 5).join(' | ')}`).toEqual([]);
  });
});
