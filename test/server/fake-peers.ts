/**
 * A real NodeRuntime ("n1") beside two fake peers ("n2", "n3") that are bare PeerTransports
 * driven by the test: they send the Raft messages and forwarded-request replies a test wants,
 * in the order it wants, and record what n1 sends them. Frames on one connection arrive in
 * order, so a test can make a stale frame arrive before a fresh one without timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Message } from '../../raft/types.js';
import { freePorts } from '../../jepsen-like/free-ports.js';
import { NodeRuntime, type NodeRuntimeConfig } from '../../src/server/node-runtime.js';
import { QueueApplication, queueReplyCodecs, type QueueReply } from '../../src/server/queue-app.js';
import { replyStatus, type ReplyEncoding } from '../../src/server/reply-encoding.js';
import type { CommandResult } from '../../src/queue/index.js';
import type { AppFrame } from '../../src/transport/index.js';
import { Harness, waitFor, type TestNode } from '../transport/helpers.js';

/** The term the fake leader n2 claims. */
export const fakeTerm = 5;

/** A forwarded request as a fake peer received it. */
export interface ReceivedForward {
  readonly from: string;
  readonly requestId: number;
  /** The AppFrame's flags (reply-encoding.ts), 0 when absent. */
  readonly flags: number;
  readonly payload: Uint8Array;
}

/** A reply to a forwarded request as a fake peer received it: the AppFrame's request id and payload. */
export interface ReceivedReply {
  readonly requestId: number;
  readonly payload: Uint8Array;
}

/** A fake peer: its transport, the Raft messages, forwarded requests and replies it got. */
export interface FakePeer {
  readonly node: TestNode;
  readonly forwards: ReceivedForward[];
  readonly replies: ReceivedReply[];
}

const encoder = new TextEncoder();

/** n1 (real) with fake n2 and n3; n2 is made n1's leader by heartbeats. */
export class FakePeers {
  readonly #harness = new Harness();
  readonly #dataDir = mkdtempSync(join(tmpdir(), 'raftq-fake-peers-'));
  #runtime: NodeRuntime<CommandResult, QueueReply> | undefined;
  #port = 0;
  n2!: FakePeer;
  n3!: FakePeer;

  static async start(): Promise<FakePeers> {
    const f = new FakePeers();
    f.#port = (await freePorts(1))[0]!;
    f.n2 = await f.#fake('n2');
    f.n3 = await f.#fake('n3');
    return f;
  }

  async #fake(id: string): Promise<FakePeer> {
    const node = await this.#harness.start(id);
    const forwards: ReceivedForward[] = [];
    const replies: ReceivedReply[] = [];
    node.t.onApp((from: string, fr: AppFrame) => {
      if (fr.appKind === 'submit') forwards.push({ from, requestId: fr.requestId, flags: fr.flags ?? 0, payload: fr.payload });
      else if (fr.appKind === 'reply') replies.push({ requestId: fr.requestId, payload: fr.payload });
    });
    node.t.addPeer('n1', { host: '127.0.0.1', port: this.#port });
    return { node, forwards, replies };
  }

  /** The running n1. */
  get runtime(): NodeRuntime<CommandResult, QueueReply> {
    if (this.#runtime === undefined) throw new Error('n1 is not running');
    return this.#runtime;
  }

  /** Starts n1 (again, on the same data directory) and waits until it follows n2. */
  async startRuntime(overrides: Partial<NodeRuntimeConfig> = {}): Promise<NodeRuntime<CommandResult, QueueReply>> {
    const rt = await this.#launch(overrides);
    await waitFor('n2 and n1 connected', () => this.n2.node.t.isConnected('n1') && rt.status().peersConnected['n2'] === true);
    this.heartbeat();
    await waitFor('n1 follows n2', () => rt.leader()?.id === 'n2');
    return rt;
  }

  /**
   * Starts n1 and makes it the leader: n2 and n3 answer as followers with empty logs would
   * (grant every vote, acknowledge every append and heartbeat), so n1's entries commit.
   */
  async startLeaderRuntime(): Promise<NodeRuntime<CommandResult, QueueReply>> {
    for (const p of [this.n2, this.n3]) {
      p.node.t.onMessage((m) => {
        p.node.received.push(m);
        const answer = followerAnswer(p.node.id, m);
        if (answer !== undefined) p.node.t.send([answer]);
      });
    }
    const rt = await this.#launch({ electionTicks: 10 });
    await waitFor('n1 leads', () => rt.status().role === 'leader' && this.n2.node.t.isConnected('n1'));
    return rt;
  }

  async #launch(overrides: Partial<NodeRuntimeConfig>): Promise<NodeRuntime<CommandResult, QueueReply>> {
    const config: NodeRuntimeConfig = {
      nodeId: 'n1',
      clusterId: 'test-cluster',
      dataDir: this.#dataDir,
      peers: {
        n1: { host: '127.0.0.1', peerPort: this.#port },
        n2: { host: '127.0.0.1', peerPort: this.n2.node.t.address().port },
        n3: { host: '127.0.0.1', peerPort: this.n3.node.t.address().port },
      },
      listenHost: '127.0.0.1',
      tickMs: 10,
      // n1 never campaigns during a test: n2 stays its leader.
      electionTicks: 100_000,
      heartbeatTicks: 1,
      snapshotEntries: 10_000,
      compactionTrailingEntries: 100,
      snapshotBytes: 1 << 30,
      compactionTrailingBytes: 1 << 20,
      requestTimeoutMs: 10_000,
      leaderWaitMs: 10_000,
      proposalsMax: 100,
      ...overrides,
    };
    this.#runtime = await NodeRuntime.start({
      config,
      logger: pino({ level: 'silent' }),
      app: new QueueApplication(),
      replyCodecs: queueReplyCodecs,
      onFatal: (e) => {
        throw e;
      },
      seed: 1,
    });
    return this.#runtime;
  }

