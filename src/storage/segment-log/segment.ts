/**
 * One segment as the log holds it: its summary, its open file, and the records appended since
 * the last sync that are not yet written to the file (group commit: sync() writes and
 * fdatasyncs them together). Reads see both, so an appended record is readable at once.
 */
import { assert } from '../../../raft/assert.js';
import { decodeRecord, type SegmentRecord } from './record-format.js';
import { SegmentCorruptionError } from './segment-corruption.js';
import type { SegmentFile } from './segment-disk.js';
import type { OffsetEntry, SegmentSummary } from './segment-summary.js';

/**
 * Smallest read of a record scan: 64 KiB, so a scan over small records costs one disk read
 * per 64 KiB, not one per record (a larger record is read whole).
 */
const readChunkBytesMin = 64 * 1024;

/** A record read back, with where it sits. */
export interface LocatedRecord {
  readonly record: SegmentRecord;
  readonly offsetBytes: number;
  readonly recordBytes: number;
}

/** One segment of the log. */
export class Segment {
  /** The file name, e.g. "00000000000000000001.seg". */
  readonly name: string;
  readonly summary: SegmentSummary;
  /** The open file; undefined until sync() creates it (a segment rolled since the last sync). */
  file: SegmentFile | undefined;
  /** Bytes written to the file. Invariant: writtenBytes + pendingBytes === summary.bytes. */
  writtenBytes: number;
  /** Encoded records after writtenBytes, not yet written, one record per chunk, in order. */
  pending: Uint8Array[] = [];
  /** The file changed (written or truncated) since its last fdatasync. */
  needsDatasync = false;
  /** The offset index sidecar on disk describes the current content. */
  indexWritten: boolean;

  constructor(name: string, summary: SegmentSummary, file: SegmentFile | undefined, indexWritten: boolean) {
    this.name = name;
    this.summary = summary;
    this.file = file;
    this.writtenBytes = file === undefined ? 0 : summary.bytes;
    this.indexWritten = indexWritten;
  }

  /** Bytes appended but not yet written. */
  get pendingBytes(): number {
    return this.summary.bytes - this.writtenBytes;
  }

  /** Adds one encoded record (index summary.lastIndex + 1) to the unwritten tail. */
  appendRecord(bytes: Uint8Array, term: number, index: number): void {
    this.pending.push(bytes);
    this.summary.add(term, index, bytes.length);
    this.indexWritten = false;
  }

  /** The first `chunks` pending chunks as one buffer (one write per sync). */
  pendingPrefix(chunks: number): Uint8Array {
    assert(chunks >= 1 && chunks <= this.pending.length, 'pending prefix out of range');
    if (chunks === 1) return this.pending[0]!;
    const parts = this.pending.slice(0, chunks);
    const out = new Uint8Array(parts.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of parts) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Marks the first `chunks` pending chunks as written to the file. */
  markWritten(chunks: number): void {
    assert(chunks <= this.pending.length, 'marking more chunks written than pending');
    for (const c of this.pending.splice(0, chunks)) this.writtenBytes += c.length;
    this.needsDatasync = true;
    assert(this.writtenBytes <= this.summary.bytes, 'written beyond the segment');
  }

  /** Drops pending chunks from byte offset `at` on (a record boundary at or after writtenBytes). */
  dropPendingFrom(at: number): void {
    let offset = this.writtenBytes;
    let keep = 0;
    while (keep < this.pending.length && offset < at) offset += this.pending[keep++]!.length;
    assert(offset === at, () => `pending cut at ${at} is not a record boundary`);
    this.pending.length = keep;
  }

  /** Reads bytes [offset, offset + length) clipped to the segment, from the file and the unwritten tail. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.summary.bytes);
    if (end <= offset) return new Uint8Array(0);
    const diskEnd = Math.min(end, this.writtenBytes);
    const out = new Uint8Array(end - offset);
    // The unwritten part is copied before any await: a sync may write and drop it meanwhile.
    let chunkStart = this.writtenBytes;
    for (const chunk of this.pending) {
      const chunkEnd = chunkStart + chunk.length;
      const from = Math.max(chunkStart, offset);
      const to = Math.min(chunkEnd, end);
      if (from < to) out.set(chunk.subarray(from - chunkStart, to - chunkStart), from - offset);
      chunkStart = chunkEnd;
    }
    if (offset < diskEnd) {
      assert(this.file !== undefined, 'written bytes without a file');
      const disk = await this.file.read(offset, diskEnd - offset);
      if (disk.length !== diskEnd - offset) throw new SegmentCorruptionError(this.name, offset + disk.length, null, `file ends at byte ${offset + disk.length}, the log wrote ${this.writtenBytes}`);
      out.set(disk, 0);
    }
    return out;
  }

  /**
   * Reads the records from the offset entry `start` on, through record `toIndex`, returning
   * those from `fromIndex` on and stopping once their payloads would exceed `payloadBytesMax`
   * (unless `alwaysFirst` and none is returned yet). Every record decoded is checked: valid,
   * with the index expected at its place and the term the summary says; anything else is
   * corruption of a record the log wrote (SegmentCorruptionError).
   */
  async readRecords(start: OffsetEntry, fromIndex: number, toIndex: number, payloadBytesMax: number, alwaysFirst: boolean, verify = true): Promise<LocatedRecord[]> {
    const s = this.summary;
    assert(start.index <= fromIndex && fromIndex >= s.firstIndex && toIndex <= s.lastIndex, () => `read ${fromIndex}..${toIndex} outside ${s.firstIndex}..${s.lastIndex}`);
    const out: LocatedRecord[] = [];
    let payloadBytes = 0;
    let expected = start.index;
    let buf: Uint8Array = new Uint8Array(0);
    let bufStart = start.offsetBytes;
    let at = start.offsetBytes;
    while (expected <= toIndex) {
      let d = decodeRecord(buf, at - bufStart, verify);
      // At most two reads: one from the record's start (at least readChunkBytesMin), and when
      // that ended inside a larger record, one of exactly the length its header gives.
      while (d.type === 'incomplete' && bufStart + buf.length < s.bytes) {
        const have = buf.length - (at - bufStart);
        const needBytes = have >= 4 ? new DataView(buf.buffer, buf.byteOffset + at - bufStart, 4).getUint32(0, true) + 4 : 0;
        if (have >= 4 && needBytes <= have) break; // the header's length is within the buffer: not a short read
        buf = await this.read(at, Math.max(readChunkBytesMin, needBytes));
        bufStart = at;
        d = decodeRecord(buf, 0, verify);
      }
      if (d.type !== 'valid') throw new SegmentCorruptionError(this.name, at, expected, d.type === 'bad' ? d.reason : 'record runs past the end of the segment');
      if (d.record.index !== expected) throw new SegmentCorruptionError(this.name, at, expected, `record index ${d.record.index} where ${expected} was expected`);
      if (d.record.term !== s.termOf(expected)) throw new SegmentCorruptionError(this.name, at, expected, `record term ${d.record.term} where the index says ${s.termOf(expected)}`);
      if (expected >= fromIndex) {
        if ((out.length > 0 || !alwaysFirst) && payloadBytes + d.record.payload.length > payloadBytesMax) break;
        out.push({ record: d.record, offsetBytes: at, recordBytes: d.recordBytes });
        payloadBytes += d.record.payload.length;
      }
      at += d.recordBytes;
      expected++;
    }
    return out;
  }
}
