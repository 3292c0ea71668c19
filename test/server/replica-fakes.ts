/**
 * Fakes of what a replica reaches outside itself (src/server/replica-io.ts): a clock whose
 * time, timers and deferred calls move only when the test says so, a transport that records
 * what is sent, and a memory storage over the Raft core's MemoryStorage (so a real RawNode
 * reads what the loop saved) whose saves a test can hold or fail. All three write to one
 * shared journal, so a test can check the order of saves and sends.
 */
import { MemoryStorage } from '../../raft/storage.js';
import type { ConfState, Message, NodeId } from '../../raft/types.js';
import type { RecoveringMarker, SaveBatch, SaveResult } from '../../src/storage/index.js';
import type { CancelTimer, ReplicaClock, ReplicaStorage, ReplicaTransport } from '../../src/server/replica-io.js';

/** What happened, in order: `save:<n entries>`, `saved`, `send:<type>-><to>`, `recovering`, `recovered`. */
export type Journal = string[];

/** A clock that moves only when the test advances it. */
export class FakeClock implements ReplicaClock {
  wall = 1_000_000;
  mono = 0;
  readonly #timers: Array<{ every: number; next: number; fn: () => void; cancelled: boolean; background: boolean }> = [];
  #deferred: Array<() => void> = [];

  now(): number {
    return this.wall;
  }
  monoNow(): number {
    return this.mono;
  }
  every(ms: number, fn: () => void, opts?: { readonly background?: boolean }): CancelTimer {
    const t = { every: ms, next: this.mono + ms, fn, cancelled: false, background: opts?.background === true };
    this.#timers.push(t);
    return () => void (t.cancelled = true);
  }
  defer(fn: () => void): void {
    this.#deferred.push(fn);
  }

  /** Deferred calls waiting for the next turn. */
  get deferredCount(): number {
    return this.#deferred.length;
  }
  /** Timers not cancelled, with whether each is a background one. */
  get activeTimers(): Array<{ every: number; background: boolean }> {
    return this.#timers.filter((t) => !t.cancelled).map((t) => ({ every: t.every, background: t.background }));
  }
  /** Runs the deferred calls queued so far (the next turn). */
  runDeferred(): void {
    const due = this.#deferred;
    this.#deferred = [];
    for (const fn of due) fn();
  }
  /** Moves both clocks by `ms`, firing every timer due on the way, in time order. */
  advance(ms: number): void {
    const end = this.mono + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.next <= end).sort((a, b) => a.next - b.next)[0];
      if (due === undefined) break;
      this.wall += due.next - this.mono;
      this.mono = due.next;
      due.next += due.every;
      due.fn();
    }
    this.wall += end - this.mono;
    this.mono = end;
  }
}

/** A transport that records every batch sent; peers are connected unless listed in `down`. */
export class FakeTransport implements ReplicaTransport {
  readonly sent: Message[] = [];
  readonly down = new Set<NodeId>();
  constructor(private readonly journal: Journal) {}

  send(messages: readonly Message[]): void {
    for (const m of messages) {
      this.sent.push(m);
      this.journal.push(`send:${m.type}->${m.to}`);
    }
  }
  isConnected(id: NodeId): boolean {
    return !this.down.has(id);
  }
}

/**
 * A ReplicaStorage in memory. A save is recorded at once (`save:<n>`) and completes (`saved`)
 * when released: at once by default, or when the test calls releaseSave() while `holdSaves`.
 * `failNextSave` makes the next save reject with that error. What a completed save holds goes
 * into `raft` (the Raft core's MemoryStorage), as DurableStorage does for RawNode.
 */
export class MemoryReplicaStorage implements ReplicaStorage {
  readonly raft: MemoryStorage;
  readonly batches: SaveBatch[] = [];
  appliedIndex = 0;
  recovering: RecoveringMarker | undefined;
  holdSaves = false;
  failNextSave: Error | undefined;
  #held: Array<() => void> = [];

  constructor(
    private readonly journal: Journal,
    confState: ConfState,
  ) {
    this.raft = new MemoryStorage(confState);
  }

  save(batch: SaveBatch): Promise<SaveResult> {
    this.journal.push(`save:${batch.entries.length}`);
    const fail = this.failNextSave;
    this.failNextSave = undefined;
    return new Promise<SaveResult>((resolve, reject) => {
      const done = (): void => {
        if (fail !== undefined) return reject(fail);
        this.batches.push(batch);
        if (batch.entries.length > 0) this.raft.append(batch.entries);
        if (batch.hardState !== undefined) this.raft.setHardState(batch.hardState);
        if (batch.applied !== undefined) this.appliedIndex = batch.applied.appliedIndex;
        this.journal.push('saved');
        resolve({ syncMs: 0, entryCount: batch.entries.length });
      };
      if (this.holdSaves) this.#held.push(done);
      else done();
    });
  }
  markRecovering(marker: RecoveringMarker): Promise<void> {
    this.recovering = marker;
    this.journal.push('recovering');
    return Promise.resolve();
  }
  markRecovered(): Promise<void> {
    this.recovering = undefined;
    this.journal.push('recovered');
    return Promise.resolve();
  }

  /** Saves waiting for releaseSave. */
  get heldSaves(): number {
    return this.#held.length;
  }
  /** Completes the oldest held save. */
  releaseSave(): void {
    const next = this.#held.shift();
    if (next === undefined) throw new Error('no save is held');
    next();
  }
}

/** Lets every promise callback and I/O callback already queued run (no wall-clock wait). */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
