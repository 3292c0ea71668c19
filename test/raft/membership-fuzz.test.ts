import { describe, expect, it } from 'vitest';
import { RaftError, seededRng, type ConfChange, type NodeId } from '../../raft/index.js';
import { TestCluster } from './harness.js';

/**
 * The simulator never changes membership, so this drives the scenario harness at random:
 * proposals, single-server conf changes (add learner / add voter / remove, including the leader),
 * leadership transfers, ReadIndex, crashes, restarts and partitions. The SafetyChecker runs after
 * every step; at the end the faults heal and a proposal must reach every member.
 * RAFTQ_RAFT_FUZZ_SEEDS sets the number of seeds (1,000 passed locally in about 5 s).
 */
const seeds = Number(process.env['RAFTQ_RAFT_FUZZ_SEEDS'] ?? 150);
const stepsPerSeed = 300;
const encoder = new TextEncoder();
const changeTypes: readonly ConfChange['type'][] = ['addLearner', 'addVoter', 'removeNode'];

interface FuzzStats {
  leaders: number;
  snapshots: number;
  configurations: Set<string>;
}

function runSeed(seed: number, stats: FuzzStats): void {
  const rng = seededRng(seed);
  const c = new TestCluster({ seed, snapshotEveryEntries: rng.next() < 0.5 ? 6 : Number.MAX_SAFE_INTEGER });
  // n4 and n5 exist from the start with the initial membership, not yet members.
  const initial = c.raft('n1').prs.confState();
  c.addNode('n4', initial);
  c.addNode('n5', initial);
  const ids: NodeId[] = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const pick = (): NodeId => ids[rng.int(ids.length)]!;
  let seq = 0;
  for (let step = 0; step < stepsPerSeed; step++) {
    const op = rng.int(10);
    const leader = c.leader();
    try {
      if (op <= 3) c.tickAll(1 + rng.int(3));
      else if (op === 4 && leader !== undefined) c.propose(leader, `p${seq++}`);
      else if (op === 5 && leader !== undefined) c.sim(leader).node.proposeConfChange({ type: changeTypes[rng.int(3)]!, nodeId: pick() });
      else if (op === 6 && leader !== undefined) c.sim(leader).node.transferLeadership(pick());
      else if (op === 7) {
        const id = pick();
        if (c.isDown(id)) c.restart(id);
        else if (rng.next() < 0.5) c.crash(id);
      } else if (op === 8) {
        if (rng.next() < 0.5) c.heal();
        else c.isolate(pick());
      } else if (op === 9) {
        const id = pick();
        if (!c.isDown(id)) c.sim(id).node.readIndex(encoder.encode(`r${seq++}`));
      }
    } catch (e) {
      // Operating errors (NOT_LEADER, CONF_CHANGE_PENDING, INVALID_CONF_CHANGE...) are expected;
      // AssertionErrors and SafetyViolations fail the seed.
      if (!(e instanceof RaftError)) throw new Error(`seed ${seed}, step ${step}: ${String(e)}`, { cause: e });
    }
  }
  c.heal();
  for (const id of ids) if (c.isDown(id)) c.restart(id);
  c.tickAll(50); // transfers in flight finish or abort
  const leader = c.tickUntilLeader(400);
  const cs = c.raft(leader).prs.confState();
  c.propose(leader, 'final');
  c.tickAll(30);
  for (const id of [...cs.voters, ...cs.learners]) {
    expect(c.applied(id).at(-1), `seed ${seed}: ${id} in ${JSON.stringify(cs)}`).toBe('final');
  }
  stats.leaders += c.checker.leaders.size;
  stats.snapshots += c.sentSnapshots.length;
  stats.configurations.add(JSON.stringify(cs));
}

describe('membership changes under faults (seeded)', () => {
  it(`§4 random conf changes, transfers, reads, crashes and partitions keep safety and end live (${seeds} seeds)`, () => {
    const stats: FuzzStats = { leaders: 0, snapshots: 0, configurations: new Set() };
    for (let seed = 1; seed <= seeds; seed++) runSeed(seed, stats);
    // The seeds explore: many elections, snapshot installs and final configurations.
    expect(stats.leaders).toBeGreaterThan(seeds * 2);
    expect(stats.snapshots).toBeGreaterThan(seeds / 2);
    expect(stats.configurations.size).toBeGreaterThan(10);
  }, 60_000);
});
