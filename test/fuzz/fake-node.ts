/**
 * An in-process stand-in for a one-node cluster, for the fuzz targets that run the API layers:
 * the op layer's proposals are decoded and applied at once to a real QueueStateMachine over a
 * MemoryStateStore (test/queue/harness.ts), as the leader's apply would, and every refused
 * command is checked to leave the store's keyspace byte for byte as it was. Long polls end at
 * once (their waits resolve immediately). No Raft, no sockets, no timers.
 */
import type { CommandResult } from '../../src/queue/index.js';
import { decodeCommand, QueueError, readBodies } from '../../src/queue/index.js';
import type { NodeRuntime } from '../../src/server/node-runtime.js';
import type { QueueApplication, QueueReply } from '../../src/server/queue-app.js';
import { Harness, utf8 } from '../queue/harness.js';

/** What one case saw of the state machine through the fake node. */
export interface Watch {
  /** Commands the state machine refused. */
  refusedCommands: number;
  /** Set when a refused command changed the store: which one. */
  changedByRefusal: string | undefined;
}

/** A harness with queues jobs (dead-lettering to dlq), dlq and orders.fifo, messages, and one delivery in flight. */
export function setUpQueues(): Harness {
  const h = new Harness();
  h.ok({ type: 'createQueue', queue: 'dlq' });
  h.ok({ type: 'createQueue', queue: 'jobs', attributes: { maxReceiveCount: 3, deadLetterQueue: 'dlq' } });
  h.ok({ type: 'createQueue', queue: 'orders.fifo', attributes: { fifo: true } });
  h.ok({ type: 'enqueue', queue: 'jobs', messages: [{ body: utf8('a') }, { body: utf8('b'), attributes: { k: 'v' } }] });
  h.ok({ type: 'enqueue', queue: 'orders.fifo', messages: [{ body: utf8('c'), groupId: 'g1', dedupId: 'd1' }] });
  h.receive('jobs', 1);
  return h;
}

/** The node and application of the op layer (QueueOpsContext) over `h`. */
export function fakeNode(h: Harness, watch: Watch): { node: NodeRuntime<CommandResult, QueueReply>; app: QueueApplication } {
  const node = {
    async submit(payload: Uint8Array): Promise<QueueReply> {
      const cmd = decodeCommand(payload);
      if (cmd instanceof QueueError) throw new Error(`the op layer proposed an undecodable command: ${cmd.message}`);
      const before = h.store.fingerprint();
      const r: CommandResult = h.apply(cmd);
      if (!r.ok) {
        watch.refusedCommands++;
        if (h.store.fingerprint() !== before) watch.changedByRefusal ??= `${cmd.type} refused with ${r.code} changed the store`;
        return r;
      }
      if (r.type === 'receive') return { ok: true, type: 'receive', messages: await readBodies(h.store, h.log, r.messages), deadLettered: r.deadLettered };
      return r;
    },
    async linearizableRead(): Promise<void> {},
  };
  const app = {
    stateMachine: h.sm,
    clockEstimateMs: (): number => h.nowMs,
    waitForActivity: async (): Promise<void> => {},
  };
  // The op layer uses only these members; the casts are the one unchecked step.
  return { node: node as unknown as NodeRuntime<CommandResult, QueueReply>, app: app as unknown as QueueApplication };
}

/** An AbortSignal already aborted: long polls make one receive and end. */
export function stopped(): AbortSignal {
  const c = new AbortController();
  c.abort();
  return c.signal;
}
