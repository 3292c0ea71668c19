import { RaftqError } from '../errors.js';
import {
  QueueStateMachine,
  type Command,
  decodeCommand,
  encodeCommand,
  validateAgainstState,
  validateCommand,
  type CommandResult,
  type StateWriter,
  coldBodyWrites,
  readBodies,
} from '../queue/index.js';
import type { StateWrite } from '../storage/index.js';
import type { AppliedCommand, Application, AppStateReader } from './application.js';
import { toRaftqError } from './error-map.js';
import { binaryMessagesWithin, queueReplyBinaryCodec } from './queue-reply-binary.js';
import { jsonMessagesWithin, queueReplyJsonCodec } from './queue-reply-json.js';
import type { QueueReply } from './queue-reply-types.js';
import { queueLogBackedKeys, StoredEnqueueLog } from './queue-log-bodies.js';
import type { ReplyCodecs, ReplyEncoding } from './reply-encoding.js';

export type { QueueReply, ReceiveReply } from './queue-reply-types.js';

/** How often the leader proposes retention expiry, in milliseconds. */
const expireEveryMs = 5_000;

/**
 * The queue state machine as the node's replicated application: decodes log entries into
 * queue commands, applies them, validates proposals against current state on the leader, and
 * attaches message bodies to receive results on the node that serves the request.
 */
export class QueueApplication implements Application<CommandResult, QueueReply, Command> {
  #sm = new QueueStateMachine();
  #reader: AppStateReader | undefined;
  /** The enqueue commands of the log the state was applied from: where bodies are read. */
  #log: StoredEnqueueLog | undefined;
  /** The payload records are copies of log data (queue-log-bodies.ts). */
  readonly logBacked = queueLogBackedKeys;
  #lastExpireMs = 0;
  /**
   * performance.now() when the state machine's clock last moved here (an entry applied, or a
   * reload). Invariant: set whenever #sm.clockMs changes, so clockEstimateMs() never runs behind
   * by more than the time between the leader's stamp and this node's apply.
   */
  #clockMovedAtMono = performance.now();
  /** Long-poll receivers waiting for a queue to get new visible messages, by queue name. */
  readonly #waiters = new Map<string, Set<() => void>>();

  /** The state machine, for reads after a linearizable read barrier. */
  get stateMachine(): QueueStateMachine {
    return this.#sm;
  }

