import pino, { type Logger } from 'pino';

/**
 * The node's structured logger: JSON lines on stdout with the node id on every line, and the
 * current term and role added by `state()` at the moment each line is written.
 */
export function createNodeLogger(nodeId: string, level: string, state: () => { term?: number; role?: string }): Logger {
  return pino({
    level,
    base: { node: nodeId },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => state(),
  });
}
