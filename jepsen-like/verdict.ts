/** What a run's verdict is made of: each checker's answer and the run's own health. */
export interface VerdictInputs {
  readonly queue: { readonly valid: boolean };
  readonly fifo?: { readonly valid: boolean } | undefined;
  readonly dedup?: { readonly valid: boolean } | undefined;
  readonly linearizable?: { readonly valid: boolean | 'unknown' } | undefined;
  readonly drainComplete: boolean;
  /** Nodes that stopped on their own. */
  readonly nodeCrashes: number;
}

/**
 * A run passes only when every check that ran decided it valid. A run the checker cannot
 * decide (a linearizability search that gave up: `unknown`) is not a pass.
 */
export function runValid(r: VerdictInputs): boolean {
  return r.queue.valid && (r.fifo?.valid ?? true) && (r.dedup?.valid ?? true) && (r.linearizable === undefined || r.linearizable.valid === true) && r.drainComplete && r.nodeCrashes === 0;
}
