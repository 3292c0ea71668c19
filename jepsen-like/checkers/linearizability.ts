import { pairOps, type Delivery, type HistoryOp } from '../history.js';

/** One operation on a FIFO queue, as the linearizability checker sees it. */
export interface QueueOp {
  readonly id: number;
  readonly kind: 'enqueue' | 'dequeue';
  /** enqueue: the value; dequeue: the value returned, or null for "empty". Unknown: undefined. */
  readonly value: string | null | undefined;
  /** Invocation and completion times; completion is +Infinity for an unknown outcome. */
  readonly call: number;
  readonly ret: number;
  /** The outcome is unknown: the op may have taken effect at any point after `call`, or never. */
  readonly unknown: boolean;
  /** History index of the op's invoke, to name it in a witness. */
  readonly index?: number;
}

/** In the linearization found: the unknown dequeue (history index) that took `value`. */
export interface HeldValue {
  readonly value: string;
  readonly index: number;
}

/** The verdict for one queue (one partition of the history). */
export interface LinearizabilityResult {
  readonly valid: boolean | 'unknown';
  readonly ops: number;
  /** Search states explored. */
  readonly explored: number;
  readonly reason?: string;
  /**
   * When valid: the witness for every dequeue with an unknown outcome that the linearization
   * applied to a non-empty queue, naming the value it took. Those values stay in flight under
   * that receive's lease, which is what may excuse their absence from later receives.
   */
  readonly held?: readonly HeldValue[];
}

interface Node {
  op: QueueOp | undefined;
  isCall: boolean;
  match: Node | undefined;
  prev: Node | undefined;
  next: Node | undefined;
}

/**
 * Wing & Gong's linearizability search with Lowe's memoization (WGL): walk the history's call
 * and return events in time order, tentatively linearizing the earliest pending call whose
 * effect the FIFO-queue model accepts, backtracking at a return whose op was not linearized in
 * time, and caching (linearized set, queue state) pairs so no configuration is explored twice.
 * Operations with an unknown outcome return at +Infinity and may be skipped (they never took
 * effect). Gives up with "unknown" after `budget` explored states instead of hanging.
 */
