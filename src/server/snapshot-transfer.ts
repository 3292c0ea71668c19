/**
 * Snapshot streams out of and into one node, between the Raft core, the durable storage and
 * the peer transport:
 *
 * - Out (leader): send() streams the applied state to a follower the core sent a 'snap' to and
 *   reports the outcome to the core. A failed stream is reported only after a backoff delay
 *   (per follower, reset by a success): until then the core keeps the follower in snapshot
 *   state and sends no other snapshot, so a follower that keeps failing its installs (disk
 *   full, I/O errors) is not sent the whole state again and again in a tight loop.
 * - In (follower): openSink() stages the incoming chunks into the storage as they arrive and,
 *   at the end, switches the node to the snapshot (see openSink). Any failure of the install
 *   fails the stream at once: the next write or finish rejects, the transport nacks the stream
 *   and closes the connection, and the leader retries after its backoff. One install runs at a
 *   time; a stream that arrives while one is still running (or unwinding) is refused.
 */
import type { Logger } from 'pino';
import { assert } from '../../raft/assert.js';
import type { RawNode } from '../../raft/raw-node.js';
import type { NodeId, SnapshotMessage } from '../../raft/types.js';
import { RaftqError } from '../errors.js';
import type { DurableStorage } from '../storage/index.js';
import { Backoff, type SnapshotSink } from '../transport/index.js';
import { ChunkQueue } from './chunk-queue.js';

/**
 * First delay before a failed snapshot stream is reported to the core (which then retries it):
 * 200 ms. A transient failure (a connection reset) is retried almost at once.
 */
export const snapshotRetryDelayMsInitial = 200;

/**
 * Largest delay before a failed snapshot stream is reported: 10 s (reached after 6 failures in
 * a row). A follower failing every install costs one full transfer per 5-10 s at most, and
 * once its cause is fixed it catches up within 10 s.
 */
export const snapshotRetryDelayMsMax = 10_000;

/** What the storage offers snapshot streams. */
export type SnapshotStore = Pick<DurableStorage, 'openSnapshotReader' | 'installSnapshot' | 'liveAppliedIndex'>;

/** What SnapshotTransfer needs from its node. */
export interface SnapshotTransferHost {
  readonly raw: RawNode;
  readonly storage: SnapshotStore;
  readonly logger: Logger;
  /** Random numbers in [0, 1) for the retry jitter. */
  readonly rng: () => number;
  /** Streams `chunks` to `to`; true once the receiver acknowledged the installed snapshot. */
  sendSnapshot(to: NodeId, msg: SnapshotMessage, chunks: AsyncIterable<Uint8Array>): Promise<boolean>;
  /** Tells the core (and wakes the ready loop) how the stream to `to` ended. */
  reportSnapshot(to: NodeId, ok: boolean): void;
  /** Runs `fn` holding the ready-loop lock, with inbound Raft messages held back until it ends. */
  runPaused(fn: () => Promise<void>): Promise<void>;
  /** The storage switched to `msg`'s snapshot: bring the application and membership in line. */
  adopt(msg: SnapshotMessage): Promise<void>;
  /** The node cannot go on (the core and the storage disagree). */
  onFatal(err: unknown): void;
  isStopped(): boolean;
  /** Counts a snapshot stream started to a follower. */
  onSnapshotSent?(): void;
}

/** The install in progress. */
interface ActiveInstall {
  readonly from: NodeId;
  readonly index: number;
}

/** Snapshot streams of one node, both directions (module comment). */
export class SnapshotTransfer {
  readonly #host: SnapshotTransferHost;
  /** Retry delays of failed streams, by follower. */
  readonly #backoffs = new Map<NodeId, Backoff>();
  /** Invariant: non-null from the sink's opening until its storage install settled. */
  #active: ActiveInstall | null = null;

  constructor(host: SnapshotTransferHost) {
    this.#host = host;
  }

  /** Whether an install is staging or switching now. */
  get installing(): boolean {
    return this.#active !== null;
  }

  /**
   * Streams the current applied state to `m.to`. The data is read from a consistent LevelDB
   * snapshot at the applied index A, which is at or after the compaction point the core named;
   * the message is re-labelled with A so the follower installs exactly what it receives.
   */
  async send(m: SnapshotMessage): Promise<void> {
    const host = this.#host;
    let ok = false;
    try {
      const reader = await host.storage.openSnapshotReader();
      try {
        const msg: SnapshotMessage = { ...m, snapshot: reader.meta };
        host.logger.info({ to: m.to, index: reader.meta.index, term: m.term }, 'streaming snapshot');
        host.onSnapshotSent?.();
        ok = await host.sendSnapshot(m.to, msg, reader.chunks());
      } finally {
        await reader.close();
      }
    } catch (e) {
      host.logger.warn({ err: e, to: m.to }, 'snapshot send failed');
    }
    if (host.isStopped()) return;
    const backoff = this.#backoff(m.to);
    if (ok) {
      backoff.reset();
      host.logger.info({ to: m.to, ok }, 'snapshot stream finished');
      host.reportSnapshot(m.to, true);
      return;
    }
    const delayMs = Math.round(backoff.nextDelayMs());
    host.logger.info({ to: m.to, ok, retryInMs: delayMs }, 'snapshot stream finished');
    const timer = setTimeout(() => {
      if (!host.isStopped()) host.reportSnapshot(m.to, false);
    }, delayMs);
    timer.unref();
  }

