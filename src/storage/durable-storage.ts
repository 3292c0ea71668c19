/**
 * The durable storage of one node: raft's `Storage` over one data directory, the Raft log in
 * segment files under `<dir>/log` (raft-log-store.ts, src/storage/segment-log) and everything
 * else in one LevelDB in `<dir>`: hard state, snapshot and applied meta, and the applied-state
 * keyspace the queue state machine reads and writes.
 *
 * The core reads synchronously, so a MemoryStorage holds everything it may ask for (the log
 * since the last compaction, hard state, snapshot meta) and every write goes to disk first,
 * then to the MemoryStorage. Key layout: keys.ts. Value encodings and checksums: codec.ts
 * (records), applied-values.ts (every applied value: verified on every read, so damage is never
 * returned, applied, or sent in a snapshot); segment records carry their own CRC-32C. Opening
 * after damage: repair.ts. A directory of the previous layout is converted: convert-log.ts.
 *
 * Durability rule. A synced LevelDB write makes durable only itself, NOT the unsynced writes
 * before it: LevelDB syncs only its current log file and closes a full one without syncing it
 * (google/leveldb#193), so after a power loss an unsynced write may be gone while a later
 * synced one is there. Nor does LevelDB make its files' directory entries durable when it
 * creates them (a new log file, CURRENT at open): level-db.ts openDb fsyncs the directory
 * after the open and after any synced write that found its files changed. Hence: a write that something later relies on is synced itself (or
 * written in the same batch as what relies on it); a write may skip the sync only if losing
 * it, alone and whatever else survives, leaves a state that open() accepts and the node
 * repairs. Each write, and why:
 * - save(): one Ready's entries in the segments (one segment-log sync: fdatasync, plus a
 *   directory fsync when a segment was created or deleted), and its hard state, snapshot meta
 *   and applied changes in ONE synced LevelDB batch (votes and acks promise both: the save
 *   resolves after both). The two run at once when the batch does not rely on the new entries
 *   (its commit and applied index lie in the log as it was), else the segments first: a commit
 *   or applied index durable without the entries it covers would be damage at open. A crash
 *   between them leaves entries without the hard state of their term, which is safe (a vote is
 *   in the batch, and no message promising it left). Unsynced only when just the commit index
 *   moved (SaveBatch.sync): a lost commit is re-learned from the leader, and open() raises a
 *   commit below the applied index.
 * - save() with `applied`: the state changes go to memory (pending-writes.ts, coalesced), not
 *   to disk: the entries they come from are durable in the log, and replaying the log after
 *   the last checkpoint rebuilds them. A *checkpoint* writes every pending change with the
 *   applied index and membership in one SYNCED batch, in the background (checkpointer.ts),
 *   once checkpointEntries entries, checkpointLogBytes of log or checkpointBytes of pending
 *   changes accumulated (and synchronously on checkpoint(), applyBatch(),
 *   openSnapshotReader() and close()). One batch, because each is a
 *   delta on the one before: a lost batch under a surviving later one would leave a silent
 *   hole in the state. appliedIndex() is the checkpoint's index: the state open() loads, and
 *   the bound of compaction (the log after it must stay, to be replayed). The Raft core
 *   restarts from it and applies the entries after it again.
 * - copyOutOfLog(): the application's copies of log data it still needs (log-backed keys,
 *   log-copies.ts: message bodies) are applied changes, written by the next checkpoint, which
 *   they request; compact() goes no further than the durable ones. open() deletes, synced, the
 *   copies of entries after the snapshot (a compaction a crash interrupted): the log has them.
 * - compact(): the synced snapshot meta first; it relies only on synced checkpoints. The
 *   segment deletions after it are durable only at the next sync: a segment that comes back
 *   lies at or below the snapshot, and open() skips it.
 * - installSnapshot(): stages the new state under the next generation in SYNCED batches (one
 *   per chunk, at most snapshotChunkBytesMax), then switches with one synced batch
 *   (generation, applied index, snapshot meta, log deletions). The switch relies on every
 *   staged pair, hence the syncs; a crash before it leaves the old state intact and open()
 *   discards the staged keys. No marker key is needed: the generation is the commit record.
 *   The switch also raises the hard state's commit to the snapshot index (never lowers it).
 *   Then the log is replaced by an empty one after the snapshot (raft-log-store.ts replace);
 *   a crash before that is durable leaves a log that does not continue the snapshot, which
 *   open() replaces (raft-log-store.ts reconciliation).
 *   Clearing the staging generation (before staging, after a failed install, at open) is
 *   durable too (level-db.ts clearDurably): a lost delete would bring stale pairs back into
 *   the generation the next switch makes live. Clearing generations below the live one may be
 *   lost: they are never read, and open() clears them again.
 * - open(): what it discards (log garbage, old generations) may come back and is discarded
 *   again; identity, the first snapshot meta and a raised commit are synced. A layout migration
 *   stages and switches like a snapshot install (migrate.ts).
 * - markRecovered(): the synced delete of the recovering marker (recovering.ts): once the
 *   runtime counts the node in quorums again, a marker coming back would wrongly stop it.
 * Cost: one fdatasync of the last segment per Ready that saves entries, one LevelDB fsync per
 * checkpoint and per Ready that changes term or vote (hard states that only move the commit
 * index are written unsynced), one per compaction, and one per snapshot chunk on install;
 * plus a readdir per synced LevelDB write and a directory fsync per LevelDB log switch or
 * compaction and per segment created or deleted.
 *
 * Mutations run one at a time through an internal queue; reads of the applied state do not wait.
 */
