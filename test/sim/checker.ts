import type { Entry, MemoryStorage, NodeId, RawNode } from '../../raft/index.js';
import { RaftqError } from '../../src/errors.js';
import type { NodeObserver } from './sim-node.js';

/** What the checker reads of a simulated node (SimNode, ReplicaNode). */
export interface ObservedNode {
  readonly id: NodeId;
  /** The durable storage. */
  readonly storage: MemoryStorage;
  readonly node: RawNode;
  /** The highest entry the node acknowledged to a leader in `term`. */
  readonly acked: { readonly term: number; readonly index: number; readonly entryTerm: number } | undefined;
}

const decoder = new TextDecoder();

/** A violated Raft safety property, with what was observed. */
export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
  constructor(
    readonly property: 'ElectionSafety' | 'LogMatching' | 'LeaderCompleteness' | 'StateMachineSafety' | 'CommitSafety' | 'Durability' | 'ProposalOutcome',
    detail: string,
  ) {
    super(`${property}: ${detail}`);
  }
}

function entryKey(e: Entry): string {
  return `${e.type}:${decoder.decode(e.data)}`;
}

/**
 * Checks the Raft safety properties (Raft paper, Figure 3) over everything the simulated nodes
 * do: Election Safety, Log Matching, Leader Completeness and State Machine Safety, plus that no
 * follower lost an entry it acknowledged.
 */
export class SafetyChecker implements NodeObserver {
  /** term -> the node that led it. */
  readonly leaders = new Map<number, NodeId>();
  /** "index:term" -> the entry's key and the term of the entry before it. */
  readonly #logEntries = new Map<string, { key: string; prevTerm: number | undefined }>();
  /** index -> term and key of the entry applied there (by anyone). */
  readonly applied = new Map<number, { term: number; key: string }>();
  /** index -> term of the entry committed there (by anyone). */
  readonly #committed = new Map<number, number>();
  readonly #checkedCommit = new Map<NodeId, number>();
  /** "node:term" pairs whose leader log was checked for completeness. */
  readonly #leaderChecked = new Set<string>();
  appliedCount = 0;
  /** Proposals answered "not applied" (UNAVAILABLE), by "index:term", with the node that answered. */
  readonly #notApplied = new Map<string, NodeId>();
  /** Proposals answered: applied, not applied, outcome unknown. */
  readonly outcomes = { ok: 0, notApplied: 0, unknown: 0 };

  onReady(): void {}

  /** A node may acknowledge only entries it has made durable (messages leave after the fsync). */
  onAck(node: ObservedNode, index: number, durableLast: number): void {
    if (index > durableLast) throw new SafetyViolation('Durability', `${node.id} acknowledged index ${index} but its durable log ends at ${durableLast}`);
  }

  /**
   * A client's answer must be true: "applied" only for the very entry (index, term) the
   * proposal made, once applied; "not applied" (UNAVAILABLE: safe to retry) only for an entry
   * that no node ever applies.
   */
  onProposalOutcome(node: ObservedNode, key: string, at: { index: number; term: number }, outcome: 'ok' | Error): void {
    const applied = this.applied.get(at.index);
    const id = `${at.index}:${at.term}`;
    if (outcome === 'ok') {
      this.outcomes.ok++;
      if (applied?.term !== at.term || applied.key !== `normal:${key}`) throw new SafetyViolation('ProposalOutcome', `${node.id} answered ${key} (${id}) applied, but ${applied === undefined ? 'nothing' : `${applied.key}@${applied.term}`} applied there`);
    } else if (outcome instanceof RaftqError && outcome.code === 'UNAVAILABLE') {
      this.outcomes.notApplied++;
      if (applied?.term === at.term) throw new SafetyViolation('ProposalOutcome', `${node.id} answered ${key} (${id}) not applied (${outcome.message}), but it was applied`);
      this.#notApplied.set(id, node.id);
    } else {
      this.outcomes.unknown++;
    }
  }

