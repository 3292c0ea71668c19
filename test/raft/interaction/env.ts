import {
  MemoryStorage,
  RaftError,
  RawNode,
  applyConfChange,
  decodeConfChange,
  seededRng,
  type ConfState,
  type Message,
  type MessageType,
  type RaftConfig,
  type SnapshotMeta,
} from '../../../raft/index.js';
import { describeMessage, describeReady } from './format.js';

/**
 * The world of one scenario: raftq RawNodes with in-memory storage, the messages in flight
 * between them, and the output the commands print. The counterpart of etcd's
 * rafttest.InteractionEnv, rebuilt over raftq's RawNode: storage writes are synchronous
 * (process-ready persists, applies and advances in one step), as in etcd's tests without
 * async-storage-writes.
 */

/**
 * Storage that answers snapshot() with the latest state the node applied, as etcd's test
 * environment does, so a leader can always send a snapshot of what it has applied.
 */
class ScenarioStorage extends MemoryStorage {
  constructor(private readonly history: SnapshotMeta[]) {
    super();
  }

  override snapshot(): SnapshotMeta {
    return this.history[this.history.length - 1]!;
  }
}

/** One node of a scenario. Node ids are "1", "2", ... as in etcd's scenarios. */
export interface ScenarioNode {
  readonly id: string;
  readonly rawNode: RawNode;
  readonly storage: MemoryStorage;
  readonly config: RaftConfig;
  /** The applied state after each applied entry: what snapshot() hands out. */
  readonly history: SnapshotMeta[];
  /** Byte budget of committed entries per Ready (etcd's MaxCommittedSizePerReady). */
  readonly applyBytesMax: number;
}

/** Options of add-nodes, named as in etcd's scenarios. */
export interface AddNodesOptions {
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  /** The index of the bootstrap snapshot (0: no bootstrap, an empty node). */
  readonly index: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly inflightMessagesMax: number;
  readonly applyBytesMax: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
}

/** etcd's interaction tests use ElectionTick 3 and HeartbeatTick 1 unless add-nodes says otherwise. */
export const electionTicks = 3;
export const heartbeatTicks = 1;
const unlimitedBytes = Number.MAX_SAFE_INTEGER;

export class InteractionEnv {
  readonly nodes: ScenarioNode[] = [];
  /** Messages sent and not yet delivered or dropped, in send order. */
  messages: Message[] = [];
  /** Set by `log-level none`: commands print nothing (etcd's RedirectLogger.Quiet). */
  quiet = false;
  #out = '';

  /** Appends text to the output of the running command (nothing when quiet). */
  write(s: string): void {
    if (!this.quiet) this.#out += s;
  }

  /** A command's error: printed even when quiet, as etcd's Handle returns it. */
  writeError(s: string): void {
    this.#out += s + '\n';
  }

  writeLine(s: string): void {
    this.write(s + '\n');
  }

  /** Takes the output collected so far. */
  takeOutput(): string {
    const s = this.#out;
    this.#out = '';
    return s;
  }

  /** Runs `f`, indenting every line it prints by two spaces (as etcd's withIndent). */
  withIndent(f: () => void): void {
    const outer = this.#out;
    this.#out = '';
    try {
      f();
    } finally {
      const inner = this.#out;
      const lines = inner.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      this.#out = outer + lines.map((l) => '  ' + l + '\n').join('');
    }
  }

  node(idx: number): ScenarioNode {
    const n = this.nodes[idx];
    if (n === undefined) throw new Error(`no node ${idx + 1}`);
    return n;
  }

  addNodes(count: number, o: AddNodesOptions): void {
    for (let i = 0; i < count; i++) {
      const id = String(this.nodes.length + 1);
      const confState: ConfState = { voters: [...o.voters], learners: [...o.learners] };
      const bootstrap: SnapshotMeta = { index: o.index, term: o.index > 0 ? 1 : 0, confState };
      const history: SnapshotMeta[] = [bootstrap];
      const storage = new ScenarioStorage(history);
      if (o.index > 0) storage.applySnapshot(bootstrap);
      const config: RaftConfig = {
        id,
        storage,
        electionTicks: o.electionTicks,
        heartbeatTicks: o.heartbeatTicks,
        applied: o.index,
        preVote: o.preVote,
        checkQuorum: o.checkQuorum,
        appendBytesMax: unlimitedBytes,
        inflightMessagesMax: o.inflightMessagesMax,
        inflightBytesMax: 0,
        uncommittedBytesMax: unlimitedBytes,
        applyBytesMax: o.applyBytesMax,
        rng: seededRng(Number(id)),
      };
      this.nodes.push({ id, rawNode: new RawNode(config), storage, config, history, applyBytesMax: o.applyBytesMax });
    }
  }

  /**
   * Handles one Ready of node `idx`: prints it, persists its hard state, snapshot and entries,
   * records the applied state, queues its messages and advances.
   */
  processReady(idx: number): void {
    const n = this.node(idx);
    const rd = n.rawNode.ready(n.applyBytesMax);
    const text = describeReady(rd);
    this.write(text.endsWith('\n') ? text : text + '\n');
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    if (rd.snapshot !== undefined) {
      if (rd.entries.length > 0) throw new Error("can't apply snapshot and entries at the same time");
      n.storage.applySnapshot(rd.snapshot);
    } else {
      n.storage.append(rd.entries);
    }
    for (const e of rd.committedEntries) {
      let cs = n.history[n.history.length - 1]!.confState;
      if (e.type === 'conf') cs = applyConfChange(cs, decodeConfChange(e.data));
      n.history.push({ index: e.index, term: e.term, confState: cs });
    }
    this.messages.push(...rd.messages);
    n.rawNode.advance(rd);
  }

  /**
   * Delivers (or drops) the messages in flight to each recipient, optionally only those of
   * type `type`, in send order. Returns how many messages it took.
   */
  deliverMsgs(type: MessageType | undefined, recipients: ReadonlyArray<{ id: string; drop: boolean }>): number {
    let count = 0;
    for (const r of recipients) {
      const take = (m: Message): boolean => m.to === r.id && (type === undefined || m.type === type);
      const msgs = this.messages.filter(take);
      this.messages = this.messages.filter((m) => !take(m));
      count += msgs.length;
      for (const m of msgs) {
        this.writeLine((r.drop ? 'dropped: ' : '') + describeMessage(m));
        if (r.drop) continue;
        try {
          this.node(Number(m.to) - 1).rawNode.step(m);
        } catch (e) {
          if (!(e instanceof RaftError)) throw e;
          this.writeLine(e.message);
        }
      }
    }
    return count;
  }

  /** Handles Readies and delivers messages among `idxs` (all nodes if empty) until quiet. */
  stabilize(idxs: readonly number[]): void {
    const nodes = idxs.length > 0 ? idxs.map((i) => this.node(i)) : this.nodes;
    for (;;) {
      let done = true;
      for (const n of nodes) {
        if (!n.rawNode.hasReady()) continue;
        this.writeLine(`> ${n.id} handling Ready`);
        this.withIndent(() => this.processReady(Number(n.id) - 1));
        done = false;
      }
      for (const n of nodes) {
        if (!this.messages.some((m) => m.to === n.id)) continue;
        this.writeLine(`> ${n.id} receiving messages`);
        this.withIndent(() => this.deliverMsgs(undefined, [{ id: n.id, drop: false }]));
        done = false;
      }
      if (done) return;
    }
  }
}