import { assert } from '../../raft/assert.js';
import { RaftError } from '../../raft/errors.js';
import { MemoryStorage, type Storage } from '../../raft/storage.js';
import type { ConfState, Entry, HardState, SnapshotMeta } from '../../raft/types.js';
import { encodeAppliedValue } from './applied-values.js';
import { type AppliedMeta, decodeRecord, encodeRecord, parseAppliedMeta } from './codec.js';
import { appliedKey, appliedMetaKey, generationMax, generationPrefix, hardStateKey, snapshotMetaKey } from './keys.js';
import { type BatchOp, clearDurably, type Db } from './level-db.js';
import { entryBytes, LogRuns } from './log-runs.js';
import { silentLogger, type StorageLogger } from './logger.js';
import { RaftLogStore } from './raft-log-store.js';
import { Checkpointer, checkpointThresholdsDefault } from './checkpointer.js';
import type { AppliedChanges, DurableStorageOptions, InstallResult, SaveBatch, SaveResult, SnapshotReaderOptions, StateReader } from './durable-storage-types.js';
import { openDataDir } from './open-data-dir.js';
import type { StateWrite } from './pending-writes.js';
import { deleteRecoveringMarker, type RecoveringMarker, writeRecoveringMarker } from './recovering.js';
import { decodeSnapshotChunk, snapshotChunkBytesMax } from './snapshot-chunks.js';
import { LevelSnapshotReader, type SnapshotReader } from './snapshot-reader.js';
import { LogCopies } from './log-copies.js';
import { AppliedReads } from './applied-reads.js';
import { checkAppend, checkUnsyncedSave } from './save-checks.js';

export type { SnapshotReader } from './snapshot-reader.js';

export type { AppliedChanges, DurableStorageOptions, InstallResult, LogBackedKeys, SaveBatch, SaveResult, SnapshotCopies, SnapshotReaderOptions, StateReader } from './durable-storage-types.js';
export type { StateWrite } from './pending-writes.js';

/** Log entries per accounting run at open (log-runs.ts): the saves that wrote them are not known. */
const openRunEntries = 64;