  /**
   * Receives a snapshot: chunks stream into a staged generation on disk; at the end, under the
   * ready-loop lock and with inbound messages held back, the core is asked whether it will take
   * the snapshot, the message is stepped (the core restores it: its log becomes the snapshot),
   * then the staged state is switched in and the host adopts it — so the core and the stored
   * state never disagree once the lock is released. The Ready that carries the snapshot then
   * finds it already stored (DurableStorage.save treats it as a no-op).
   *
   * The core is stepped BEFORE the storage switch on purpose: once the storage holds the
   * snapshot, the core's log reads the snapshot's term at its index through the storage, takes
   * the entry for one it already holds and only fast-forwards its commit index, leaving its
   * unstable log positioned after the old last index; the next append then lands at the wrong
   * offset and the node dies on "commit N is out of range".
   *
   * Throws (refusing the stream) when the core does not need the snapshot or another install
   * is still running.
   */
  openSink(from: NodeId, msg: SnapshotMessage): SnapshotSink {
    const host = this.#host;
    const index = msg.snapshot.index;
    const active = this.#active;
    if (active !== null) throw new RaftqError('UNAVAILABLE', `snapshot at ${index} from ${from} refused: the install of ${active.index} from ${active.from} is still running`);
    if (!this.wouldRestore(msg)) throw new RaftqError('UNAVAILABLE', `snapshot at ${index} from ${from} is not needed`);
    const chunks = new ChunkQueue();
    // The installer consumes chunks as they arrive, reports when all of them are staged, and
    // switches when the gate opens (or discards the staged state when it is refused).
    let gateOpen!: () => void;
    let gateRefuse!: (e: Error) => void;
    const gate = new Promise<void>((resolve, reject) => {
      gateOpen = resolve;
      gateRefuse = reject;
    });
    gate.catch(() => {});
    let stagedDone!: () => void;
    const staged = new Promise<void>((r) => (stagedDone = r));
    this.#active = { from, index };
    let aborted = false;
    const install = host.storage.installSnapshot(msg.snapshot, gatedEnd(chunks, stagedDone, gate));
    // A failed install (bad chunk, ENOSPC, EIO, ...) fails the chunk queue, so the transport's
    // pending or next write rejects and the stream is nacked instead of waiting forever.
    void install.then(
      () => {
        this.#active = null;
      },
      (e: unknown) => {
        this.#active = null;
        const err = e instanceof Error ? e : new Error(String(e));
        chunks.fail(err);
        if (!aborted) host.logger.warn({ err, from, index }, 'snapshot install failed');
      },
    );
    host.logger.info({ from, index, term: msg.term }, 'receiving snapshot');
    return {
      write: (chunk) => chunks.push(chunk),
      finish: () => host.runPaused(() => this.#switch(msg, chunks, staged, install, gateOpen, gateRefuse)),
      abort: (reason) => {
        aborted = true;
        const err = new Error(`snapshot stream aborted: ${reason}`);
        chunks.fail(err);
        gateRefuse(err);
      },
    };
  }

  /**
   * Whether the core would install `msg`'s snapshot right now (its own rules, RawNode.wouldRestore)
   * and the stored state has not already applied past it.
   */
  wouldRestore(msg: SnapshotMessage): boolean {
    return msg.snapshot.index > this.#host.storage.liveAppliedIndex() && this.#host.raw.wouldRestore(msg.term, msg.snapshot);
  }

  /** The end of a stream, under the ready-loop lock: restore in the core, switch the storage. */
  async #switch(msg: SnapshotMessage, chunks: ChunkQueue, staged: Promise<void>, install: Promise<unknown>, gateOpen: () => void, gateRefuse: (e: Error) => void): Promise<void> {
    const host = this.#host;
    let stepped = false;
    try {
      chunks.end();
      // Every chunk staged (or the install failed, e.g. a malformed chunk: nothing changed).
      await Promise.race([staged, install]);
      if (!this.wouldRestore(msg)) throw new Error(`snapshot at ${msg.snapshot.index} became stale while streaming`);
      host.raw.step(msg);
      stepped = true;
      assert(host.raw.pendingSnapshotIndex() === msg.snapshot.index, () => `the core did not restore snapshot ${msg.snapshot.index}`);
      gateOpen();
      await install;
      await host.adopt(msg);
      host.logger.info({ index: msg.snapshot.index }, 'installed snapshot');
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      chunks.fail(err);
      gateRefuse(err);
      // The core already took the snapshot: a storage that failed to switch to it cannot be
      // reconciled with it. Stop the node (it restarts from what is on disk).
      if (stepped) {
        host.logger.fatal({ err, index: msg.snapshot.index }, 'snapshot install failed after the core restored it; stopping the node');
        host.onFatal(err);
      }
      throw err;
    }
  }

  #backoff(to: NodeId): Backoff {
    let b = this.#backoffs.get(to);
    if (b === undefined) {
      b = new Backoff(this.#host.rng, snapshotRetryDelayMsInitial, snapshotRetryDelayMsMax);
      this.#backoffs.set(to, b);
    }
    return b;
  }
}

/**
 * Yields every chunk of `q`; once the consumer asks for more after the last one (everything is
 * staged) calls `staged`, then waits for `gate` before ending (the switch point). A refused
 * gate makes the consumer's iteration throw.
 */
async function* gatedEnd(q: ChunkQueue, staged: () => void, gate: Promise<void>): AsyncGenerator<Uint8Array> {
  for await (const c of q) yield c;
  staged();
  await gate;
}
