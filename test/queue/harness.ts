/**
 * Test harness: a QueueStateMachine over a MemoryStateStore with an entry index counter and a
 * clock, so tests read like a log of commands.
 */
import type { Command, CommandResult, Delivery, ReceivedMessage } from '../../src/queue/commands.js';
import { MemoryStateStore } from '../../src/queue/memory-state-store.js';
import { QueueStateMachine, type QueueStateMachineOptions } from '../../src/queue/state-machine.js';

/** Start of the test clock (ms since epoch). */
export const t0Ms = 1_700_000_000_000;

/** A state machine, its store, the next log index and the leader clock. */
export class Harness {
  index = 0;
  nowMs = t0Ms;

  constructor(
    public sm: QueueStateMachine = new QueueStateMachine(),
    readonly store: MemoryStateStore = new MemoryStateStore(),
  ) {}

  /** A harness with options (e.g. a small dedupKeysMax). */
  static with(options: QueueStateMachineOptions): Harness {
    return new Harness(new QueueStateMachine(options));
  }

  /** Applies `cmd` as the next log entry, after advancing the clock by `advanceMs`. */
  apply(cmd: Command, advanceMs = 0): CommandResult {
    this.nowMs += advanceMs;
    this.index++;
    return this.sm.apply(cmd, { index: this.index, nowMs: this.nowMs }, this.store);
  }

  /** Applies `cmd` and returns its result, failing the test on an error result. */
  ok(cmd: Command, advanceMs = 0): Extract<CommandResult, { ok: true }> {
    const r = this.apply(cmd, advanceMs);
    if (!r.ok) throw new Error(`${cmd.type} failed: ${r.code} ${r.message}`);
    return r as Extract<CommandResult, { ok: true }>;
  }

  /** Receives and returns the deliveries. */
  receive(queue: string, max = 10, visibilityTimeoutMs?: number): Delivery[] {
    const r = this.ok({ type: 'receive', queue, max, ...(visibilityTimeoutMs === undefined ? {} : { visibilityTimeoutMs }) });
    if (r.type !== 'receive') throw new Error('not a receive');
    return [...r.messages];
  }

  /** Receives and reads the bodies. */
  async receiveMessages(queue: string, max = 10, visibilityTimeoutMs?: number): Promise<ReceivedMessage[]> {
    return QueueStateMachine.readMessages(this.store, this.receive(queue, max, visibilityTimeoutMs));
  }

  /** Reloads the state machine from the store (a restart). */
  async restart(options: QueueStateMachineOptions = {}): Promise<void> {
    this.sm = await QueueStateMachine.load(this.store, options);
  }
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** A string of UTF-8 bytes. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
