/**
 * AppFrame.flags (peer.proto field 4): set bits round-trip; flags 0 are not written, so the
 * frame is byte for byte what a node of the previous release sends; and a node of the previous
 * release (the schema without field 4) decodes a flagged frame as if it had no flags.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/proto/load.js';
import { decodePeerFrame, encodePeerFrame, type AppFrame } from '../../src/transport/peer-frame.js';

/** Strips the 4-byte length prefix encodePeerFrame writes (proto/framing.ts). */
function body(frame: Uint8Array): Uint8Array {
  return frame.subarray(4);
}

const payload = new Uint8Array([3, 1, 4, 1, 5]);
const withFlags: AppFrame = { kind: 'app', appKind: 'submit', requestId: 77, payload, flags: 1 };
const without: AppFrame = { kind: 'app', appKind: 'submit', requestId: 77, payload };

describe('AppFrame flags', () => {
  it('round-trips set flags and leaves absent flags absent', () => {
    expect(decodePeerFrame(body(encodePeerFrame(withFlags)))).toEqual(withFlags);
    expect(decodePeerFrame(body(encodePeerFrame(without)))).toEqual(without);
    expect(decodePeerFrame(body(encodePeerFrame({ ...without, flags: 0 })))).toEqual(without);
  });

  it('writes no flags field for flags 0: the bytes of the previous release', () => {
    expect(encodePeerFrame({ ...without, flags: 0 })).toEqual(encodePeerFrame(without));
    expect(encodePeerFrame(withFlags).byteLength).toBe(encodePeerFrame(without).byteLength + 2);
  });

  it('a decoder of the previous release (no field 4) reads a flagged frame as the same request', () => {
    const current = readFileSync(`${packageRoot()}/src/proto/peer.proto`, 'utf8');
    const previous = current.replace(/^\s*uint32 flags = 4;\s*$/m, '');
    expect(previous).not.toBe(current);
    const type = protobuf.parse(previous, { keepCase: true }).root.lookupType('raftq.peer.PeerFrame');
    const old = type.toObject(type.decode(body(encodePeerFrame(withFlags))), { longs: Number, oneofs: true }) as { kind: string; app: { kind: string; request_id: number; payload: Uint8Array } };
    expect(old.kind).toBe('app');
    expect(old.app.kind).toBe('submit');
    expect(old.app.request_id).toBe(77);
    expect(new Uint8Array(old.app.payload)).toEqual(payload);
    expect(Object.keys(old.app)).not.toContain('flags');
  });
});
