/**
 * One entry of a node's address book, in its own file so that the runtime, the config loader
 * and membership.ts (which encodes address books) share it without importing each other.
 */

/** Where a peer listens, and where its clients connect. */
export interface PeerConfig {
  readonly host: string;
  readonly peerPort: number;
  readonly httpPort?: number;
  readonly clientPort?: number;
}
