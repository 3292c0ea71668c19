import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPeers, localClusterPeers } from '../server/config.js';
import { serverProcessEnv } from '../server/process-env.js';

const usage = `usage: raftq cluster [--nodes N] [--data DIR] [--log-level LEVEL]

Starts a local cluster of N (default 3) raftq nodes on this machine: node i serves clients on
TCP 700i, HTTP 800i and peers on 710i, with data under DIR/n1..nN (default ./data). Node logs
go to DIR/logs/nI.log. Ctrl-C stops every node gracefully.`;

/** `raftq cluster`: runs a local N-node cluster in the foreground until Ctrl-C. */
export async function clusterCommand(argv: readonly string[]): Promise<number> {
  let nodes = 3;
  let dataDir = './data';
  let logLevel = 'info';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--help' || a === '-h') {
      process.stdout.write(usage + '\n');
      return 0;
    }
    if (v === undefined) throw new Error(`flag ${a} needs a value\n${usage}`);
    if (a === '--nodes') {
      nodes = Number(v);
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) throw new Error(`--nodes must be 1..9, got ${v}`);
    } else if (a === '--data') dataDir = v;
    else if (a === '--log-level') logLevel = v;
    else throw new Error(`unknown flag ${a}\n${usage}`);
    i++;
  }
  const peers = localClusterPeers(nodes);
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const children: ChildProcess[] = [];
  for (const id of Object.keys(peers)) {
    const log = createWriteStream(join(dataDir, 'logs', `${id}.log`), { flags: 'a' });
    const child = spawn(process.execPath, [main, 'server', '--node-id', id, '--data-dir', join(dataDir, id), '--peers', formatPeers(peers), '--log-level', logLevel, '--sqs-open'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serverProcessEnv(),
    });
    child.stdout.pipe(log);
    child.stderr.on('data', (d: Buffer) => process.stderr.write(`[${id}] ${d.toString()}`));
    child.on('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`[${id}] exited (${signal ?? `code ${code}`})\n`);
    });
    children.push(child);
    const p = peers[id]!;
    process.stdout.write(`${id}: http://127.0.0.1:${p.httpPort}  client 127.0.0.1:${p.clientPort}  peer 127.0.0.1:${p.peerPort}  data ${resolve(dataDir, id)}\n`);
  }
  let stopping = false;
  const leader = await waitForLeader(Object.values(peers).map((p) => p.httpPort!), 20_000, () => children.every((c) => c.exitCode !== null));
  if (leader !== undefined) process.stdout.write(`leader: ${leader.leader} (term ${leader.term}). Try: curl -X PUT localhost:8001/v1/queues/jobs\n`);
  else process.stdout.write('no leader yet; see the node logs under ' + join(dataDir, 'logs') + '\n');
  process.stdout.write('Ctrl-C stops the cluster.\n');
  await new Promise<void>((done) => {
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      process.stdout.write('\nstopping...\n');
      for (const c of children) c.kill('SIGTERM');
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    let left = children.length;
    for (const c of children) {
      c.on('exit', () => {
        if (--left === 0) done();
      });
      if (c.exitCode !== null && --left === 0) done();
    }
  });
  process.stdout.write('all nodes stopped\n');
  return 0;
}

async function waitForLeader(httpPorts: number[], timeoutMs: number, allDead: () => boolean): Promise<{ leader: string; term: number } | undefined> {
  const until = Date.now() + timeoutMs;
  process.stdout.write('waiting for a leader');
  while (Date.now() < until && !allDead()) {
    for (const port of httpPorts) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/cluster`, { signal: AbortSignal.timeout(500) });
        const body = (await res.json()) as { leader?: string | null; term?: number };
        if (typeof body.leader === 'string') {
          process.stdout.write('\n');
          return { leader: body.leader, term: body.term ?? 0 };
        }
      } catch {
        // not up yet
      }
    }
    process.stdout.write('.');
    await new Promise((r) => setTimeout(r, 250));
  }
  process.stdout.write('\n');
  return undefined;
}
