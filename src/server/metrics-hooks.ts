/**
 * What the node runtime reports as it works; src/api/metrics.ts implements it with prom-client.
 * Kept as an interface so the runtime does not depend on a metrics library.
 */
export interface NodeMetrics {
  /** `count` proposals were appended as one batch. */
  proposed(count: number): void;
  /** One Ready was persisted: fsync took `syncMs` for `entries` entries. */
  persisted(syncMs: number, entries: number): void;
  /** `count` committed entries were applied. */
  applied(count: number): void;
  leaderChanged(): void;
  compacted(): void;
  snapshotSent(): void;
  /** The data directory was found damaged at open, moved aside and recreated (storage/repair.ts). */
  storageRepaired(): void;
}
