/**
 * Forwarding (src/server/forwarding.ts), both sides of a forwarded request, driven with a fake
 * Raft core, proposer, application and transport under fake timers: no sockets, no storage.
 * What needs a real runtime (incarnations, stop, the hint end to end) is in forwarding.test.ts.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NONE, type NodeId } from '../../raft/types.js';
import { RaftqError } from '../../src/errors.js';
import { decodeForward, encodeForward } from '../../src/server/forward-frame.js';
import { encodeErrorReply, encodeOkReply } from '../../src/server/forwarder.js';
import { Forwarding, forwardKind, replyKind, type ForwardingRaft, type ForwardingSettings } from '../../src/server/forwarding.js';
import { forwardFlagBinaryReply, replyStatus, type ReplyCodecs, type ReplyEncoding } from '../../src/server/reply-encoding.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const text = (b: Uint8Array): string => dec.decode(b);

/** Replies are strings: JSON as `J:<reply>`, binary as `B:<reply>`. */
const codecs: ReplyCodecs<string> = {
  json: { encode: (r) => bytes(`J:${r}`), decode: (b) => text(b).replace(/^J:/, '') },
  binary: { encode: (r) => bytes(`B:${r}`), decode: (b) => text(b).replace(/^B:/, '') },
};

class FakeRaft implements ForwardingRaft {
  role = 'follower';
  leader: NodeId = NONE;
  term = 4;
  forgetLeader(): void {
    this.leader = NONE;
  }
}

interface Sent {
  to: NodeId;
  kind: string;
  id: number;
  payload: Uint8Array;
  flags: number | undefined;
}

function setup(over: Partial<ForwardingSettings> = {}) {
  const settings: ForwardingSettings = { nodeId: 'n1', tickMs: 10, requestTimeoutMs: 5000, leaderWaitMs: 500, peers: { n1: {}, n2: {}, n3: {} }, ...over };
  const raft = new FakeRaft();
  const sent: Sent[] = [];
  const connected = new Set<NodeId>(['n2', 'n3']);
  const transport = {
    sendApp: vi.fn((to: NodeId, kind: string, id: number, payload: Uint8Array, flags?: number) => {
      sent.push({ to, kind, id, payload, flags });
      return true;
    }),
    isConnected: (p: NodeId) => connected.has(p),
  };
  const proposer = {
    checkSize: vi.fn((c: Uint8Array) => {
      if (c.byteLength > 100) throw new RaftqError('TOO_LARGE', 'too large');
    }),
    propose: vi.fn(async (p: Uint8Array, _deadline: number) => `result(${text(p)})`),
  };
  const app = {
    reply: vi.fn(async (r: string) => `reply(${r})`),
    replyWithin: vi.fn(async (r: string, _c: Uint8Array, _max: number, _e: ReplyEncoding) => ({ reply: `fitted(${r})`, release: [] as Uint8Array[] })),
  };
  const release = vi.fn(async (_c: Uint8Array) => undefined);
  const fw = new Forwarding<string, string>({
    settings: () => settings,
    raft,
    proposer,
    app,
    replyCodecs: codecs,
    transport,
    forwardReplyBytesMax: 1000,
    leaderHint: () => (raft.leader === NONE ? {} : { leader: { id: raft.leader } }),
    release,
    isStopped: () => false,
    logger: pino({ level: 'silent' }),
    now: () => Date.now(),
    firstRequestId: 100,
  });
  return { fw, raft, sent, connected, transport, proposer, app, release, settings };
}

