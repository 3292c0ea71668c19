import { pairOps, type Delivery, type HistoryOp } from '../history.js';

/** Verdict of the FIFO-order check. */
export interface FifoCheckResult {
  readonly valid: boolean;
  readonly groups: number;
  /** First deliveries that came before an earlier message of the same group. Must be 0. */
  readonly orderViolations: number;
  readonly examples: readonly string[];
}

/**
 * FIFO order within each message group. Each group is written by one worker in sequence, so
 * its acknowledged enqueues have a total order; the first delivery of each message must follow
 * that order (redeliveries after a lease expiry may repeat, but never jump ahead of a message
 * that was not yet delivered). A receive may carry several messages of one group (as in SQS):
 * they are checked in the order the receive returned them, so a batch out of order is a
 * violation too. The check assumes nothing about how many of a group's messages are in flight.
 */
export function checkFifo(ops: readonly HistoryOp[]): FifoCheckResult {
  const pairs = pairOps(ops);
  // Sequence number of each value within its group, by enqueue invocation order.
  const seqOf = new Map<string, { group: string; seq: number }>();
  const nextSeq = new Map<string, number>();
  for (const { invoke, done } of pairs) {
    if (invoke.f !== 'enqueue' || typeof invoke.value !== 'string' || invoke.groupId === undefined) continue;
    if (done?.type === 'fail') continue;
    const n = nextSeq.get(invoke.groupId) ?? 0;
    seqOf.set(invoke.value, { group: invoke.groupId, seq: n });
    nextSeq.set(invoke.groupId, n + 1);
  }
  const firstDelivered = new Map<string, number>(); // group -> highest seq delivered first-time so far
  const seen = new Set<string>();
  const examples: string[] = [];
  let orderViolations = 0;
  const receives = pairs.filter((p) => p.invoke.f === 'receive' && p.done?.type === 'ok').sort((a, b) => a.done!.mono - b.done!.mono);
  for (const { done } of receives) {
    for (const d of done!.value as readonly Delivery[]) {
      if (seen.has(d.value)) continue;
      seen.add(d.value);
      const s = seqOf.get(d.value);
      if (s === undefined) continue;
      const high = firstDelivered.get(s.group) ?? -1;
      if (s.seq < high) {
        orderViolations++;
        if (examples.length < 20) examples.push(`group ${s.group}: ${d.value} (#${s.seq}) first delivered after #${high}`);
      } else firstDelivered.set(s.group, s.seq);
    }
  }
  return { valid: orderViolations === 0, groups: nextSeq.size, orderViolations, examples };
}