/** raft Storage + applied state over segments and one LevelDB (see module comment). */
export class DurableStorage implements Storage, StateReader {
  readonly #db: Db;
  readonly #dir: string;
  readonly #logger: StorageLogger;
  /**
   * The read cache. Invariant: equal to what LevelDB holds (log keys after the snapshot, hard
   * state, snapshot meta); updated only after the LevelDB write that it mirrors succeeded.
   */
  readonly #mem: MemoryStorage;
  /** The applied state's checkpoints and the changes since (checkpointer.ts). */
  readonly #cp: Checkpointer;
  /** The durable checkpoint (what LevelDB's applied state is at). */
  get #applied(): AppliedMeta {
    return this.#cp.applied;
  }
  /** The log's segments. Invariant: its last index equals mem.lastIndex() between mutations. */
  readonly #log: RaftLogStore;
  /** Byte accounting of the log (log-runs.ts). Invariant: covers [mem.firstIndex(), mem.lastIndex()]. */
  readonly #runs = new LogRuns();
  /** Tail of the mutation queue. Invariant: at most one mutation touches LevelDB at a time. */
  #tail: Promise<unknown> = Promise.resolve();
  /** Invariant: true while a snapshot is being staged; at most one install at a time. */
  #installing = false;
  #closed = false;
  /** False only for the skip-checksums negative control. */
  readonly #verify: boolean;
  /** The recovering marker as stored (recovering.ts); undefined once markRecovered synced its delete. */
  #recovering: RecoveringMarker | undefined;
  /** Reads of the applied state: pending changes, then the checkpoint being written, then LevelDB. */
  readonly #reads: AppliedReads;
  /** The application's copies of log data and their floor (log-copies.ts). */
  readonly #copies: LogCopies;

  private constructor(db: Db, log: RaftLogStore, dir: string, logger: StorageLogger, mem: MemoryStorage, applied: AppliedMeta, verify: boolean, recovering: RecoveringMarker | undefined, opts: DurableStorageOptions) {
    this.#log = log;
    const d = checkpointThresholdsDefault;
    this.#cp = new Checkpointer(db, applied, {
      entries: opts.checkpointEntries ?? d.entries,
      logBytes: opts.checkpointLogBytes ?? d.logBytes,
      pendingBytes: opts.checkpointBytes ?? d.pendingBytes,
    });
    this.#db = db;
    this.#copies = new LogCopies(opts.logBacked, mem.snapshot().index);
    this.#reads = new AppliedReads(db, this.#cp, verify);
    this.#verify = verify;
    this.#recovering = recovering;
    this.#dir = dir;
    this.#logger = logger;
    this.#mem = mem;
    // Accounted in runs of up to openRunEntries (a measure only: log-runs.ts).
    const loaded = mem.entries(mem.firstIndex(), mem.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
    for (let k = 0; k < loaded.length; k += openRunEntries) this.#runs.append(loaded.slice(k, k + openRunEntries), () => 0);
    this.#checkInvariants();
  }

  /**
   * Opens (creating if missing) the data directory `dir`. Throws DataDirLockedError if another
   * process holds it, ClusterMismatchError if it belongs to another cluster or node, and
   * StorageCorruptionError if a file, a checksum or the log's contiguity fails (repair.ts
   * openStorage turns that into a repair). Migrates an older layout (migrate.ts, then
   * convert-log.ts).
   */
  static async open(dir: string, opts: DurableStorageOptions): Promise<DurableStorage> {
    assert(opts.clusterId !== '' && opts.nodeId !== '', 'clusterId and nodeId must be non-empty');
    const logger = opts.logger ?? silentLogger;
    const verify = opts.verifyChecksums ?? true;
    const o = await openDataDir(dir, opts, logger, verify);
    return new DurableStorage(o.db, o.log, dir, logger, o.mem, o.applied, verify, o.recovering, opts);
  }

  /** The data directory. */
  get dir(): string {
    return this.#dir;
  }

  /**
   * Set while the directory is recovering: it was recreated after damage (repair.ts) and has not
   * yet caught up with a leader. The node must not vote or count toward a quorum meanwhile.
   */
  get recovering(): RecoveringMarker | undefined {
    return this.#recovering;
  }

  /**
   * Writes the recovering marker, synced: the Raft core found at run time that this node lost
   * entries it had acknowledged (raft/recovery.ts), so a restart must recover too. Idempotent.
   */
  markRecovering(marker: RecoveringMarker): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#recovering !== undefined) return;
      await writeRecoveringMarker(this.#db, marker);
      this.#logger.warn({ dir: this.#dir, ...marker }, 'storage is recovering: it lost acknowledged entries, not yet caught up with a leader');
      this.#recovering = marker;
    });
  }

  /** Deletes the recovering marker, synced (the node has caught up). Idempotent. */
  markRecovered(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#recovering === undefined) return;
      await deleteRecoveringMarker(this.#db);
      this.#logger.info({ dir: this.#dir, since: this.#recovering.since }, 'storage recovered: caught up with a leader');
      this.#recovering = undefined;
    });
  }

  // ---- raft Storage (synchronous, served by the read cache) ----

  /** Hard state, and membership as of the applied index (what the state machine reflects). */
  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.#mem.hardState(), confState: this.#applied.confState };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.#mem.entries(lo, hi, maxBytes);
  }

  term(index: number): number {
    return this.#mem.term(index);
  }

  firstIndex(): number {
    return this.#mem.firstIndex();
  }

  lastIndex(): number {
    return this.#mem.lastIndex();
  }

  snapshot(): SnapshotMeta {
    return this.#mem.snapshot();
  }

  /** The persisted hard state. */
  hardState(): HardState {
    return this.#mem.hardState();
  }

  // ---- log writes ----

  /** Persists one Ready (entries, hard state, snapshot meta) in one synced batch. */
  save(batch: SaveBatch): Promise<SaveResult> {
    return this.#exclusive(() => this.#save(batch));
  }

  async #save(batch: SaveBatch): Promise<SaveResult> {
    const sync = batch.sync ?? true;
    if (!sync) checkUnsyncedSave(batch, this.#mem.hardState());
    const ops: BatchOp[] = [];
    const snapshot = this.#snapshotToSave(batch.snapshot, ops);
    // The log as the batch's entries see it: empty after a snapshot.
    const first = snapshot === null ? this.#mem.firstIndex() : snapshot.index + 1;
    const last = snapshot === null ? this.#mem.lastIndex() : snapshot.index;
    const entries = batch.entries.filter((e) => e.index >= first);
    const newLast = checkAppend(entries, last, snapshot === null ? Math.min(last, this.#cp.live.index) : 0, (i) => this.#mem.term(i));
    if (batch.applied !== undefined) this.#checkApplied(batch.applied.appliedIndex, newLast);
    if (batch.hardState !== undefined) {
      const hs = batch.hardState;
      const old = this.#mem.hardState();
      assert(hs.term >= old.term, () => `hard state term regresses: ${old.term} -> ${hs.term}`);
      assert(hs.commit >= old.commit, () => `hard state commit regresses: ${old.commit} -> ${hs.commit}`);
      assert(hs.commit <= newLast, () => `commit ${hs.commit} beyond the last index ${newLast} after this save`);
      ops.push({ type: 'put', key: hardStateKey, value: encodeRecord(hs) });
    }
    if (ops.length === 0 && entries.length === 0) {
      if (batch.applied !== undefined) this.#take(batch.applied);
      return { syncMs: 0, entryCount: 0 };
    }
    // LevelDB needs a sync for a checkpoint, a snapshot, or a term or vote (a promise); a hard
    // state that only moves the commit index is re-learned if lost (module comment).
    const old = this.#mem.hardState();
    const hs = batch.hardState;
    const levelSync = sync && (snapshot !== null || (hs !== undefined && (hs.term !== old.term || hs.vote !== old.vote)));
    const started = performance.now();
    if (snapshot !== null) {
      // The snapshot meta first (its state is installed), then the log replaced after it.
      await this.#db.batch(ops, { sync: true });
      await this.#log.replace(snapshot.index + 1);
      await this.#writeEntries(entries);
    } else {
      // The entries in the log before this save that it keeps: what the batch may rely on.
      const kept = entries.length === 0 ? last : Math.min(last, entries[0]!.index - 1);
      const independent = (batch.hardState?.commit ?? 0) <= kept;
      if (independent) {
        await Promise.all([this.#writeEntries(entries), ops.length === 0 ? undefined : this.#db.batch(ops, { sync: levelSync })]);
      } else {
        await this.#writeEntries(entries);
        if (ops.length > 0) await this.#db.batch(ops, { sync: levelSync });
      }
    }
    const syncMs = performance.now() - started;
    if (snapshot !== null) {
      this.#mem.applySnapshot(snapshot);
      this.#runs.clear();
    }
    this.#runs.append(entries, (from, to) => this.#bytesOf(from, to));
    this.#mem.append(entries);
    if (batch.hardState !== undefined) this.#mem.setHardState(batch.hardState);
    // In memory (checkpointer.ts), after the entries are written: a background checkpoint may
    // start, and it relies on them.
    if (batch.applied !== undefined) this.#take(batch.applied);
    assert(this.#mem.lastIndex() === newLast, () => `last index ${this.#mem.lastIndex()} != ${newLast} after save`);
    this.#checkInvariants();
    return { syncMs, entryCount: entries.length };
  }

  /** Writes `entries` to the segments (overwriting a conflicting suffix) and syncs them. */
  async #writeEntries(entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.#log.write(entries);
    await this.#log.sync();
  }

  /** Bytes accounted for the stored entries in [from, to) (log-runs.ts). */
  #bytesOf(from: number, to: number): number {
    let bytes = 0;
    const lo = Math.max(from, this.#mem.firstIndex());
    if (lo < to) for (const e of this.#mem.entries(lo, to, Number.MAX_SAFE_INTEGER)) bytes += entryBytes(e);
    return bytes;
  }

  /** Validates a Ready's snapshot meta; returns it if the log must be replaced, else null. */
  #snapshotToSave(meta: SnapshotMeta | undefined, ops: BatchOp[]): SnapshotMeta | null {
    if (meta === undefined) return null;
    const current = this.#mem.snapshot().index;
    if (meta.index < current) throw new RaftError('COMPACTED', `snapshot ${meta.index} is older than ${current}`);
    if (meta.index === current) return null;
    assert(meta.index <= this.#cp.live.index, () => `snapshot ${meta.index} saved before its state was installed (applied ${this.#cp.live.index})`);
    ops.push({ type: 'put', key: snapshotMetaKey, value: encodeRecord(meta) });
    return meta;
  }

  /**
   * Records a snapshot at `index` (term from the log, membership `confState`) and drops the
   * log up to and including it. Invariant: index <= appliedIndex(). Older indexes are a no-op.
   */
  compact(index: number, confState: ConfState): Promise<void> {
    return this.#exclusive(async () => {
      const first = this.#mem.firstIndex();
      if (index < first) return;
      assert(index <= this.#applied.index, () => `compact ${index} beyond the checkpoint ${this.#applied.index}`);
      assert(!this.#copies.enabled || index <= this.copiedThrough(), () => `compact ${index} beyond the durable copies of log data (${this.copiedThrough()})`);
      const meta: SnapshotMeta = { index, term: this.#mem.term(index), confState };
      // Synced first. It relies on the applied state up to `index`, which a checkpoint synced.
      await this.#db.put(snapshotMetaKey, encodeRecord(meta), { sync: true });
      // Durable at the next sync: a segment that comes back lies at or below the snapshot, skipped at open.
      await this.#log.compact(index);
      this.#runs.dropThrough(index);
      this.#mem.createSnapshot(index, confState);
      this.#mem.compact(index);
      assert(this.#mem.firstIndex() === index + 1, () => `first index ${this.#mem.firstIndex()} after compact ${index}`);
      this.#logger.info({ index, entriesDropped: index - first + 1 }, 'log compacted');
    });
  }

  /** Bytes of the stored log (what the read cache holds, give or take the entry framing). */
  logBytes(): number {
    return this.#runs.bytes;
  }

  /**
   * The compaction index that keeps at most `bytes` of stored log after it, below `upTo`:
   * whole saves are kept from `upTo` backwards while they fit, and the save holding `upTo` is
   * always kept (so a follower one Ready behind never needs a snapshot, however large that
   * Ready was). At least the snapshot index.
   */
  indexKeepingBytes(upTo: number, bytes: number): number {
    return this.#runs.indexKeepingBytes(upTo, bytes, this.#mem.snapshot().index);
  }

  // ---- copies of log data (log-copies.ts) ----

  /** Whether the application copies log data it still needs before a compaction (DurableStorageOptions.logBacked). */
  get copiesLogData(): boolean {
    return this.#copies.enabled;
  }

  /** The index through which copies of log data were taken in (durable or not): the next ones start after it. */
  copyFloor(): number {
    return this.#copies.floor;
  }

  /** The index through which the copies of log data are durable: compaction may reach it. */
  copiedThrough(): number {
    return this.#copies.durableThrough(this.#cp.durableRound);
  }

  /**
   * Takes in `writes`, the copies of the log data of entries after copyFloor() up to `through`
   * that the state as applied now needs (read under the ready-loop lock), to be durable with the
   * checkpoint it requests; a compaction waits for it (copiedThrough()).
   */
  copyOutOfLog(through: number, writes: readonly StateWrite[]): Promise<void> {
    return this.#exclusive(async () => {
      assert(this.#copies.enabled, 'copies of log data without log-backed keys');
      assert(through <= this.#cp.live.index, () => `copies through ${through} beyond the applied index ${this.#cp.live.index}`);
      const round = this.#cp.pendingRound;
      this.#cp.take(writes, this.#cp.live.index, this.#cp.live.confState, 0);
      this.#copies.add(through, round);
      // Not left for a checkpoint to fall due: an idle node would never compact.
      this.#cp.request();
    });
  }

  // ---- applied state ----

  /** The index of the last checkpoint: the applied state LevelDB holds, and the bound of compaction. */
  appliedIndex(): number {
    return this.#applied.index;
  }

  /** Membership as of the checkpoint. */
  appliedConfState(): ConfState {
    return this.#applied.confState;
  }

  /** The applied index the state machine reflects (at or after the checkpoint: the pending changes). */
  liveAppliedIndex(): number {
    return this.#cp.live.index;
  }

  /**
   * Applies state-machine changes and checkpoints at once: durable when it resolves.
   * Invariant: appliedIndex <= lastIndex() and never decreases.
   */
  applyBatch(writes: readonly StateWrite[], appliedIndex: number, confState: ConfState): Promise<void> {
    return this.#exclusive(async () => {
      this.#checkApplied(appliedIndex, this.#mem.lastIndex());
      this.#take({ writes, appliedIndex, confState });
      await this.#cp.flushNow();
    });
  }

  /** Writes a checkpoint of everything applied so far, synced (a no-op when there is nothing new). */
  checkpoint(): Promise<void> {
    return this.#exclusive(() => this.#cp.flushNow());
  }

  #checkApplied(appliedIndex: number, last: number): void {
    assert(appliedIndex >= this.#cp.live.index, () => `applied index regresses: ${this.#cp.live.index} -> ${appliedIndex}`);
    assert(appliedIndex <= last, () => `applied index ${appliedIndex} beyond last index ${last}`);
  }

  /** Hands applied changes to the checkpointer with the bytes of log they cover. */
  #take(changes: AppliedChanges): void {
    const { appliedIndex } = changes;
    const from = Math.max(this.#cp.live.index + 1, this.#mem.firstIndex());
    const logBytes = from <= appliedIndex && appliedIndex <= this.#mem.lastIndex() ? this.#bytesOf(from, appliedIndex + 1) : 0;
    this.#cp.take(this.#copies.filter(changes.writes), appliedIndex, changes.confState, logBytes);
  }

  /** The applied value at `key`, or undefined. A damaged value: StorageCorruptionError. */
  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#reads.get(key);
  }

  /** The applied values at `keys`, in order (undefined where absent), in one LevelDB multi-get. A damaged value: StorageCorruptionError. */
  getMany(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    return this.#reads.getMany(keys);
  }

  /** Applied pairs under `prefix`, in key order (at load only: nothing pending). A damaged value: StorageCorruptionError. */
  iterate(prefix: Uint8Array): AsyncGenerator<[Uint8Array, Uint8Array]> {
    return this.#reads.iterate(prefix);
  }

  // ---- snapshots ----

  /**
   * A consistent snapshot of the applied state at the current applied index, read from a
   * LevelDB snapshot taken while no write is in flight.
   */
  openSnapshotReader(opts: SnapshotReaderOptions = {}): Promise<SnapshotReader> {
    return this.#exclusive(async () => {
      // A snapshot is of the applied state now: everything pending is checkpointed first.
      await this.#cp.flushNow();
      const dbSnapshot = this.#db.snapshot();
      const stored = await this.#db.get(appliedMetaKey, { snapshot: dbSnapshot });
      assert(stored !== undefined, 'applied meta missing');
      const applied = parseAppliedMeta(decodeRecord('appliedMeta', stored, this.#verify));
      // Pair assertion: the LevelDB snapshot sees exactly the applied meta we believe in.
      assert(applied.index === this.#applied.index && applied.generation === this.#applied.generation, 'snapshot applied meta differs from memory');
      const meta: SnapshotMeta = { index: applied.index, term: this.#mem.term(applied.index), confState: applied.confState };
      // The receiver's log starts after the snapshot: the data it needs of the entries this
      // node's log still holds comes as copies (log-copies.ts).
      const first = this.#mem.firstIndex();
      const copies = this.#copies.snapshotCopies(applied.index >= first ? this.#mem.entries(first, applied.index + 1, Number.MAX_SAFE_INTEGER) : []);
      return new LevelSnapshotReader(this.#db, dbSnapshot, meta, applied.generation, opts.chunkBytesMax ?? snapshotChunkBytesMax, this.#verify, copies);
    });
  }

  /**
   * Replaces the applied state and the log with a snapshot streamed in `chunks`, durably
   * (module comment). Throws RaftError COMPACTED when `meta` is older than the snapshot, the
   * applied index or the commit index; SnapshotFormatError on a malformed chunk.
   */
  async installSnapshot(meta: SnapshotMeta, chunks: AsyncIterable<Uint8Array>): Promise<InstallResult> {
    assert(!this.#installing, 'concurrent snapshot installs');
    this.#checkInstallable(meta);
    this.#installing = true;
    const oldGen = this.#applied.generation;
    const gen = oldGen + 1;
    assert(gen <= generationMax, 'applied-state generations exhausted');
    const staged = { gte: generationPrefix(gen), lt: generationPrefix(gen + 1) };
    try {
      // Staging is synced throughout: the switch relies on every pair (module comment).
      await clearDurably(this.#db, staged);
      let pairCount = 0;
      let chunkCount = 0;
      for await (const chunk of chunks) {
        const pairs = decodeSnapshotChunk(chunk, chunkCount);
        await this.#db.batch(pairs.map(([k, v]): BatchOp => ({ type: 'put', key: appliedKey(gen, k), value: encodeAppliedValue(k, v) })), { sync: true });
        pairCount += pairs.length;
        chunkCount++;
      }
      await this.#exclusive(() => this.#switchToSnapshot(meta, gen));
      this.#logger.info({ index: meta.index, term: meta.term, pairCount, chunkCount }, 'snapshot installed');
      // Unsynced: the old generation is below the live one, never read again (module comment).
      await this.#db.clear({ gte: generationPrefix(oldGen), lt: generationPrefix(oldGen + 1) });
      return { pairCount, chunkCount };
    } catch (err) {
      if (this.#applied.generation !== gen && !this.#closed) await clearDurably(this.#db, staged);
      throw err;
    } finally {
      this.#installing = false;
    }
  }

  #checkInstallable(meta: SnapshotMeta): void {
    const floor = Math.max(this.#mem.snapshot().index, this.#cp.live.index, this.#mem.hardState().commit);
    if (meta.index < floor) throw new RaftError('COMPACTED', `snapshot ${meta.index} is older than the local state at ${floor}`);
  }

  /** The commit point of an install: one synced batch switches generation, applied meta and log. */
  async #switchToSnapshot(meta: SnapshotMeta, gen: number): Promise<void> {
    this.#checkInstallable(meta);
    // A checkpoint in flight writes the old generation: done before the switch, never after it.
    await this.#cp.settle();
    const applied: AppliedMeta = { index: meta.index, confState: meta.confState, generation: gen };
    const ops: BatchOp[] = [];
    ops.push({ type: 'put', key: snapshotMetaKey, value: encodeRecord(meta) });
    ops.push({ type: 'put', key: appliedMetaKey, value: encodeRecord(applied) });
    // A snapshot holds only committed state. Raising the durable commit with it keeps
    // applied <= commit across a crash before the core's next save (raft.ts asserts it on start).
    const hs = this.#mem.hardState();
    const hardState: HardState = hs.commit < meta.index ? { ...hs, commit: meta.index } : hs;
    if (hardState !== hs) ops.push({ type: 'put', key: hardStateKey, value: encodeRecord(hardState) });
    await this.#db.batch(ops, { sync: true });
    // Then the log: a crash before this is durable leaves a log open() replaces (module comment).
    await this.#log.replace(meta.index + 1);
    this.#mem.applySnapshot(meta);
    this.#runs.clear();
    this.#mem.setHardState(hardState);
    this.#cp.reset(applied);
    this.#copies.reset(meta.index);
    this.#checkInvariants();
  }

  // ---- lifecycle ----

  /** Waits for queued writes, then closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // A clean stop checkpoints, so the next open replays nothing.
    await this.#exclusive(() => this.#cp.flushNow()).catch((err: unknown) => this.#logger.warn({ err: String(err) }, 'no checkpoint at close: the next open replays the log after the last one'));
    this.#closed = true;
    await this.#tail;
    await this.#log.close();
    await this.#db.close();
  }

  /** Runs `fn` after every earlier mutation has finished. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    assert(!this.#closed, 'storage is closed');
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Checks the storage invariants. */
  #checkInvariants(): void {
    const snap = this.#mem.snapshot().index;
    const last = this.#mem.lastIndex();
    assert(this.#mem.firstIndex() === snap + 1, 'first index != snapshot index + 1');
    const live = this.#cp.live.index;
    assert(snap <= this.#applied.index && this.#applied.index <= live && live <= last, () => `checkpoint ${this.#applied.index} / applied ${live} outside [${snap}, ${last}]`);
    assert(this.#mem.hardState().commit <= last, () => `commit ${this.#mem.hardState().commit} beyond last index ${last}`);
    assert(this.#log.lastIndex() === last, () => `segment log ends at ${this.#log.lastIndex()}, the log at ${last}`);
    this.#runs.checkCovers(snap + 1, last);
  }
}