/** Settles a promise into its value or error, without unhandled rejections. */
function settle<T>(p: Promise<T>): { done: () => boolean; value: () => T | unknown } {
  let done = false;
  let value: T | unknown;
  p.then(
    (v) => ((done = true), (value = v)),
    (e: unknown) => ((done = true), (value = e)),
  );
  return { done: () => done, value: () => value };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('follower side: waiting for a leader', () => {
  it('with no leader elected, fails NO_LEADER once leaderWaitMs passed (before the deadline)', async () => {
    const { fw } = setup({ leaderWaitMs: 500 });
    const r = settle(fw.submit(bytes('c'), Date.now() + 5000, 'r1'));
    await vi.advanceTimersByTimeAsync(499);
    expect(r.done()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.done()).toBe(true);
    expect(r.value()).toMatchObject({ code: 'NO_LEADER', message: 'no leader elected within 500 ms' });
  });

  it('a deadline shorter than leaderWaitMs ends the wait at the deadline, still NO_LEADER (not TIMEOUT)', async () => {
    const { fw } = setup({ leaderWaitMs: 500 });
    const r = settle(fw.submit(bytes('c'), Date.now() + 200, 'r1'));
    await vi.advanceTimersByTimeAsync(199);
    expect(r.done()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.value()).toMatchObject({ code: 'NO_LEADER' });
  });

  it('a leader elected while waiting gets the request forwarded with this release flags', async () => {
    const { fw, raft, sent } = setup();
    const r = settle(fw.submit(bytes('c'), Date.now() + 5000, 'r1'));
    await vi.advanceTimersByTimeAsync(100);
    expect(sent).toHaveLength(0);
    raft.leader = 'n2';
    fw.leaderKnown();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: 'n2', kind: forwardKind, id: 100, flags: forwardFlagBinaryReply });
    expect(decodeForward(sent[0]!.payload)).toMatchObject({ requestId: 'r1' });
    expect(fw.inFlight).toBe(1);
    fw.onApp('n2', { kind: 'app', appKind: replyKind, requestId: 100, payload: encodeOkReply(bytes('B:ok'), 'binary') } as never);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.value()).toBe('ok');
  });

  it('as leader, proposes and replies without forwarding', async () => {
    const { fw, raft, sent, proposer } = setup();
    raft.role = 'leader';
    raft.leader = 'n1';
    await expect(fw.submit(bytes('c'), Date.now() + 5000, 'r1')).resolves.toBe('reply(result(c))');
    expect(sent).toHaveLength(0);
    expect(proposer.propose).toHaveBeenCalledTimes(1);
  });

  it('a command over the size limit is refused before anything is forwarded', async () => {
    const { fw, raft, sent } = setup();
    raft.leader = 'n2';
    await expect(fw.submit(new Uint8Array(101), Date.now() + 5000, 'r1')).rejects.toMatchObject({ code: 'TOO_LARGE' });
    expect(sent).toHaveLength(0);
  });
});

describe('follower side: NOT_LEADER answers', () => {
  it('retries at the hinted leader one tick later, and decodes a JSON reply', async () => {
    const { fw, raft, sent } = setup({ tickMs: 10 });
    raft.leader = 'n2';
    const r = settle(fw.submit(bytes('c'), Date.now() + 5000, 'r1'));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((s) => s.to)).toEqual(['n2']);
    fw.onApp('n2', { kind: 'app', appKind: replyKind, requestId: sent[0]!.id, payload: encodeErrorReply(new RaftqError('NOT_LEADER', 'n2 is not the leader', { leader: { id: 'n3' } })) } as never);
    await vi.advanceTimersByTimeAsync(9);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.map((s) => s.to)).toEqual(['n2', 'n3']);
    fw.onApp('n3', { kind: 'app', appKind: replyKind, requestId: sent[1]!.id, payload: encodeOkReply(bytes('J:done'), 'json') } as never);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.value()).toBe('done');
  });

  it('a hint naming an unknown node is ignored: the known leader is asked again', async () => {
    const { fw, raft, sent } = setup();
    raft.leader = 'n2';
    void settle(fw.submit(bytes('c'), Date.now() + 5000, 'r1'));
    await vi.advanceTimersByTimeAsync(0);
    fw.onApp('n2', { kind: 'app', appKind: replyKind, requestId: sent[0]!.id, payload: encodeErrorReply(new RaftqError('NOT_LEADER', 'no', { leader: { id: 'n9' } })) } as never);
    await vi.advanceTimersByTimeAsync(10);
    expect(sent.map((s) => s.to)).toEqual(['n2', 'n2']);
    fw.failAll('test over');
  });

  it('a NOT_LEADER answer within a tick of the deadline is returned as is', async () => {
    const { fw, raft, sent } = setup({ tickMs: 10 });
    raft.leader = 'n2';
    const r = settle(fw.submit(bytes('c'), Date.now() + 15, 'r1'));
    await vi.advanceTimersByTimeAsync(6);
    fw.onApp('n2', { kind: 'app', appKind: replyKind, requestId: sent[0]!.id, payload: encodeErrorReply(new RaftqError('NOT_LEADER', 'n2 is not the leader', { leader: { id: 'n3' } })) } as never);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.value()).toMatchObject({ code: 'NOT_LEADER', message: 'n2 is not the leader', leader: { id: 'n3' } });
    expect(sent).toHaveLength(1);
  });
});

