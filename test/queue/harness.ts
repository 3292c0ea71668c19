/**
 * Test harness: a QueueStateMachine over a MemoryStateStore with an entry index counter and a
 * clock, so tests read like a log of commands.
 */
import type { Command, CommandResult, Delivery, EnqueueMessage, ReceivedMessage } from '../../src/queue/commands.js';
import { coldBodyWrites, readBodies, type EnqueueLog } from '../../src/queue/log-bodies.js';
import { MemoryStateStore } from '../../src/queue/memory-state-store.js';
import { QueueStateMachine, type QueueStateMachineOptions } from '../../src/queue/state-machine.js';

/** Start of the test clock (ms since epoch). */
export const t0Ms = 1_700_000_000_000;

/**
 * The enqueue commands of a test's log, by index: bodies are read from here (log-bodies.ts)
 * until compact() drops them, after copying the live ones into the store's payload records.
 */
export class TestLog implements EnqueueLog {
  readonly #entries = new Map<number, readonly EnqueueMessage[]>();
  /** Entries up to here were dropped. */
  compactedThrough = 0;

  /** Records the command applied at `index`. */
  record(index: number, cmd: Command): void {
    if (cmd.type === 'enqueue') this.#entries.set(index, cmd.messages);
  }

  enqueuedAt(index: number): readonly EnqueueMessage[] | undefined {
    return index <= this.compactedThrough ? undefined : (this.#entries.get(index) ?? []);
  }

  /**
   * Copies the live bodies of entries up to `through` into `store`, in chunks of about
   * `bytesMax` bytes as a node does, and drops those entries; returns the copies.
   */
  compact(sm: QueueStateMachine, store: MemoryStateStore, through: number, bytesMax = Infinity): number {
    let n = 0;
    while (this.compactedThrough < through) {
      const done = coldBodyWrites((lo, hi, fn) => sm.forEachLiveBody(lo, hi, fn), this.compactedThrough + 1, through, bytesMax, this, store);
      for (const i of [...this.#entries.keys()]) if (i <= done.through) this.#entries.delete(i);
      this.compactedThrough = done.through;
      n += done.copies;
    }
    return n;
  }
}

/** A state machine, its store, its log, the next log index and the leader clock. */
export class Harness {
  index = 0;
  nowMs = t0Ms;
  readonly log = new TestLog();

  constructor(
    public sm: QueueStateMachine = new QueueStateMachine(),
    readonly store: MemoryStateStore = new MemoryStateStore(),
  ) {}

  /** A harness with options (e.g. a small dedupKeysMax). */
  static with(options: QueueStateMachineOptions): Harness {
    return new Harness(new QueueStateMachine(options));
  }

  /** Applies `cmd` as the next log entry, after advancing the clock by `advanceMs`; then checks the index invariants. */
  apply(cmd: Command, advanceMs = 0): CommandResult {
    this.nowMs += advanceMs;
    this.index++;
    this.log.record(this.index, cmd);
    const r = this.sm.apply(cmd, { index: this.index, nowMs: this.nowMs }, this.store);
    this.sm.assertInvariants();
    return r;
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
    return readBodies(this.store, this.log, this.receive(queue, max, visibilityTimeoutMs));
  }

  /** Compacts the log through `through` (log-bodies.ts): live bodies move to payload records. */
  compactLog(through: number = this.index): number {
    return this.log.compact(this.sm, this.store, through);
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