  /** Stops n1 (its in-memory state is gone, as after a crash; the data directory stays). */
  async stopRuntime(): Promise<void> {
    const rt = this.#runtime;
    this.#runtime = undefined;
    await rt?.stop(0);
  }

  /** n2 sends n1 a heartbeat of the fake term. */
  heartbeat(): void {
    this.send(this.n2, { type: 'heartbeat', from: 'n2', to: 'n1', term: fakeTerm, commit: 0, context: new Uint8Array(0) });
  }

  send(from: FakePeer, m: Message): void {
    from.node.t.send([m]);
  }

  /**
   * Sends a forwarded-request reply from `from` to n1: ok with `reply` in `encoding` (JSON by
   * default, as a leader of the previous release answers), or an error.
   */
  reply(from: FakePeer, requestId: number, reply: QueueReply | { error: { code: string; message: string; leader?: { id: string } } }, encoding: ReplyEncoding = 'json'): void {
    let out: Uint8Array;
    if ('error' in reply) {
      const enc = encoder.encode(JSON.stringify(reply.error));
      out = new Uint8Array(enc.byteLength + 1);
      out[0] = 0;
      out.set(enc, 1);
    } else {
      const enc = queueReplyCodecs[encoding].encode(reply);
      out = new Uint8Array(enc.byteLength + 1);
      out[0] = encoding === 'binary' ? replyStatus.okBinary : replyStatus.okJson;
      out.set(enc, 1);
    }
    from.node.t.sendApp('n1', 'reply', requestId, out);
  }

  /** The readIndex requests n1 sent to `peer`. */
  readIndexRequests(peer: FakePeer): Array<Extract<Message, { type: 'readIndex' }>> {
    return peer.node.received.filter((m): m is Extract<Message, { type: 'readIndex' }> => m.type === 'readIndex');
  }

  /** Waits until n1's transport has received `count` app frames in all. */
  async appFramesReceived(count: number): Promise<void> {
    await waitFor(`n1 received ${count} app frames`, () => this.runtime.transportStats().appFramesReceived >= count);
  }

  async close(): Promise<void> {
    await this.stopRuntime();
    await this.#harness.closeAll();
    rmSync(this.#dataDir, { recursive: true, force: true });
  }
}

/** What a follower with an empty log answers to `m` from a candidate or leader: yes to everything. */
function followerAnswer(self: string, m: Message): Message | undefined {
  const env = { from: self, to: m.from, term: m.term };
  switch (m.type) {
    case 'preVote':
      return { ...env, type: 'preVoteResp', reject: false };
    case 'vote':
      return { ...env, type: 'voteResp', reject: false };
    case 'app':
      return { ...env, type: 'appResp', index: m.index + m.entries.length, reject: false, rejectHint: 0, logTerm: 0 };
    case 'heartbeat':
      return { ...env, type: 'heartbeatResp', context: m.context };
    default:
      return undefined;
  }
}
