/**
 * The shared semantic suite of the queue operations (issue 17 item 5): every operation runs
 * through both protocols, HTTP JSON and binary, against one real node, and must have the same
 * outcome, errors included. Each protocol is an adapter (semantics-adapters.ts) that turns the
 * same call into its own request and its answer back into one normalized shape; the tests are
 * written once and run for each adapter. The last block shuts the node down under a waiting
 * long poll, once per protocol.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster } from '../integration/cluster-harness.js';
import { ApiCallError, binaryApi, httpApi, type SemanticApi } from './semantics-adapters.js';

let cluster: Cluster;
/** The node every call goes to (the only one: it leads). */
const nodeId = 'n1';

const apis: ReadonlyArray<() => SemanticApi> = [() => httpApi(cluster, nodeId), () => binaryApi(cluster, nodeId)];

/** The code a call fails with; fails the test when the call succeeds. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiCallError) return e.code;
    throw e;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  cluster = await Cluster.start({ name: 'api-semantics', size: 1, logLevel: 'warn' });
});

afterAll(async () => {
  await cluster?.stopAll();
});

describe.each(apis.map((make, i) => ({ name: i === 0 ? 'http' : 'binary', make })))('$name', ({ name, make }) => {
  const q = (suffix: string): string => `${name}-${suffix}`;
  let api: SemanticApi;
  beforeAll(() => {
    api = make();
  });

  test('create, get, list, purge and delete a queue', async () => {
    const created = await api.createQueue(q('life'), { visibilityTimeoutMs: 10_000 });
    expect(created).toMatchObject({ name: q('life'), attributes: { visibilityTimeoutMs: 10_000 }, stats: { visible: 0, inFlight: 0, delayed: 0 } });
    expect(await api.createQueue(q('life'), { visibilityTimeoutMs: 10_000 })).toMatchObject({ name: q('life') });
    expect(await api.getQueue(q('life'))).toMatchObject({ name: q('life'), attributes: { visibilityTimeoutMs: 10_000 } });
    expect(await api.listQueues()).toContain(q('life'));
    await api.enqueue(q('life'), ['a', 'b']);
    expect(await api.getQueue(q('life'))).toMatchObject({ stats: { visible: 2 } });
    expect(await api.purgeQueue(q('life'))).toEqual({ purgedMessages: 2 });
    await api.enqueue(q('life'), ['c']);
    expect(await api.deleteQueue(q('life'))).toEqual({ deletedMessages: 1 });
    expect(await codeOf(api.getQueue(q('life')))).toBe('QUEUE_NOT_FOUND');
    expect(await api.listQueues()).not.toContain(q('life'));
  });

  test('set attributes (binary only: HTTP API v1 has no route for it)', async () => {
    if (api.setQueueAttributes === undefined) return;
    await api.createQueue(q('attrs'), {});
    expect(await api.setQueueAttributes(q('attrs'), { delayMs: 1000 })).toMatchObject({ attributes: { delayMs: 1000 } });
    expect(await codeOf(api.setQueueAttributes(q('absent'), { delayMs: 1000 }))).toBe('QUEUE_NOT_FOUND');
    expect(await codeOf(api.setQueueAttributes(q('attrs'), { delayMs: -1 }))).toBe('INVALID_ARGUMENT');
  });

  test('enqueue, receive, ack: a message is delivered once and gone after its ack', async () => {
    await api.createQueue(q('work'), {});
    const [id] = await api.enqueue(q('work'), ['hello']);
    const [m] = await api.receive(q('work'), { max: 10 });
    expect(m).toMatchObject({ id, body: 'hello', receiveCount: 1 });
    expect(await api.receive(q('work'), { max: 10 })).toEqual([]);
    expect(await api.ack(q('work'), m!.receipt)).toBe('deleted');
    expect(await api.getQueue(q('work'))).toMatchObject({ stats: { visible: 0, inFlight: 0 } });
  });

  test('nack and change visibility return a message; a superseded receipt is STALE_RECEIPT', async () => {
    await api.createQueue(q('vis'), {});
    await api.enqueue(q('vis'), ['x']);
    const [first] = await api.receive(q('vis'), { max: 1, visibilityTimeoutMs: 60_000 });
    expect(await api.nack(q('vis'), first!.receipt, undefined)).toBeTypeOf('string');
    const [second] = await api.receive(q('vis'), { max: 1, visibilityTimeoutMs: 60_000 });
    expect(second).toMatchObject({ id: first!.id, receiveCount: 2 });
    expect(await codeOf(api.nack(q('vis'), first!.receipt, undefined))).toBe('STALE_RECEIPT');
    expect(await codeOf(api.ack(q('vis'), first!.receipt))).toBe('STALE_RECEIPT');
    expect(await api.changeVisibility(q('vis'), second!.receipt, 0)).toBeTypeOf('string');
    const [third] = await api.receive(q('vis'), { max: 1 });
    expect(third).toMatchObject({ id: first!.id, receiveCount: 3 });
    expect(await codeOf(api.changeVisibility(q('vis'), second!.receipt, 0))).toBe('STALE_RECEIPT');
  });

  test('a receive with wait returns a message whose lease ran out, without waiting for housekeeping', async () => {
    await api.createQueue(q('lease'), {});
    const [id] = await api.enqueue(q('lease'), ['lease']);
    const [m] = await api.receive(q('lease'), { max: 1, visibilityTimeoutMs: 200 });
    expect(m).toMatchObject({ id, receiveCount: 1 });
    // The lease ends 200 ms in; housekeeping (the only entry that moves the state machine's
    // clock while the node is idle) runs every 5 s, so a long poll that waited for it would end
    // this 3 s wait empty in about half the runs. The shared long poll wakes at the lease's end.
    const again = await api.receive(q('lease'), { max: 1, waitMs: 3000 });
    expect(again).toMatchObject([{ id, receiveCount: 2 }]);
  });

  test('a receive with wait returns a delayed message once its delay ran out', async () => {
    await api.createQueue(q('delay'), { delayMs: 300 });
    const [id] = await api.enqueue(q('delay'), ['later']);
    expect(await api.receive(q('delay'), { max: 1 })).toEqual([]);
    expect(await api.receive(q('delay'), { max: 1, waitMs: 3000 })).toMatchObject([{ id, body: 'later', receiveCount: 1 }]);
  });

  test('a receive with wait wakes on an enqueue', async () => {
    await api.createQueue(q('wake'), {});
    const waiting = api.receive(q('wake'), { max: 1, waitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    const [id] = await api.enqueue(q('wake'), ['late']);
    expect(await waiting).toMatchObject([{ id, body: 'late' }]);
  });

  test('dead-lettering and redrive', async () => {
    await api.createQueue(q('dlq'), {});
    await api.createQueue(q('src'), { maxReceiveCount: 1, deadLetterQueue: q('dlq') });
    const [id] = await api.enqueue(q('src'), ['poison']);
    expect(await api.receive(q('src'), { max: 1, visibilityTimeoutMs: 100 })).toMatchObject([{ id }]);
    // Its lease runs out; the next receive finds it over its receive count and moves it.
    expect(await api.receive(q('src'), { max: 1, waitMs: 1500 })).toEqual([]);
    expect(await api.getQueue(q('dlq'))).toMatchObject({ stats: { visible: 1 } });
    const task = await api.redrive(q('dlq'));
    expect({ moved: task.moved, taskIndex: task.taskIndex > 0 }).toEqual({ moved: 1, taskIndex: true });
    expect(await api.receive(q('src'), { max: 1 })).toMatchObject([{ id, body: 'poison' }]);
  });

  test('QUEUE_NOT_FOUND on every queue operation', async () => {
    const absent = q('nowhere');
    const receipt = await receiptOfDeletedQueue(api, q('gone'));
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['getQueue', () => api.getQueue(absent)],
      ['deleteQueue', () => api.deleteQueue(absent)],
      ['purgeQueue', () => api.purgeQueue(absent)],
      ['enqueue', () => api.enqueue(absent, ['x'])],
      ['receive', () => api.receive(absent, { max: 1 })],
      ['receive with wait', () => api.receive(absent, { max: 1, waitMs: 5000 })],
      ['ack', () => api.ack(q('gone'), receipt)],
      ['nack', () => api.nack(q('gone'), receipt, undefined)],
      ['changeVisibility', () => api.changeVisibility(q('gone'), receipt, 0)],
      ['redrive', () => api.redrive(absent)],
    ];
    for (const [what, call] of calls) expect([what, await codeOf(call())]).toEqual([what, 'QUEUE_NOT_FOUND']);
  });

  test('INVALID_ARGUMENT for bad arguments, before any proposal or wait', async () => {
    await api.createQueue(q('bad'), {});
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['queue name', () => api.createQueue('no spaces allowed', {})],
      ['attribute out of range', () => api.createQueue(q('bad2'), { visibilityTimeoutMs: -1 })],
      ['receive max 0 while waiting on an empty queue', () => api.receive(q('bad'), { max: 0, waitMs: 20_000 })],
      ['visibility timeout out of range while waiting', () => api.receive(q('bad'), { max: 1, visibilityTimeoutMs: -5, waitMs: 20_000 })],
      ['waitMs beyond 20 s', () => api.receive(q('bad'), { max: 1, waitMs: 20_001 })],
      ['malformed receipt (ack)', () => api.ack(q('bad'), 'not-a-receipt')],
      ['malformed receipt (nack)', () => api.nack(q('bad'), 'not-a-receipt', undefined)],
      ['negative nack delay', () => api.nack(q('bad'), 'not-a-receipt', -1)],
    ];
    for (const [what, call] of bad) expect([what, await codeOf(call())]).toEqual([what, 'INVALID_ARGUMENT']);
    // Far below the 20 s waits above: a receive that waited before validating fails by timeout.
  }, 10_000);

  test('the cluster view names the leader', async () => {
    expect(await api.cluster()).toEqual({ id: nodeId, leader: nodeId, nodes: [nodeId] });
  });
});

/** A receipt of a message in queue `name`, which is then deleted. */
async function receiptOfDeletedQueue(api: SemanticApi, name: string): Promise<string> {
  await api.createQueue(name, {});
  await api.enqueue(name, ['x']);
  const [m] = await api.receive(name, { max: 1 });
  await api.deleteQueue(name);
  return m!.receipt;
}

describe('shutdown under a long poll', () => {
  test.each([
    { name: 'http', make: apis[0]! },
    { name: 'binary', make: apis[1]! },
  ])('$name: a waiting receive ends when the node shuts down', async ({ name, make }) => {
    await cluster.waitForLeader();
    const api = make();
    await api.createQueue(`${name}-shutdown`, {});
    const waiting = api.receive(`${name}-shutdown`, { max: 1, waitMs: 20_000 });
    const settled = waiting.then(
      (messages) => ({ messages }),
      (e: unknown) => ({ error: e instanceof ApiCallError ? e.code : String(e) }),
    );
    await new Promise((r) => setTimeout(r, 300));
    await cluster.kill(nodeId, 'SIGTERM');
    // Long before the 20 s wait would end: the receive ends with one last (empty) receive.
    const outcome = await Promise.race([settled, new Promise((r) => setTimeout(() => r('still waiting'), 8000))]);
    expect(outcome).toEqual({ messages: [] });
    await cluster.restart(nodeId);
    await cluster.waitForLeader();
  });
});