describe('follower side: leader loss', () => {
  it('a leader whose connection is down for 2 ticks is forgotten and its forwarded requests fail TIMEOUT', async () => {
    const { fw, raft, connected } = setup();
    raft.leader = 'n2';
    const r = settle(fw.submit(bytes('c'), Date.now() + 5000, 'r1'));
    await vi.advanceTimersByTimeAsync(0);
    connected.delete('n2');
    fw.tick();
    expect(raft.leader).toBe('n2');
    fw.tick();
    expect(raft.leader).toBe(NONE);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.value()).toMatchObject({ code: 'TIMEOUT' });
    expect((r.value() as Error).message).toContain('the connection to the leader was lost');
  });

  it('a connection seen up again resets the count', () => {
    const { fw, raft, connected } = setup();
    raft.leader = 'n2';
    connected.delete('n2');
    fw.tick();
    connected.add('n2');
    fw.tick();
    connected.delete('n2');
    fw.tick();
    expect(raft.leader).toBe('n2');
  });

  it('a replaced leader fails the requests forwarded to it TIMEOUT', async () => {
    const { fw, raft } = setup();
    raft.leader = 'n2';
    const r = settle(fw.submit(bytes('c'), Date.now() + 5000, 'r1'));
    await vi.advanceTimersByTimeAsync(0);
    fw.leaderReplaced('n2');
    await vi.advanceTimersByTimeAsync(0);
    expect(r.value()).toMatchObject({ code: 'TIMEOUT', message: 'leader n2 was replaced while a forwarded request was in flight; its outcome is unknown' });
  });
});

describe('leader side', () => {
  function frame(flags: number | undefined, command = 'cmd') {
    return { kind: 'app', appKind: forwardKind, requestId: 7, payload: encodeForward('req-1', bytes(command)), ...(flags !== undefined ? { flags } : {}) } as never;
  }

  it('answers in binary (status 2) to a follower that sets the binary flag', async () => {
    const { fw, raft, sent, app } = setup();
    raft.role = 'leader';
    fw.onApp('n2', frame(forwardFlagBinaryReply));
    await vi.advanceTimersByTimeAsync(0);
    expect(app.replyWithin).toHaveBeenCalledWith('result(cmd)', expect.any(Uint8Array), 1000, 'binary');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: 'n2', kind: replyKind, id: 7 });
    expect(sent[0]!.payload[0]).toBe(replyStatus.okBinary);
    expect(text(sent[0]!.payload.subarray(1))).toBe('B:fitted(result(cmd))');
  });

  it('answers in JSON (status 1) to a follower without the flag', async () => {
    const { fw, raft, sent } = setup();
    raft.role = 'leader';
    fw.onApp('n2', frame(undefined));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent[0]!.payload[0]).toBe(replyStatus.okJson);
    expect(text(sent[0]!.payload.subarray(1))).toBe('J:fitted(result(cmd))');
  });

  it('off the leader, answers NOT_LEADER with the leader hint and proposes nothing', async () => {
    const { fw, raft, sent, proposer } = setup();
    raft.leader = 'n3';
    fw.onApp('n2', frame(forwardFlagBinaryReply));
    await vi.advanceTimersByTimeAsync(0);
    expect(proposer.propose).not.toHaveBeenCalled();
    expect(sent[0]!.payload[0]).toBe(replyStatus.error);
    expect(JSON.parse(text(sent[0]!.payload.subarray(1)))).toEqual({ code: 'NOT_LEADER', message: 'n1 is not the leader', leader: { id: 'n3' } });
  });

  it('proposes with the request timeout as deadline, and releases what a cut reply left out', async () => {
    const { fw, raft, app, proposer, release } = setup({ requestTimeoutMs: 3000 });
    raft.role = 'leader';
    app.replyWithin.mockResolvedValueOnce({ reply: 'cut', release: [bytes('undo-1'), bytes('undo-2')] });
    const t0 = Date.now();
    fw.onApp('n2', frame(forwardFlagBinaryReply));
    await vi.advanceTimersByTimeAsync(0);
    expect(proposer.propose.mock.calls[0]![1]).toBe(t0 + 3000);
    expect(release.mock.calls.map((c) => text(c[0]))).toEqual(['undo-1', 'undo-2']);
  });

  it('a malformed frame is answered INVALID_ARGUMENT', async () => {
    const { fw, raft, sent } = setup();
    raft.role = 'leader';
    fw.onApp('n2', { kind: 'app', appKind: forwardKind, requestId: 7, payload: new Uint8Array([5, 1]) } as never);
    await vi.advanceTimersByTimeAsync(0);
    expect(JSON.parse(text(sent[0]!.payload.subarray(1)))).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a reply from a node the request was not sent to is ignored', async () => {
    const { fw, raft, sent } = setup();
    raft.leader = 'n2';
    const r = settle(fw.submit(bytes('c'), Date.now() + 5000, 'r1'));
    await vi.advanceTimersByTimeAsync(0);
    fw.onApp('n3', { kind: 'app', appKind: replyKind, requestId: sent[0]!.id, payload: encodeOkReply(bytes('J:x'), 'json') } as never);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.done()).toBe(false);
    fw.failAll('test over');
    await vi.advanceTimersByTimeAsync(0);
    expect(r.value()).toMatchObject({ code: 'TIMEOUT' });
  });
});
