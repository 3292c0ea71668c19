/**
 * What the runtime does around a snapshot install (issue 17, item 5); the install itself, both
 * stream directions, is snapshot-transfer.ts, which calls the two hooks here:
 *
 * - runPaused: the end of an install runs holding the ready-loop lock, with inbound Raft
 *   messages held back (the runtime asks `hold` for each one, and its tick skips while `paused`);
 *   once it ends they are stepped in arrival order and the ready loop is kicked.
 * - adopt: the storage switched to the snapshot, so everything derived from the applied state
 *   follows, in this order: stamps are known to be in the past (LeaderStamper.noteReceived), the
 *   application reloads, cluster time reloads, the membership adopts the snapshot's
 *   configuration and stored address book, the proposer drops what the snapshot decided.
 *
 * Every part is reached through a narrow interface, so tests drive this class with fakes.
 */
import type { Message, SnapshotMessage } from '../../raft/types.js';
import type { AppStateReader } from './application.js';
import type { Membership } from './membership-owner.js';
import { membersKey } from './membership.js';

/** What snapshot adoption needs of its node. */
export interface SnapshotAdoptionOptions {
  /** The ready-loop lock (mutex.ts). */
  readonly lock: { run(fn: () => Promise<void>): Promise<void> };
  /** Steps a held inbound message into the Raft core. */
  readonly step: (m: Message) => void;
  /** Wakes the ready loop. */
  readonly kick: () => void;
  /** The state the snapshot was installed into. */
  readonly storage: AppStateReader;
  readonly stamper: { noteReceived(): void };
  readonly app: { reload(reader: AppStateReader): Promise<void> };
  readonly clusterClock: { load(reader: Pick<AppStateReader, 'get'>): Promise<void> };
  readonly membership: Pick<Membership, 'adoptSnapshot'>;
  readonly proposer: { adoptSnapshot(index: number): void };
}

/** The pause around an install's end and the adoption of its state: see the module comment. */
export class SnapshotAdoption {
  readonly #o: SnapshotAdoptionOptions;
  /** While a snapshot install holds the lock, inbound raft messages wait here. */
  #paused = false;
  #held: Message[] = [];

  constructor(opts: SnapshotAdoptionOptions) {
    this.#o = opts;
  }

  /** Whether an install's end holds the ready-loop lock now (the tick timer skips). */
  get paused(): boolean {
    return this.#paused;
  }

  /** Holds back `m` while paused (true); false when it may be stepped now. */
  hold(m: Message): boolean {
    if (!this.#paused) return false;
    this.#held.push(m);
    return true;
  }

  /**
   * Runs `fn` (the end of a snapshot install, snapshot-transfer.ts) holding the ready-loop lock
   * with inbound Raft messages held back; they are stepped once it ends.
   */
  runPaused(fn: () => Promise<void>): Promise<void> {
    return this.#o.lock.run(async () => {
      this.#paused = true;
      try {
        await fn();
      } finally {
        this.#paused = false;
        const held = this.#held;
        this.#held = [];
        for (const m of held) this.#o.step(m);
        this.#o.kick();
      }
    });
  }

  /** The storage switched to `msg`'s snapshot: reload the application, adopt its membership. */
  async adopt(msg: SnapshotMessage): Promise<void> {
    const o = this.#o;
    // The snapshot came from another node: every stamp it reflects was made before now.
    o.stamper.noteReceived();
    await o.app.reload(o.storage);
    await o.clusterClock.load(o.storage);
    o.membership.adoptSnapshot(msg.snapshot, await o.storage.get(membersKey));
    o.proposer.adoptSnapshot(msg.snapshot.index);
  }
}
