/** The structured logger storage writes to. */

/** A minimal structured logger; a pino Logger fits. */
export interface StorageLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  /** Damage found and repaired (optional: defaults to warn). */
  error?(obj: object, msg: string): void;
}

/** A logger that drops everything. */
export const silentLogger: StorageLogger = { info: () => undefined, warn: () => undefined };
