import { RaftError, type ConfChange, type Message } from '../../../raft/index.js';
import { electionTicks, heartbeatTicks, type InteractionEnv } from './env.js';
import { describeEntries, describeMessage, describeProgress, messageTypeOf, roleName } from './format.js';
import type { Block, CommandArg } from './parser.js';

/**
 * The commands of etcd-io/raft's interaction scenarios, run against raftq. Each handler
 * prints what etcd's handler prints; a command raftq has no counterpart for throws
 * UnsupportedCommand, and the scenario is not run.
 */

/** A command or option raftq has no counterpart for. */
export class UnsupportedCommand extends Error {}

type Handler = (env: InteractionEnv, b: Block) => void;

/** The node index (0-based) of a bare numeric argument. */
function nodeIdx(a: CommandArg | undefined): number {
  const n = Number(a?.key);
  if (a === undefined || a.vals.length > 0 || !Number.isInteger(n) || n < 1) throw new Error(`expected a node id, got ${a?.key}`);
  return n - 1;
}

/** Every bare numeric argument as a node index. */
function nodeIdxs(b: Block): number[] {
  return b.args.filter((a) => a.vals.length === 0).map((a) => nodeIdx(a));
}

function flag(v: string): boolean {
  if (v !== 'true' && v !== 'false') throw new Error(`expected true or false, got ${v}`);
  return v === 'true';
}

/**
 * Log lines are not compared (raftq logs differently), so of the log levels only `none`
 * matters: it silences every command's output, as in etcd.
 */
const levels = ['debug', 'info', 'warn', 'error', 'fatal', 'none'];

function isQuiet(level: string | undefined): boolean {
  const lvl = level?.toLowerCase() ?? '';
  if (!levels.includes(lvl)) throw new Error(`unknown log level ${lvl}`);
  return lvl === 'none';
}

function tick(env: InteractionEnv, idx: number, n: number): void {
  for (let i = 0; i < n; i++) env.node(idx).rawNode.tick();
}

/** Prints a proposal error as etcd would (it returns ErrProposalDropped). */
function proposeOrReport(env: InteractionEnv, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof RaftError)) throw e;
    env.writeError('raft proposal dropped');
  }
}

/** `v2 l3 r1` in etcd's notation; raftq runs single-server changes only. */
function parseConfChange(input: readonly string[]): ConfChange {
  const ops = input.join(' ').trim().split(/\s+/);
  if (ops.length !== 1) throw new UnsupportedCommand(`joint conf change ${ops.join(' ')}`);
  const m = /^([vlr])(\d+)$/.exec(ops[0]!);
  if (m === null) throw new UnsupportedCommand(`conf change ${ops[0]}`);
  const type = m[1] === 'v' ? 'addVoter' : m[1] === 'l' ? 'addLearner' : 'removeNode';
  return { type, nodeId: m[2]! };
}

