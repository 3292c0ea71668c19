/**
 * The aws CLI and boto3 shipped by Debian (`awscli`, `python3-boto3`; `.ci/run` installs them)
 * against a three-node cluster, unchanged: they speak SQS's query protocol (form requests, XML
 * answers) at those versions. Through the leader and through a follower.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { Cluster } from '../integration/cluster-harness.js';

const run = promisify(execFile);
const awsCli = '/usr/bin/aws';
const debianPython = '/usr/bin/python3';
const home = mkdtempSync(join(tmpdir(), 'raftq-awscli-'));
const env = {
  PATH: '/usr/bin:/bin',
  HOME: home,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_PAGER: '',
  AWS_CONFIG_FILE: join(home, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
};

let cluster: Cluster;
const endpoints: Record<'leader' | 'follower', string> = { leader: '', follower: '' };

beforeAll(async () => {
  for (const p of [awsCli, debianPython]) {
    if (!existsSync(p)) throw new Error(`${p} is missing: .ci/run installs Debian's awscli and python3-boto3 (apt-get install awscli python3-boto3)`);
  }
  cluster = await Cluster.start({ name: 'sqs-cli', args: ['--sqs-open'] });
  const leader = await cluster.waitForLeader();
  endpoints.leader = `http://127.0.0.1:${cluster.node(leader.id).httpPort}`;
  endpoints.follower = `http://127.0.0.1:${cluster.node(cluster.ids.find((id) => id !== leader.id)!).httpPort}`;
}, 60_000);

afterAll(async () => {
  await cluster?.stopAll();
});

/** Runs `aws sqs <args>` against `endpoint`; returns its parsed JSON output ({} when none). */
async function aws(endpoint: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(awsCli, ['--endpoint-url', endpoint, '--output', 'json', 'sqs', ...args], { env, timeout: 60_000 });
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

describe.each(['leader', 'follower'] as const)('Debian clients through the %s', { timeout: 120_000 }, (via) => {
  test('aws CLI: create, send, receive, delete, attributes, a FIFO queue', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const ep = endpoints[via];
    const { stdout: version } = await run(awsCli, ['--version'], { env });
    expect(version).toMatch(/aws-cli\/2\.9\./);
    const url = (await aws(ep, 'create-queue', '--queue-name', `cli-${via}`, '--attributes', 'VisibilityTimeout=40'))['QueueUrl'] as string;
    expect(url).toMatch(new RegExp(`/000000000000/cli-${via}$`));
    expect((await aws(ep, 'get-queue-url', '--queue-name', `cli-${via}`))['QueueUrl']).toBe(url);
    expect(((await aws(ep, 'list-queues', '--queue-name-prefix', `cli-${via}`))['QueueUrls'] as string[]).length).toBe(1);
    await aws(ep, 'set-queue-attributes', '--queue-url', url, '--attributes', 'DelaySeconds=0,MessageRetentionPeriod=7200');
    const attrs = (await aws(ep, 'get-queue-attributes', '--queue-url', url, '--attribute-names', 'All'))['Attributes'] as Record<string, string>;
    expect(attrs).toMatchObject({ VisibilityTimeout: '40', MessageRetentionPeriod: '7200', DelaySeconds: '0' });
    const sent = await aws(ep, 'send-message', '--queue-url', url, '--message-body', 'hello from the cli', '--message-attributes', '{"k":{"DataType":"String","StringValue":"v"}}');
    expect(sent['MD5OfMessageBody']).toBe(createHash('md5').update('hello from the cli').digest('hex'));
    const got = (await aws(ep, 'receive-message', '--queue-url', url, '--wait-time-seconds', '5', '--attribute-names', 'All', '--message-attribute-names', 'All'))['Messages'] as Array<Record<string, unknown>>;
    expect(got.map((m) => m['Body'])).toEqual(['hello from the cli']);
    expect(got[0]!['MessageAttributes']).toEqual({ k: { DataType: 'String', StringValue: 'v' } });
    expect(got[0]!['MessageId']).toBe(sent['MessageId']);
    await aws(ep, 'delete-message', '--queue-url', url, '--receipt-handle', got[0]!['ReceiptHandle'] as string);
    const left = (await aws(ep, 'get-queue-attributes', '--queue-url', url, '--attribute-names', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'))['Attributes'];
    expect(left).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });

    const fifo = (await aws(ep, 'create-queue', '--queue-name', `cli-${via}.fifo`, '--attributes', 'FifoQueue=true,ContentBasedDeduplication=true'))['QueueUrl'] as string;
    const a = await aws(ep, 'send-message', '--queue-url', fifo, '--message-body', 'first', '--message-group-id', 'g');
    const b = await aws(ep, 'send-message', '--queue-url', fifo, '--message-body', 'first', '--message-group-id', 'g');
    expect(b['MessageId']).toBe(a['MessageId']);
    await aws(ep, 'send-message', '--queue-url', fifo, '--message-body', 'second', '--message-group-id', 'g');
    // Receive and delete until both came: in send order, with their group.
    const fm: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 10 && fm.length < 2; i++) {
      const batch = ((await aws(ep, 'receive-message', '--queue-url', fifo, '--max-number-of-messages', '10', '--attribute-names', 'All'))['Messages'] ?? []) as Array<Record<string, unknown>>;
      for (const m of batch) await aws(ep, 'delete-message', '--queue-url', fifo, '--receipt-handle', m['ReceiptHandle'] as string);
      fm.push(...batch);
    }
    expect(fm.map((m) => m['Body'])).toEqual(['first', 'second']);
    expect((fm[0]!['Attributes'] as Record<string, string>)['MessageGroupId']).toBe('g');
    await aws(ep, 'delete-queue', '--queue-url', fifo);
    await aws(ep, 'delete-queue', '--queue-url', url);
    // A missing queue: the CLI reports SQS's error code and exits non-zero.
    const missing = await aws(ep, 'get-queue-url', '--queue-name', `absent-${via}`).then(
      () => undefined,
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    expect(missing).toMatch(/NonExistentQueue|QueueDoesNotExist/);
  });

  test('boto3: create, send, receive, delete, attributes, batches, a FIFO queue', async () => {
    onTestFailed(() => console.error(cluster.logTails()));
    const script = join(import.meta.dirname, 'boto3_smoke.py');
    const { stdout } = await run(debianPython, [script, endpoints[via], via], { env, timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out).toMatchObject({ ok: true, missingQueue: 'QueueDoesNotExist' });
    expect(String(out['botocore'])).toMatch(/^1\.29\./);
  });
});
