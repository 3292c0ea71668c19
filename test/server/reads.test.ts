/**
 * LinearizableReads (src/server/reads.ts), the one owner of a node's linearizable reads, driven
 * with a fake Raft core under fake timers: no sockets, no storage. Each test plays the ready
 * loop's part by hand (onReadStates, notifyApplied after advance, onLeaderKnown on a soft-state
 * change naming a leader, failAll at shutdown).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RaftError } from '../../raft/errors.js';
import { NONE, type NodeId } from '../../raft/types.js';
import type { RaftqError } from '../../src/errors.js';
import { LinearizableReads, type ReadsRaft } from '../../src/server/reads.js';

/** A Raft core that records the read contexts it takes and refuses them while it knows no leader. */
class FakeRaft implements ReadsRaft {
  leader: NodeId = 'n2';
  applied = 10;
  /** Refuses every readIndex with this error while set (a leader over its outstanding-read bound). */
  refuse: Error | undefined;
  /** Every context handed to the core, in order (a retry hands the same one again). */
  readonly asked: string[] = [];

  readIndex(context: Uint8Array): void {
    if (this.leader === NONE) throw new RaftError('NOT_LEADER', 'no leader to serve a read index');
    if (this.refuse !== undefined) throw this.refuse;
    this.asked.push(text(context));
  }
}

const timeoutMs = 1000;
const shutdownMessage = 'UNAVAILABLE node shut down before the read completed';

function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/** A promise's outcome as a string once it settles ('pending' until then), for ordering checks. */
function track(p: Promise<void>): { readonly outcome: string } {
  const t = { outcome: 'pending' };
  p.then(
    () => (t.outcome = 'ok'),
    (e: RaftqError) => (t.outcome = `${e.code} ${e.message}`),
  );
  return t;
}

function setup(raft = new FakeRaft()) {
  const kick = vi.fn();
  const reads = new LinearizableReads({ self: 'n1', raft, kick, now: () => Date.now() });
  /** Answers the read of `context` with `index`, as a Ready's read state. */
  const answer = (context: string, index: number) => reads.onReadStates([{ context: bytes(context), index }]);
  return { raft, kick, reads, answer };
}

/** Lets the promise continuations run (a read awaits its index, then its apply). */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