export function checkLinearizableQueue(ops: readonly QueueOp[], budget = 2_000_000): LinearizabilityResult {
  const events: Array<{ t: number; isCall: boolean; op: QueueOp }> = [];
  for (const op of withoutUnobservedEnqueues(ops)) {
    events.push({ t: op.call, isCall: true, op });
    events.push({ t: op.ret, isCall: false, op });
  }
  // Calls before returns at equal times: overlapping is the more permissive reading.
  events.sort((a, b) => a.t - b.t || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Node = { op: undefined, isCall: false, match: undefined, prev: undefined, next: undefined };
  let tail = head;
  const calls = new Map<number, Node>();
  for (const e of events) {
    const n: Node = { op: e.op, isCall: e.isCall, match: undefined, prev: tail, next: undefined };
    tail.next = n;
    tail = n;
    if (e.isCall) calls.set(e.op.id, n);
    else {
      const c = calls.get(e.op.id)!;
      c.match = n;
      n.match = c;
    }
  }
  const lift = (call: Node): void => {
    call.prev!.next = call.next;
    if (call.next !== undefined) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next !== undefined) ret.next.prev = ret.prev;
  };
  const unlift = (call: Node): void => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next !== undefined) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next !== undefined) call.next.prev = call;
  };

  let state: readonly string[] = [];
  // The linearized set as a bitset over dense op positions: its image is the cache key's first part.
  const position = new Map<number, number>(ops.map((o, i) => [o.id, i]));
  const linearized = new Uint16Array(Math.ceil(ops.length / 16) + 1);
  const flip = (id: number): void => {
    const i = position.get(id)!;
    linearized[i >> 4]! ^= 1 << (i & 15);
  };
  const cache = new Set<string>();
  const stack: Array<{ call: Node; state: readonly string[] }> = [];
  let explored = 0;
  let entry = head.next;
  while (entry !== undefined) {
    if (entry.isCall) {
      const call: Node = entry;
      const op = call.op!;
      const next = step(state, op);
      let advanced = false;
      if (next !== undefined) {
        flip(op.id);
        const key = String.fromCharCode(...linearized) + '|' + next.join('\u0000');
        if (!cache.has(key)) {
          cache.add(key);
          explored++;
          if (explored > budget) return { valid: 'unknown', ops: ops.length, explored, reason: `search budget of ${budget} states exhausted` };
          stack.push({ call, state });
          state = next;
          lift(call);
          entry = head.next;
          advanced = true;
        } else flip(op.id);
      }
      if (!advanced) entry = call.next;
    } else {
      // A return whose op is not yet linearized. An unknown op may simply never have happened.
      if (entry.op!.unknown) return { valid: true, ops: ops.length, explored, held: witness(stack) };
      const top = stack.pop();
      if (top === undefined) return { valid: false, ops: ops.length, explored, reason: describeFailure(entry.op!) };
      state = top.state;
      flip(top.call.op!.id);
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { valid: true, ops: ops.length, explored, held: witness(stack) };
}

/**
 * Drops the enqueues with an unknown outcome whose value no known dequeue returned. Each may
 * be left out of the search: in any linearization that applies one, no known dequeue finds its
 * value at the head and no known "empty" dequeue runs while it is queued, so removing it (and
 * the unknown dequeue that took it, if any) leaves every known result unchanged. Without this,
 * every such enqueue is tried at every later point of the history, multiplying the search.
 */
function withoutUnobservedEnqueues(ops: readonly QueueOp[]): QueueOp[] {
  const observed = new Set<string>();
  for (const op of ops) if (op.kind === 'dequeue' && !op.unknown && typeof op.value === 'string') observed.add(op.value);
  return ops.filter((op) => !(op.kind === 'enqueue' && op.unknown && !observed.has(op.value as string)));
}

/** The values the linearization on `stack` (bottom first) lets unknown dequeues take. */
function witness(stack: ReadonlyArray<{ call: Node; state: readonly string[] }>): HeldValue[] {
  const held: HeldValue[] = [];
  for (const { call, state } of stack) {
    const op = call.op!;
    if (op.kind === 'dequeue' && op.unknown && op.index !== undefined && state.length > 0) held.push({ value: state[0]!, index: op.index });
  }
  return held;
}

/** Applies `op` to a FIFO queue state; undefined if the model forbids it. */
function step(state: readonly string[], op: QueueOp): readonly string[] | undefined {
  if (op.kind === 'enqueue') return [...state, op.value as string];
  // An unknown dequeue of an empty queue changes nothing: the search covers it by leaving the
  // op out (it may never have happened), so it is refused here instead of explored twice.
  if (op.unknown) return state.length === 0 ? undefined : state.slice(1);
  if (op.value === null) return state.length === 0 ? state : undefined;
  return state[0] === op.value ? state.slice(1) : undefined;
}

function describeFailure(op: QueueOp): string {
  return `no linearization: ${op.kind}${op.value === undefined ? '' : `(${op.value ?? 'empty'})`} invoked at ${op.call.toFixed(0)} ms cannot be placed`;
}

/** Builds the per-queue QueueOp lists of the linearizability workload from a history. */
export function queueOpsFromHistory(ops: readonly HistoryOp[]): Map<string, QueueOp[]> {
  const byQueue = new Map<string, QueueOp[]>();
  let id = 0;
  for (const { invoke, done } of pairOps(ops)) {
    if (invoke.f !== 'enqueue' && invoke.f !== 'receive') continue;
    if (done?.type === 'fail') continue; // definitely did not happen
    const unknown = done === undefined || done.type === 'info';
    let value: string | null | undefined;
    if (invoke.f === 'enqueue') value = invoke.value as string;
    else if (unknown) value = undefined;
    else {
      const ds = done!.value as readonly Delivery[];
      value = ds.length === 0 ? null : ds[0]!.value;
    }
    const list = byQueue.get(invoke.queue) ?? [];
    list.push({ id: id++, kind: invoke.f === 'enqueue' ? 'enqueue' : 'dequeue', value, call: invoke.mono, ret: unknown ? Number.POSITIVE_INFINITY : done!.mono, unknown, index: invoke.index });
    byQueue.set(invoke.queue, list);
  }
  return byQueue;
}
