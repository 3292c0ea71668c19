/**
 * Fuzz target 2b, the SQS action layer and "no change of state": every SQS action raftq serves
 * (src/api/sqs/sqs-service.ts sqsActions, through the real op layer queue-ops.ts and
 * long-poll-receive.ts) runs on fuzzed inputs against a real QueueStateMachine over a
 * MemoryStateStore (test/queue/harness.ts). The node is faked in process: a proposal is
 * decoded and applied to the harness at once, as a one-node cluster's leader would. Checked:
 * - an action ends with a result or an SqsError / client-side RaftqError (never a TypeError,
 *   never an InternalFailure);
 * - every command the state machine refuses leaves the store's keyspace byte for byte as it was;
 * - an action that fails as a whole leaves the store as it was.
 * Not covered: HTTP sockets, Raft replication, followers forwarding (a whole-node check).
 * Seed and case count: test/fuzz/fuzz-config.ts (RAFTQ_FUZZ_SEED, RAFTQ_FUZZ_RUNS).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QueueOpsContext } from '../../src/api/queue-ops.js';
import type { SqsContext } from '../../src/api/sqs/sqs-context.js';
import { toSqsError } from '../../src/api/sqs/sqs-error-map.js';
import { SqsError } from '../../src/api/sqs/sqs-errors.js';
import { ReceiveAttempts } from '../../src/api/sqs/sqs-receive-attempts.js';
import { parseSqsCall } from '../../src/api/sqs/sqs-request.js';
import { sqsActions } from '../../src/api/sqs/sqs-service.js';
import { RaftqError } from '../../src/errors.js';
import type { Harness } from '../queue/harness.js';
import { fakeNode, setUpQueues, stopped, type Watch } from './fake-node.js';
import { fuzzOptions, fuzzTimeoutMs, Outcomes } from './fuzz-config.js';
import { actionNames, identity, jsonInput, sqsRequest } from './sqs-fuzz-inputs.js';

/** The SQS context of one case: the op layer over `h` (fake-node.ts), long polls ended from the start. */
function contextOver(h: Harness, watch: Watch): SqsContext {
  const ops: QueueOpsContext = fakeNode(h, watch);
  return { ops, id: identity, baseUrl: 'http://localhost:9324', stop: stopped(), attempts: new ReceiveAttempts() };
}

const url = (q: string): string => `http://localhost:9324/${identity.accountId}/${q}`;