describe('LinearizableReads', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks the core with a context of this node and process, and completes when the read state names an applied index', async () => {
    const { raft, kick, reads, answer } = setup();
    const read = track(reads.read(timeoutMs));
    expect(raft.asked).toHaveLength(1);
    expect(raft.asked[0]).toMatch(/^n1\/[0-9a-f]{16}\/1$/);
    expect(kick).toHaveBeenCalledOnce();
    await settle();
    expect(read.outcome).toBe('pending');
    answer(raft.asked[0]!, 10);
    await settle();
    expect(read.outcome).toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
    // Each read gets its own context.
    void reads.read(timeoutMs);
    expect(raft.asked[1]).toBe(raft.asked[0]!.replace(/1$/, '2'));
  });

  it('a read whose index is above the applied one waits until notifyApplied sees it applied', async () => {
    const { raft, reads, answer } = setup();
    const read = track(reads.read(timeoutMs));
    answer(raft.asked[0]!, 12);
    await settle();
    raft.applied = 11;
    reads.notifyApplied();
    await settle();
    expect(read.outcome).toBe('pending');
    raft.applied = 13;
    reads.notifyApplied();
    await settle();
    expect(read.outcome).toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waitApplied resolves at once for an applied index, else when notifyApplied reaches it, else TIMEOUT', async () => {
    const { raft, reads } = setup();
    const done = track(reads.waitApplied(10, timeoutMs));
    const later = track(reads.waitApplied(15, timeoutMs));
    const never = track(reads.waitApplied(20, timeoutMs));
    await settle();
    expect(done.outcome).toBe('ok');
    raft.applied = 15;
    reads.notifyApplied();
    await settle();
    expect(later.outcome).toBe('ok');
    await vi.advanceTimersByTimeAsync(timeoutMs);
    expect(never.outcome).toBe('TIMEOUT timed out waiting for index 20 to apply (applied 10 when the wait began)');
  });

  it('without a read index at the deadline: TIMEOUT while a leader is known, NO_LEADER when none is', async () => {
    const { raft, reads } = setup();
    const withLeader = track(reads.read(timeoutMs));
    await vi.advanceTimersByTimeAsync(timeoutMs - 1);
    expect(withLeader.outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(withLeader.outcome).toBe('TIMEOUT linearizable read timed out waiting for a read index');
    raft.leader = NONE;
    const noLeader = track(reads.read(timeoutMs));
    await vi.advanceTimersByTimeAsync(timeoutMs);
    expect(noLeader.outcome).toBe('NO_LEADER linearizable read timed out waiting for a read index');
    // The code is chosen at the deadline, from the leader known then.
    const leaderFound = track(reads.read(timeoutMs));
    await vi.advanceTimersByTimeAsync(timeoutMs / 2);
    raft.leader = 'n3';
    await vi.advanceTimersByTimeAsync(timeoutMs / 2);
    expect(leaderFound.outcome).toBe('TIMEOUT linearizable read timed out waiting for a read index');
    const leaderLost = track(reads.read(timeoutMs));
    raft.leader = NONE;
    await vi.advanceTimersByTimeAsync(timeoutMs);
    expect(leaderLost.outcome).toBe('NO_LEADER linearizable read timed out waiting for a read index');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a read whose index never applies fails TIMEOUT at its own deadline, the wait for the index included', async () => {
    const { raft, reads, answer } = setup();
    const read = track(reads.read(timeoutMs));
    await vi.advanceTimersByTimeAsync(600);
    answer(raft.asked[0]!, 12);
    await vi.advanceTimersByTimeAsync(399);
    expect(read.outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(read.outcome).toBe('TIMEOUT timed out waiting for index 12 to apply (applied 10 when the wait began)');
    // An answer after the deadline completes nothing.
    answer(raft.asked[0]!, 12);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ignores a read state for a context another process started (or none started)', async () => {
    const raft = new FakeRaft();
    const { reads, answer } = setup(raft);
    // An earlier incarnation of n1 on the same core: same node id, another nonce.
    const other = setup(raft).reads;
    const mine = track(reads.read(timeoutMs));
    const theirs = track(other.read(timeoutMs));
    const [mineCtx, theirsCtx] = raft.asked;
    expect(mineCtx).not.toBe(theirsCtx);
    expect(mineCtx!.replace(/\/[0-9a-f]+\//, '//')).toBe(theirsCtx!.replace(/\/[0-9a-f]+\//, '//'));
    answer(theirsCtx!, 10);
    answer('n1/0000000000000000/1', 10);
    await settle();
    expect(mine.outcome).toBe('pending');
    expect(theirs.outcome).toBe('pending');
    answer(mineCtx!, 10);
    await settle();
    expect(mine.outcome).toBe('ok');
  });

  it('shutdown fails pending reads, reads waiting to apply and applied-index waiters UNAVAILABLE', async () => {
    const { raft, reads, answer } = setup();
    const noIndex = track(reads.read(timeoutMs));
    const notApplied = track(reads.read(timeoutMs));
    answer(raft.asked[1]!, 12);
    const waiter = track(reads.waitApplied(11, timeoutMs));
    await settle();
    reads.failAll();
    await settle();
    expect(noIndex.outcome).toBe(shutdownMessage);
    expect(notApplied.outcome).toBe(shutdownMessage);
    expect(waiter.outcome).toBe(shutdownMessage);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a read the core refuses (no leader) waits and is asked again, same context, once a leader is known', async () => {
    const raft = new FakeRaft();
    raft.leader = NONE;
    const { kick, reads, answer } = setup(raft);
    const read = track(reads.read(timeoutMs));
    expect(raft.asked).toEqual([]);
    expect(kick).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(500);
    raft.leader = 'n3';
    reads.onLeaderKnown();
    expect(raft.asked).toHaveLength(1);
    expect(kick).toHaveBeenCalledOnce();
    answer(raft.asked[0]!, 10);
    await settle();
    expect(read.outcome).toBe('ok');
  });

  it('on a leader change every pending read is asked again, including one the old leader took; either answer completes it once', async () => {
    const { raft, reads, answer } = setup();
    const read = track(reads.read(timeoutMs));
    // Refused by a leader over its bound of outstanding reads: waits for the next leader too.
    raft.refuse = new RaftError('PROPOSAL_DROPPED', 'too many outstanding read index requests');
    const dropped = track(reads.read(timeoutMs));
    expect(raft.asked).toHaveLength(1);
    raft.refuse = undefined;
    raft.leader = 'n3';
    reads.onLeaderKnown();
    expect(raft.asked).toHaveLength(3);
    expect(raft.asked[1]).toBe(raft.asked[0]);
    answer(raft.asked[0]!, 10);
    answer(raft.asked[1]!, 10);
    answer(raft.asked[2]!, 10);
    await settle();
    expect(read.outcome).toBe('ok');
    expect(dropped.outcome).toBe('ok');
    // With nothing pending, a leader change asks nothing.
    reads.onLeaderKnown();
    expect(raft.asked).toHaveLength(3);
  });

  it('an error from the core that is not a RaftError is not swallowed', async () => {
    const { raft, reads } = setup();
    raft.refuse = new TypeError('broken core');
    await expect(reads.read(timeoutMs)).rejects.toThrow('broken core');
  });
});
