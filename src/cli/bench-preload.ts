/**
 * Preloading a queue for the drain and backlog scenarios: sendBatch of up to 100 messages,
 * `inFlight` batches at once, a progress line on stderr.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Client } from '../client/client.js';
import { countProgressLine, progressTicker } from './bench-stats.js';

/** Messages per sendBatch while preloading (the protocol's largest batch). */
export const preloadBatch = 100;

/** How a preload went. */
export interface PreloadResult {
  /** Messages acknowledged (every batch is retried by the client; a failure throws). */
  readonly sent: number;
  readonly elapsedMs: number;
}

/** Options of preload(). */
export interface PreloadOptions {
  readonly count: number;
  readonly size: number;
  readonly inFlight: number;
  /** Random (incompressible) bodies, fresh per batch, instead of one repeated 'x' body. */
  readonly random?: boolean;
  /** Label of the progress line. */
  readonly label: string;
  /** Extra parts of the progress line, re-evaluated each second. */
  readonly extra?: () => readonly string[];
}

/** Sends `count` messages of `size` bytes to `queue`; throws the first batch that failed for good. */
export async function preload(client: Client, queue: string, o: PreloadOptions): Promise<PreloadResult> {
  const fixed = Array.from({ length: preloadBatch }, () => new Uint8Array(o.size).fill(0x78));
  let next = 0;
  let sent = 0;
  const t0 = performance.now();
  const stop = progressTicker(() => countProgressLine(sent, o.count, performance.now() - t0, [o.label, ...(o.extra?.() ?? [])]));
  try {
    const worker = async (): Promise<void> => {
      // Each turn claims one batch, so the loop ends after at most count / 100 turns.
      while (next < o.count) {
        const n = Math.min(preloadBatch, o.count - next);
        next += n;
        const bodies = o.random === true ? randomBodies(n, o.size) : fixed.slice(0, n);
        try {
          await client.sendBatch(queue, bodies);
        } catch (e) {
          next = o.count; // the other workers stop after their current batch
          throw e;
        }
        sent += n;
      }
    };
    const settled = await Promise.allSettled(Array.from({ length: o.inFlight }, worker));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      const reason: unknown = failed.reason;
      throw reason;
    }
  } finally {
    stop();
  }
  return { sent, elapsedMs: performance.now() - t0 };
}

function randomBodies(n: number, size: number): Uint8Array[] {
  const pool = randomBytes(n * size);
  return Array.from({ length: n }, (_, i) => new Uint8Array(pool.buffer, pool.byteOffset + i * size, size));
}
