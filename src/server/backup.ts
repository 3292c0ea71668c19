/**
 * The backup file format, and seeding a data directory from a backup (`raftq restore`).
 *
 *   file    = magic header frame* end
 *   magic   = "RAFTQBK1\n" (9 bytes)
 *   header  = u32be length | UTF-8 JSON BackupHeader
 *   frame   = u32be length (> 0) | one snapshot chunk (storage/snapshot-chunks.ts: its own crc32c)
 *   end     = u32be 0 | u32be frameCount
 *
 * The trailer's frame count makes a truncated file (a backup cut short by a dropped
 * connection) detectable: a reader that reaches end-of-file without it fails.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import type { ConfState, NodeId, SnapshotMeta } from '../../raft/types.js';
import { RaftqError } from '../errors.js';
import { DurableStorage } from '../storage/index.js';
import { decodeSnapshotChunk, encodeSnapshotChunks, type StatePair } from '../storage/snapshot-chunks.js';
import { membersKey } from './membership.js';

/** What a backup is a snapshot of. */
export interface BackupHeader {
  readonly format: 1;
  /** Cluster and node the backup was read from. */
  readonly clusterId: string;
  readonly nodeId: NodeId;
  /** Applied index and its term: every write acknowledged before the backup began is at or below it. */
  readonly index: number;
  readonly term: number;
  /** Membership of the source cluster at `index` (informational: a restore sets its own). */
  readonly confState: ConfState;
  /** Wall-clock time the backup was taken (ms since the epoch). */
  readonly createdAtMs: number;
}

const magic = new TextEncoder().encode('RAFTQBK1\n');
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Largest header or frame accepted when reading (a chunk is at most ~1 MiB unless one pair is larger). */
const frameBytesMax = 512 << 20;

function be32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** Encodes a whole backup stream: magic, header, one frame per chunk, trailer. */
export async function* encodeBackup(header: BackupHeader, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const h = encoder.encode(JSON.stringify(header));
  yield concat([magic, u32(h.length), h]);
  let count = 0;
  for await (const c of chunks) {
    if (c.length === 0) continue;
    yield concat([u32(c.length), c]);
    count++;
  }
  yield concat([u32(0), u32(count)]);
}

/**
 * Reads a backup stream: resolves the header, then yields every chunk (checksums verified).
 * Throws RaftqError INVALID_ARGUMENT naming what is wrong (not a backup, truncated, corrupt).
 */
export async function readBackup(source: AsyncIterable<Uint8Array>): Promise<{ header: BackupHeader; chunks: AsyncGenerator<Uint8Array> }> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  const m = await reader.read(magic.length, 'the magic');
  if (!m.every((b, i) => b === magic[i])) throw bad('not a raftq backup file (bad magic)');
  const hlen = be32(await reader.read(4, 'the header length'));
  if (hlen === 0 || hlen > 1 << 20) throw bad(`header length ${hlen} is out of range`);
  const header = parseHeader(decoder.decode(await reader.read(hlen, 'the header')));
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let count = 0;
    for (;;) {
      const len = be32(await reader.read(4, `the length of frame ${count}`));
      if (len === 0) {
        const expected = be32(await reader.read(4, 'the trailer'));
        if (expected !== count) throw bad(`trailer names ${expected} frames, read ${count}`);
        if (!(await reader.atEnd())) throw bad('bytes after the trailer');
        return;
      }
      if (len > frameBytesMax) throw bad(`frame ${count} length ${len} is out of range`);
      const chunk = await reader.read(len, `frame ${count}`);
      decodeSnapshotChunk(chunk, count); // verifies the checksum
      count++;
      yield chunk;
    }
  }
  return { header, chunks: chunks() };
}

