/**
 * How a node stops on a fatal error. A disk fault (STORAGE_FULL, STORAGE_IO) stops it with a
 * stable log line and its own exit code, so an operator (or a supervisor, or the jepsen-like
 * runner) can tell it from a bug. The node never retries a failed write or fsync in-process:
 * LevelDB keeps a failed write's error for every later write of that handle, and a failed
 * fsync may have dropped the data it was to make durable (Linux reports that once), so the
 * Ready that failed is never advanced and its messages are never sent. A restart re-reads only
 * what is durable and catches up from its peers; while the disk is still full or failing, the
 * start is refused with the same code.
 */
import type { Logger } from 'pino';

/** The exit code of a node stopped by a disk fault (1 is any other fatal error). */
export const storageFaultExitCode = 3;

/** The disk fault code of `err` (or of its cause chain), if any. */
export function storageFaultCode(err: unknown): 'STORAGE_FULL' | 'STORAGE_IO' | undefined {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 'STORAGE_FULL' || code === 'STORAGE_IO') return code;
  }
  return undefined;
}

/** The exit code for a fatal error or a failed start: storageFaultExitCode for a disk fault, else 1. */
export function fatalExitCode(err: unknown): number {
  return storageFaultCode(err) === undefined ? 1 : storageFaultExitCode;
}

/** Logs `err` as fatal (a disk fault with its code in the message) and exits the process. */
export function exitOnFatal(logger: Logger, err: unknown): void {
  const code = storageFaultCode(err);
  if (code === undefined) logger.fatal({ err }, 'fatal error');
  else logger.fatal({ err, code }, `${code}: ${err instanceof Error ? err.message : String(err)}; stopping the node (exit ${storageFaultExitCode})`);
  logger.flush?.();
  setTimeout(() => process.exit(fatalExitCode(err)), 50).unref();
}