  apply(commands: readonly AppliedCommand<Command>[], writes: StateWrite[]): CommandResult[] {
    const writer = stateWriter(writes);
    const results: CommandResult[] = new Array<CommandResult>(commands.length);
    const batch: Array<{ cmd: Command; ctx: { index: number; nowMs: number } }> = [];
    const positions: number[] = [];
    commands.forEach((c, i) => {
      const cmd = c.decoded ?? decodeCommand(c.payload);
      // The leader decoded its own proposals already: receives that follow read bodies from it.
      if (c.decoded?.type === 'enqueue') this.#log?.remember(c.index, c.decoded.messages);
      // Every node decodes the same bytes the same way, so an undecodable entry yields the
      // same error result everywhere instead of a crash.
      if (cmd instanceof Error) {
        results[i] = { ok: false, code: 'INTERNAL', message: `undecodable command at ${c.index}: ${cmd.message}` };
        return;
      }
      batch.push({ cmd, ctx: { index: c.index, nowMs: c.nowMs } });
      positions.push(i);
    });
    const clockBefore = this.#sm.clockMs;
    const applied = this.#sm.applyBatch(batch, writer);
    if (this.#sm.clockMs !== clockBefore) this.#clockMovedAtMono = performance.now();
    let wakeAll = false;
    const wake = new Set<string>();
    applied.forEach((result, k) => {
      results[positions[k]!] = result;
      const cmd = batch[k]!.cmd;
      if (!result.ok) return;
      if (cmd.type === 'redrive') wakeAll = true;
      else if (cmd.type === 'enqueue' || cmd.type === 'changeVisibility') wake.add(cmd.queue);
    });
    if (wakeAll) this.#wake(undefined);
    else for (const q of wake) this.#wake(q);
    return results;
  }

  /**
   * Resolves when a message may have become visible in `queue` (an enqueue, nack or redrive
   * applied) or after `timeoutMs`, whichever is first. Long-poll receives wait on it.
   */
  waitForActivity(queue: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(queue);
      if (set === undefined) this.#waiters.set(queue, (set = new Set()));
      const waiters = set;
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(queue) === waiters) this.#waiters.delete(queue);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      waiters.add(done);
    });
  }

  /**
   * This node's estimate of the state machine's clock now, in ms: its clock plus the local time
   * elapsed since it last moved. The clock itself moves only when an entry applies; long polls
   * compare this with nextVisibleAtMs to wake when a lease or delay runs out.
   */
  clockEstimateMs(): number {
    return this.#sm.clockMs + (performance.now() - this.#clockMovedAtMono);
  }

  /** Wakes the long-poll waiters of `queue` (of every queue when undefined). */
  #wake(queue: string | undefined): void {
    const sets = queue === undefined ? [...this.#waiters.values()] : [this.#waiters.get(queue)];
    for (const set of sets) for (const w of [...(set ?? [])]) w();
  }

  async reply(result: CommandResult): Promise<QueueReply> {
    if (!result.ok || result.type !== 'receive') return result;
    const reader = this.#reader;
    const log = this.#log;
    if (reader === undefined || log === undefined) throw new RaftqError('INTERNAL', 'state reader not loaded');
    const messages = await readBodies(reader, log, result.messages);
    return { ok: true, type: 'receive', messages, deadLettered: result.deadLettered };
  }

  async replyWithin(result: CommandResult, command: Uint8Array, bytesMax: number, encoding: ReplyEncoding): Promise<{ reply: QueueReply; release: readonly Uint8Array[] }> {
    const reply = await this.reply(result);
    if (!reply.ok || reply.type !== 'receive') return { reply, release: [] };
    const kept = encoding === 'binary' ? binaryMessagesWithin(reply, bytesMax) : jsonMessagesWithin(reply, bytesMax);
    if (kept === reply.messages.length) return { reply, release: [] };
    const cmd = decodeCommand(command);
    if (cmd instanceof Error || cmd.type !== 'receive') throw new RaftqError('INTERNAL', 'a receive result for a command that is not a receive');
    const release = reply.messages.slice(kept).map((m) => encodeCommand({ type: 'changeVisibility', queue: cmd.queue, receipt: m.receipt, visibilityTimeoutMs: 0 }));
    return { reply: { ...reply, messages: reply.messages.slice(0, kept) }, release };
  }

  coldWrites(from: number, through: number, bytesMax: number): { readonly writes: StateWrite[]; readonly through: number } {
    const log = this.#log;
    if (log === undefined) throw new RaftqError('INTERNAL', 'state reader not loaded');
    const writes: StateWrite[] = [];
    const done = coldBodyWrites((lo, hi, fn) => this.#sm.forEachLiveBody(lo, hi, fn), from, through, bytesMax, log, stateWriter(writes));
    return { writes, through: done.through };
  }

  async reload(reader: AppStateReader): Promise<void> {
    this.#reader = reader;
    this.#log = new StoredEnqueueLog(reader);
    this.#sm = await QueueStateMachine.load(reader);
    this.#clockMovedAtMono = performance.now();
  }

  validate(payload: Uint8Array): Command {
    const cmd = decodeCommand(payload);
    if (cmd instanceof Error) throw toRaftqError(cmd);
    const err = validateCommand(cmd) ?? validateAgainstState(cmd, this.#sm);
    if (err !== undefined) throw toRaftqError(err);
    return cmd;
  }

  housekeeping(monoMs: number): Uint8Array | undefined {
    if (monoMs - this.#lastExpireMs < expireEveryMs) return undefined;
    this.#lastExpireMs = monoMs;
    if (this.#sm.listQueues().length === 0) return undefined;
    return encodeCommand({ type: 'expire' });
  }
}

/** A StateWriter appending to `writes` (the storage's change list). */
function stateWriter(writes: StateWrite[]): StateWriter {
  return {
    put: (key, value, created) => void writes.push(created === true ? { type: 'put', key, value, created } : { type: 'put', key, value }),
    del: (key) => void writes.push({ type: 'del', key }),
  };
}

/** The reply codecs of a queue node: JSON for followers of the previous release, binary otherwise. */
export const queueReplyCodecs: ReplyCodecs<QueueReply> = { json: queueReplyJsonCodec, binary: queueReplyBinaryCodec };