  onPersist(node: ObservedNode, entries: readonly Entry[]): void {
    for (const e of entries) {
      // The durable log, not the in-memory one: newer unstable entries may already replace these.
      const prevTerm = e.index - 1 >= node.storage.firstIndex() - 1 ? node.storage.term(e.index - 1) : undefined;
      const id = `${e.index}:${e.term}`;
      const known = this.#logEntries.get(id);
      const key = entryKey(e);
      if (known === undefined) {
        this.#logEntries.set(id, { key, prevTerm });
        continue;
      }
      if (known.key !== key) throw new SafetyViolation('LogMatching', `${node.id}: entry ${id} is ${key}, elsewhere ${known.key}`);
      if (known.prevTerm !== undefined && prevTerm !== undefined && known.prevTerm !== prevTerm) {
        throw new SafetyViolation('LogMatching', `${node.id}: entry ${id} follows term ${prevTerm}, elsewhere ${known.prevTerm}`);
      }
    }
  }

  onApply(node: ObservedNode, e: Entry): void {
    this.appliedCount++;
    const key = entryKey(e);
    const refused = this.#notApplied.get(`${e.index}:${e.term}`);
    if (refused !== undefined) throw new SafetyViolation('ProposalOutcome', `${node.id} applied ${key} at ${e.index}, which ${refused} had answered not applied`);
    const prev = this.applied.get(e.index);
    if (prev === undefined) {
      this.applied.set(e.index, { term: e.term, key });
    } else if (prev.term !== e.term || prev.key !== key) {
      throw new SafetyViolation('StateMachineSafety', `${node.id} applied ${key}@${e.term} at ${e.index}; another node applied ${prev.key}@${prev.term}`);
    }
  }

  /** Checks every node's current state; call after each simulator event. */
  checkNodes(nodes: readonly ObservedNode[]): void {
    for (const n of nodes) {
      const r = n.node.coreForTesting();
      const a = n.acked;
      if (a !== undefined && a.term === r.term && a.index >= r.log.firstIndex() && r.log.maybeTerm(a.index) !== a.entryTerm) {
        throw new SafetyViolation('Durability', `${n.id} acknowledged ${a.index}@${a.entryTerm} in term ${a.term} but its log no longer holds it`);
      }
      this.#recordCommits(n);
      if (r.role === 'leader') {
        const other = this.leaders.get(r.term);
        if (other !== undefined && other !== n.id) throw new SafetyViolation('ElectionSafety', `${other} and ${n.id} both led term ${r.term}`);
        this.leaders.set(r.term, n.id);
        const k = `${n.id}:${r.term}`;
        if (!this.#leaderChecked.has(k)) {
          this.#leaderChecked.add(k);
          this.#checkLeaderCompleteness(n);
        }
      }
    }
  }

  #recordCommits(n: ObservedNode): void {
    const log = n.node.coreForTesting().log;
    const from = Math.max(this.#checkedCommit.get(n.id) ?? 0, log.firstIndex() - 1);
    for (let i = from + 1; i <= log.committed; i++) {
      const t = log.maybeTerm(i);
      if (t === undefined) continue;
      const prev = this.#committed.get(i);
      if (prev === undefined) this.#committed.set(i, t);
      else if (prev !== t) throw new SafetyViolation('CommitSafety', `${n.id} committed term ${t} at ${i}; elsewhere term ${prev}`);
    }
    this.#checkedCommit.set(n.id, Math.max(from, log.committed));
  }

  #checkLeaderCompleteness(n: ObservedNode): void {
    const log = n.node.coreForTesting().log;
    for (const [i, t] of this.#committed) {
      if (i < log.firstIndex()) continue;
      const have = log.maybeTerm(i);
      if (have !== t) {
        throw new SafetyViolation('LeaderCompleteness', `${n.id} leads term ${n.node.coreForTesting().term} without committed entry ${i}@${t} (has ${have ?? 'none'})`);
      }
    }
  }
}