/** Inputs each action accepts as they are (so the accepting paths are reached too). */
const valid: fc.Arbitrary<{ action: string; input: Record<string, unknown> }> = fc.oneof(
  fc.record({ action: fc.constant('SendMessage'), input: fc.record({ QueueUrl: fc.constant(url('jobs')), MessageBody: fc.string({ minLength: 1, maxLength: 8 }), MessageAttributes: fc.constant({ a: { DataType: 'Number', StringValue: '1' } }) }, { requiredKeys: ['QueueUrl', 'MessageBody'] }) }),
  fc.record({ action: fc.constant('SendMessage'), input: fc.record({ QueueUrl: fc.constant(url('orders.fifo')), MessageBody: fc.constant('x'), MessageGroupId: fc.constant('g'), MessageDeduplicationId: fc.string({ minLength: 1, maxLength: 4 }) }) }),
  fc.record({ action: fc.constant('SendMessageBatch'), input: fc.record({ QueueUrl: fc.constant(url('jobs')), Entries: fc.constant([{ Id: 'a', MessageBody: 'x' }, { Id: 'b', MessageBody: 'y', DelaySeconds: 5 }]) }) }),
  fc.record({ action: fc.constant('ReceiveMessage'), input: fc.record({ QueueUrl: fc.constantFrom(url('jobs'), url('orders.fifo')), MaxNumberOfMessages: fc.integer({ min: 1, max: 10 }), VisibilityTimeout: fc.integer({ min: 0, max: 60 }), MessageAttributeNames: fc.constant(['All']) }, { requiredKeys: ['QueueUrl'] }) }),
  fc.record({ action: fc.constant('CreateQueue'), input: fc.record({ QueueName: fc.constantFrom('new-q', 'jobs', 'dlq'), Attributes: fc.constantFrom({}, { VisibilityTimeout: '40' }, { DelaySeconds: '1' }) }) }),
  fc.record({ action: fc.constant('SetQueueAttributes'), input: fc.record({ QueueUrl: fc.constant(url('jobs')), Attributes: fc.constantFrom({ VisibilityTimeout: '40' }, { MaximumMessageSize: '2048' }, { RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":5}' }) }) }),
  fc.record({ action: fc.constant('GetQueueAttributes'), input: fc.record({ QueueUrl: fc.constantFrom(url('jobs'), url('orders.fifo')), AttributeNames: fc.constant(['All']) }) }),
  fc.record({ action: fc.constantFrom('DeleteMessage', 'ChangeMessageVisibility'), input: fc.record({ QueueUrl: fc.constant(url('jobs')), ReceiptHandle: fc.string({ maxLength: 40 }), VisibilityTimeout: fc.constant(10) }) }),
);

/** A valid input with some members replaced by fuzzed ones. */
const nearMiss: fc.Arbitrary<{ action: string; input: Record<string, unknown> }> = fc.tuple(valid, jsonInput, fc.nat()).map(([v, junk, pick]) => {
  const keys = Object.keys(junk);
  const input: Record<string, unknown> = { ...v.input };
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k !== undefined && (pick >> i) % 3 === 0) input[k] = junk[k];
  }
  return { action: v.action, input };
});

/** An action call: a parsed request of either protocol, or an action name with a JSON-shaped input. */
const call: fc.Arbitrary<{ action: string; input: Record<string, unknown> }> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ action: fc.constantFrom(...actionNames), input: jsonInput }) },
  { weight: 1, arbitrary: valid },
  { weight: 2, arbitrary: nearMiss },
  {
    weight: 1,
    arbitrary: sqsRequest.map((req) => {
      try {
        const c = parseSqsCall(req);
        return { action: c.action, input: c.input };
      } catch (e) {
        if (e instanceof SqsError) return { action: 'unparsed', input: {} };
        throw e;
      }
    }),
  },
);

describe('fuzz: SQS actions over a real state machine', () => {
  it(
    'sqsActionsNoChangeOfState: actions end in a result or a client error; refusals change nothing',
    async () => {
      const out = new Outcomes();
      await fc.assert(
        fc.asyncProperty(call, async ({ action: name, input }) => {
          const action = Object.hasOwn(sqsActions, name) ? sqsActions[name] : undefined;
          if (action === undefined) {
            out.add('refused:unsupported');
            return;
          }
          const h = setUpQueues();
          const watch: Watch = { refusedCommands: 0, changedByRefusal: undefined };
          const before = h.store.fingerprint();
          try {
            await action(contextOver(h, watch), input);
            out.add(`accepted:${name}`);
          } catch (e) {
            if (!(e instanceof SqsError) && !(e instanceof RaftqError)) throw e;
            const err = toSqsError(e);
            // A client's bad input is the client's fault, never a server fault.
            if (err.status >= 500) throw e;
            out.add(`refused:${name}:${err.code}`);
            expect(h.store.fingerprint(), `${name} failed with ${err.code} and changed the store`).toBe(before);
          }
          expect(watch.changedByRefusal).toBeUndefined();
          out.add(watch.refusedCommands > 0 ? 'refused-command' : 'no-refused-command');
          h.sm.assertInvariants();
        }),
        fuzzOptions(),
      );
      out.expectBothWays();
      const s = out.summary();
      expect(out.count('refused-command'), s).toBeGreaterThan(0);
      for (const a of ['SendMessage', 'SendMessageBatch', 'ReceiveMessage', 'CreateQueue', 'SetQueueAttributes', 'GetQueueAttributes']) expect(out.count(`accepted:${a}`), `${a}: ${s}`).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );
});
