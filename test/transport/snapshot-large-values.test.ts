/**
 * Snapshot chunks that hold one value larger than the 1 MiB chunk bound (a queue whose
 * maxMessageBytes is 1 MiB stores such bodies, and a message's attributes add to its stored
 * size) must reach the receiver as the very chunks the sender encoded, so each one passes its
 * checksum and decodes to the same pairs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotMessage } from '../../raft/types.js';
import { attributeLengthMax, attributeValueLengthMax, maxMessageBytesRange, messageAttributesMax } from '../../src/queue/limits.js';
import { encodePayload } from '../../src/queue/records.js';
import { decodeSnapshotChunk, encodeSnapshotChunks, snapshotChunkBytesMax, type StatePair } from '../../src/storage/snapshot-chunks.js';
import type { SnapshotSink, SnapshotSinkFactory } from '../../src/transport/index.js';
import { Harness, snapMessage, waitFor, type TestNode } from './helpers.js';

const h = new Harness();
afterEach(async () => {
  await h.closeAll();
});

const snap: SnapshotMessage = snapMessage(500, 2);

const enc = new TextEncoder();

/**
 * The largest payload record the queue accepts: a body of maxMessageBytes plus the most
 * attributes of the longest keys and values, each character taking 3 bytes in UTF-8.
 */
function largestPayloadRecord(): Uint8Array {
  const attributes: Record<string, string> = {};
  for (let i = 0; i < messageAttributesMax; i++) attributes[`${'€'.repeat(attributeLengthMax - 1)}${i}`] = '€'.repeat(attributeValueLengthMax);
  return encodePayload({ body: new Uint8Array(maxMessageBytesRange.max).fill(0x61), attributes, sentAtMs: 1_700_000_000_000, dedupId: 'd'.repeat(128) });
}

function filled(bytes: number, seed: number): Uint8Array {
  const v = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 997) v[i] = (seed * 31 + i) & 0xff;
  return v;
}

/** Small pairs around values of 1 MiB + 1 byte, 1 MiB + 4 KiB and the largest payload record. */
function pairs(): StatePair[] {
  const largest = largestPayloadRecord();
  expect(largest.byteLength).toBeGreaterThan(maxMessageBytesRange.max + messageAttributesMax * (attributeLengthMax + attributeValueLengthMax));
  const values = [filled(100, 1), filled(1_048_577, 2), filled(50, 3), filled(snapshotChunkBytesMax + 4096, 4), largest, filled(10, 5)];
  return values.map((v, i) => [enc.encode(`k/${i}`), v] as const);
}

function expectSamePairs(actual: readonly StatePair[], expected: readonly StatePair[]): void {
  expect(actual.map(([k, v]) => [Buffer.from(k).toString(), v.byteLength])).toStrictEqual(expected.map(([k, v]) => [Buffer.from(k).toString(), v.byteLength]));
  for (let i = 0; i < expected.length; i++) expect(Buffer.from(actual[i]![1]).equals(Buffer.from(expected[i]![1]))).toBe(true);
}

async function* from(list: readonly StatePair[]): AsyncGenerator<StatePair> {
  yield* list;
}

/** A sink that decodes every chunk it is given as one whole snapshot chunk. */
function decodingSink(out: { pairs: StatePair[]; chunks: number; finished: boolean; aborted: string | null }): SnapshotSinkFactory {
  return (): SnapshotSink => ({
    write: async (chunk) => {
      for (const [k, v] of decodeSnapshotChunk(chunk, out.chunks)) out.pairs.push([k.slice(), v.slice()]);
      out.chunks += 1;
    },
    finish: async () => {
      out.finished = true;
    },
    abort: (reason) => {
      out.aborted = reason;
    },
  });
}

async function pair(sink: SnapshotSinkFactory): Promise<[TestNode, TestNode]> {
  const a = await h.start('a');
  const b = await h.start('b', { snapshotSink: sink });
  await h.mesh([a, b]);
  return [a, b];
}

describe('snapshot chunks holding values larger than the chunk bound', () => {
  it('encodes every value, however large, into chunks that decode back to the same pairs', async () => {
    const input = pairs();
    const decoded: StatePair[] = [];
    let n = 0;
    for await (const chunk of encodeSnapshotChunks(from(input))) {
      expect(chunk.byteLength <= snapshotChunkBytesMax || decodeSnapshotChunk(chunk, n).length === 1).toBe(true);
      decoded.push(...decodeSnapshotChunk(chunk, n++));
    }
    expectSamePairs(decoded, input);
  });

  it('streams each oversized chunk whole: the receiver decodes the same pairs', async () => {
    const input = pairs();
    const out = { pairs: [] as StatePair[], chunks: 0, finished: false, aborted: null as string | null };
    const [a, b] = await pair(decodingSink(out));
    const sent: Uint8Array[] = [];
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for await (const c of encodeSnapshotChunks(from(input))) {
        sent.push(c);
        yield c;
      }
    }
    const ok = await a.t.sendSnapshot('b', snap, chunks());
    expect(out.aborted).toBeNull();
    expect(ok).toBe(true);
    expect(out.finished).toBe(true);
    expect(out.chunks).toBe(sent.length);
    expectSamePairs(out.pairs, input);
    await waitFor('snap delivered', () => b.received.length === 1);
  });
});