function parseHeader(text: string): BackupHeader {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('header is not JSON');
  }
  const o = v as Partial<Record<keyof BackupHeader, unknown>>;
  const cs = o.confState as { voters?: unknown; learners?: unknown } | undefined;
  if (
    typeof v !== 'object' || v === null || o.format !== 1 || typeof o.clusterId !== 'string' || typeof o.nodeId !== 'string' ||
    !Number.isSafeInteger(o.index) || !Number.isSafeInteger(o.term) || !Number.isSafeInteger(o.createdAtMs) ||
    cs === undefined || !Array.isArray(cs.voters) || !Array.isArray(cs.learners)
  ) {
    throw bad(`unsupported or malformed header ${text.slice(0, 200)}`);
  }
  return v as BackupHeader;
}

/** Options of restoreDataDir. */
export interface RestoreOptions {
  readonly dataDir: string;
  readonly clusterId: string;
  readonly nodeId: NodeId;
  /** Voters of the NEW cluster (every id of its --peers). */
  readonly voters: readonly NodeId[];
}

/**
 * Seeds a brand-new data directory from a backup: opens a fresh DurableStorage with the new
 * cluster's identity and membership and installs the backup's state as a snapshot at the
 * backup's index and term (the source's address book is dropped: the new cluster's addresses
 * come from its --peers). Refuses a directory that already holds anything.
 */
export async function restoreDataDir(source: AsyncIterable<Uint8Array>, o: RestoreOptions): Promise<{ header: BackupHeader; pairCount: number; chunkCount: number }> {
  if (existsSync(o.dataDir) && readdirSync(o.dataDir).length > 0) {
    throw bad(`data directory ${o.dataDir} is not empty: restore seeds a NEW node; remove it or pick another directory`);
  }
  if (!o.voters.includes(o.nodeId)) throw bad(`node ${o.nodeId} is not one of the new cluster's peers (${o.voters.join(', ')})`);
  const { header, chunks } = await readBackup(source);
  if (header.index < 1) throw bad('the backup is of an empty cluster (applied index 0); nothing to restore');
  const confState: ConfState = { voters: [...o.voters].sort(), learners: [] };
  const storage = await DurableStorage.open(o.dataDir, { clusterId: o.clusterId, nodeId: o.nodeId, initialConfState: confState });
  let ok = false;
  try {
    const meta: SnapshotMeta = { index: header.index, term: header.term, confState };
    const result = await storage.installSnapshot(meta, rechunk(chunks));
    // The snapshot's term becomes the node's term: the next leader's entries (term > it)
    // follow the snapshot without the log's terms going backwards.
    await storage.save({ entries: [], hardState: { term: header.term, vote: '', commit: header.index }, sync: true });
    ok = true;
    return { header, ...result };
  } finally {
    await storage.close();
    // A half-seeded directory would start as a blank member of the new cluster: remove it.
    if (!ok) rmSync(o.dataDir, { recursive: true, force: true });
  }
}

/** Decodes the backup's chunks and encodes them again without the source's address book. */
async function* rechunk(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  async function* pairs(): AsyncGenerator<StatePair> {
    let n = 0;
    for await (const c of chunks) {
      for (const [k, v] of decodeSnapshotChunk(c, n++)) {
        if (k.length === membersKey.length && k.every((b, i) => b === membersKey[i])) continue;
        yield [k, v];
      }
    }
  }
  yield* encodeSnapshotChunks(pairs());
}

function bad(message: string): RaftqError {
  return new RaftqError('INVALID_ARGUMENT', `backup: ${message}`);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Exact-length reads over an async iterator of byte chunks. */
class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(it: AsyncIterator<Uint8Array>) {
    this.#it = it;
  }

  async #fill(n: number): Promise<boolean> {
    while (this.#buf.length < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done === true) this.#done = true;
      else this.#buf = this.#buf.length === 0 ? r.value : concat([this.#buf, r.value]);
    }
    return this.#buf.length >= n;
  }

  async read(n: number, what: string): Promise<Uint8Array> {
    if (!(await this.#fill(n))) throw bad(`truncated: end of file while reading ${what}`);
    // A copy (Buffer#slice would share the pooled memory).
    const out = Uint8Array.prototype.slice.call(this.#buf, 0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async atEnd(): Promise<boolean> {
    return !(await this.#fill(1));
  }
}