const handlers: Record<string, Handler> = {
  'log-level': (env, b) => {
    env.quiet = isQuiet(b.args[0]?.key);
  },

  'add-nodes': (env, b) => {
    const count = Number(b.args[0]?.key);
    let voters: string[] = [];
    let learners: string[] = [];
    let index = 0;
    let preVote = false;
    let checkQuorum = false;
    let inflightMessagesMax = 2 ** 31 - 1;
    let applyBytesMax = Number.MAX_SAFE_INTEGER;
    let election = electionTicks;
    let heartbeat = heartbeatTicks;
    for (const a of b.args.slice(1)) {
      const v = a.vals[0] ?? '';
      switch (a.key) {
        case 'voters':
          voters = [...a.vals];
          break;
        case 'learners':
          learners = [...a.vals];
          break;
        case 'index':
          index = Number(v);
          if (index <= 1) throw new Error('index must be specified as > 1 due to bootstrap');
          break;
        case 'prevote':
          preVote = flag(v);
          break;
        case 'checkquorum':
          checkQuorum = flag(v);
          break;
        case 'inflight':
          inflightMessagesMax = Number(v);
          break;
        case 'election-tick':
          election = Number(v);
          break;
        case 'heartbeat-tick':
          heartbeat = Number(v);
          break;
        case 'max-committed-size-per-ready':
          applyBytesMax = Number(v);
          break;
        case 'step-down-on-removal':
          // raftq's leader always steps down when removed (etcd's default since v3.6).
          if (!flag(v)) throw new UnsupportedCommand('step-down-on-removal=false');
          break;
        default:
          throw new UnsupportedCommand(`add-nodes ${a.key}`);
      }
    }
    env.addNodes(count, { voters, learners, index, preVote, checkQuorum, inflightMessagesMax, applyBytesMax, electionTicks: election, heartbeatTicks: heartbeat });
  },

  campaign: (env, b) => env.node(nodeIdx(b.args[0])).rawNode.campaign(),

  'forget-leader': (env, b) => env.node(nodeIdx(b.args[0])).rawNode.forgetLeader(),

  'tick-election': (env, b) => {
    const idx = nodeIdx(b.args[0]);
    tick(env, idx, env.node(idx).config.electionTicks);
  },

  'tick-heartbeat': (env, b) => {
    const idx = nodeIdx(b.args[0]);
    tick(env, idx, env.node(idx).config.heartbeatTicks);
  },

  tick: (env, b) => tick(env, nodeIdx(b.args[0]), Number(b.args[1]?.key)),

  'send-snapshot': (env, b) => {
    const [from, to] = nodeIdxs(b);
    if (from === undefined || to === undefined) throw new Error('must specify exactly two node indexes');
    const n = env.node(from);
    const m: Message = { type: 'snap', from: n.id, to: env.node(to).id, term: n.rawNode.coreForTesting().term, snapshot: n.storage.snapshot() };
    env.messages.push(m);
    env.writeLine(describeMessage(m));
  },

  'set-randomized-election-timeout': (env, b) => {
    const t = Number(b.args.find((a) => a.key === 'timeout')?.vals[0]);
    if (!(t > 0)) throw new Error('timeout must be set');
    env.node(nodeIdx(b.args[0])).rawNode.coreForTesting().randomizedElectionTimeout = t;
  },

  propose: (env, b) => {
    const n = env.node(nodeIdx(b.args[0]));
    const data = new TextEncoder().encode(b.args[1]?.key ?? '');
    proposeOrReport(env, () => n.rawNode.propose(data));
  },

  'propose-conf-change': (env, b) => {
    const n = env.node(nodeIdx(b.args[0]));
    for (const a of b.args.slice(1)) {
      if (a.key === 'v1') continue;
      if (a.key === 'transition' && a.vals[0] === 'auto') continue;
      throw new UnsupportedCommand(`propose-conf-change ${a.key}=${a.vals.join(',')}`);
    }
    const cc = parseConfChange(b.input);
    proposeOrReport(env, () => n.rawNode.proposeConfChange(cc));
  },

  'transfer-leadership': (env, b) => {
    const from = b.args.find((a) => a.key === 'from')?.vals[0];
    const to = b.args.find((a) => a.key === 'to')?.vals[0];
    if (from === undefined || to === undefined) throw new Error('from and to must be set');
    try {
      env.node(Number(from) - 1).rawNode.transferLeadership(to);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      // etcd ignores a transfer it cannot start (it only logs).
    }
  },

  'report-unreachable': (env, b) => {
    const [on, peer] = nodeIdxs(b);
    if (on === undefined || peer === undefined) throw new Error('must specify exactly two node indexes');
    env.node(on).rawNode.reportUnreachable(env.node(peer).id);
  },

  'process-ready': (env, b) => {
    const idxs = nodeIdxs(b);
    for (const idx of idxs) {
      if (idxs.length > 1) {
        env.writeLine(`> ${idx + 1} handling Ready`);
        env.withIndent(() => env.processReady(idx));
      } else {
        env.processReady(idx);
      }
    }
  },

  'deliver-msgs': (env, b) => {
    let type;
    const rs: Array<{ id: string; drop: boolean }> = [];
    for (const a of b.args) {
      if (a.vals.length === 0) rs.push({ id: a.key, drop: false });
      else if (a.key === 'drop') for (const v of a.vals) rs.push({ id: v, drop: true });
      else if (a.key === 'type') {
        type = messageTypeOf(a.vals[0]!);
        if (type === undefined) throw new UnsupportedCommand(`message type ${a.vals[0]}`);
      } else throw new Error(`unknown argument ${a.key}`);
    }
    if (env.deliverMsgs(type, rs) === 0) env.writeLine('no messages');
  },

  stabilize: (env, b) => {
    const lvl = b.args.find((a) => a.key === 'log-level')?.vals[0];
    const quiet = env.quiet;
    if (lvl !== undefined) env.quiet = isQuiet(lvl);
    try {
      env.stabilize(nodeIdxs(b));
    } finally {
      env.quiet = quiet;
    }
  },

  'raft-log': (env, b) => {
    const s = env.node(nodeIdx(b.args[0])).storage;
    const fi = s.firstIndex();
    const li = s.lastIndex();
    if (li < fi) env.write(`log is empty: first index=${fi}, last index=${li}`);
    else env.write(describeEntries(s.entries(fi, li + 1, Number.MAX_SAFE_INTEGER)));
  },

  'raft-state': (env) => {
    for (const n of env.nodes) {
      const r = n.rawNode.coreForTesting();
      const voter = r.prs.isVoter(n.id) ? '(Voter)' : '(Non-Voter)';
      env.writeLine(`${n.id}: ${roleName(r.role)} ${voter} Term:${r.term} Lead:${r.lead === '' ? 0 : r.lead}`);
    }
  },

  status: (env, b) => {
    const r = env.node(nodeIdx(b.args[0])).rawNode.coreForTesting();
    if (r.role !== 'leader') return;
    const ids = [...r.prs.progress.keys()].sort((x, y) => Number(x) - Number(y));
    for (const id of ids) env.writeLine(`${id}: ${describeProgress(r.prs.progress.get(id)!)}`);
  },

  compact: (env, b) => {
    const n = env.node(nodeIdx(b.args[0]));
    const index = Number(b.args[1]?.key);
    const snap = [...n.history].reverse().find((h) => h.index <= index);
    if (snap === undefined) throw new Error(`no applied state at or below ${index}`);
    n.storage.createSnapshot(index, snap.confState);
    n.storage.compact(index);
    handlers['raft-log']!(env, { ...b, args: [b.args[0]!] });
  },
};

/** Runs one block and returns its output as etcd formats it ("ok" when nothing is printed). */
export function runBlock(env: InteractionEnv, b: Block): string {
  const h = handlers[b.cmd];
  if (h === undefined) throw new UnsupportedCommand(`command ${b.cmd}`);
  h(env, b);
  const out = env.takeOutput().replace(/\n$/, '');
  return out === '' ? 'ok' : out;
}
