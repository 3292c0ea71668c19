import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPeers, localClusterPeers } from '../server/config.js';
import { serverProcessEnv } from '../server/process-env.js';
import { ensureAdminToken } from './admin-token.js';
import { ensureDevCerts } from './dev-certs.js';

const usage = `usage: raftq cluster [--nodes N] [--data DIR] [--log-level LEVEL] [--secure]

Starts a local cluster of N (default 3) raftq nodes on this machine: node i serves clients on
TCP 700i, HTTP 800i and peers on 710i, with data under DIR/n1..nN (default ./data). Node logs
go to DIR/logs/nI.log. Ctrl-C stops every node gracefully.

--secure: TLS on every listener (HTTPS, the binary client port, mutual TLS between peers) with
a development CA and node certificates in DIR/tls (ca.pem, nI.pem, nI-key.pem), made on the
first run and reused after. Clients verify the nodes with DIR/tls/ca.pem (curl --cacert,
raftq --tls-ca). It also requires authentication (--auth required) with the admin token in
DIR/admin.token (mode 0600, made once and reused): curl -H "Authorization: Bearer $(cat
DIR/admin.token)", raftq --token, RAFTQ_TOKEN. The SQS API then needs SigV4 keys (not open).`;

/** `raftq cluster`: runs a local N-node cluster in the foreground until Ctrl-C. */
export async function clusterCommand(argv: readonly string[]): Promise<number> {
  let nodes = 3;
  let dataDir = './data';
  let logLevel = 'info';
  let secure = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--help' || a === '-h') {
      process.stdout.write(usage + '\n');
      return 0;
    }
    if (a === '--secure') {
      secure = true;
      continue;
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
  // The server's default cluster id: the certificates must name it.
  const tls = secure ? ensureDevCerts(join(dataDir, 'tls'), Object.keys(peers), 'raftq') : undefined;
  const scheme = tls !== undefined ? 'https' : 'http';
  const adminTokenFile = join(dataDir, 'admin.token');
  const adminToken = secure ? ensureAdminToken(adminTokenFile) : undefined;
  // Secure: tokens on HTTP and the binary protocol; SQS keeps SigV4 (no unsigned access).
  const accessFlags = secure ? ['--auth', 'required', '--admin-token-file', adminTokenFile] : ['--sqs-open'];
  const children: ChildProcess[] = [];
  for (const id of Object.keys(peers)) {
    const log = createWriteStream(join(dataDir, 'logs', `${id}.log`), { flags: 'a' });
    const tlsFlags = tls !== undefined ? ['--tls-cert', tls.nodes[id]!.certFile, '--tls-key', tls.nodes[id]!.keyFile, '--tls-ca', tls.caFile] : [];
    const child = spawn(process.execPath, [main, 'server', '--node-id', id, '--data-dir', join(dataDir, id), '--peers', formatPeers(peers), '--log-level', logLevel, ...accessFlags, ...tlsFlags], {
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
    process.stdout.write(`${id}: ${scheme}://127.0.0.1:${p.httpPort}  client 127.0.0.1:${p.clientPort}  peer 127.0.0.1:${p.peerPort}  data ${resolve(dataDir, id)}\n`);
  }
  let stopping = false;
  const ca = tls !== undefined ? readFileSync(tls.caFile) : undefined;
  const leader = await waitForLeader(Object.values(peers).map((p) => p.httpPort!), 20_000, () => children.every((c) => c.exitCode !== null), ca, adminToken);
  if (leader !== undefined && tls !== undefined) {
    process.stdout.write(`leader: ${leader.leader} (term ${leader.term}). TLS on every listener; the CA is ${tls.caFile}.\n`);
    process.stdout.write(`Authentication required; the admin token is in ${adminTokenFile}. Try:\n`);
    process.stdout.write(`  curl --cacert ${tls.caFile} -H "Authorization: Bearer $(cat ${adminTokenFile})" -X PUT https://localhost:8001/v1/queues/jobs\n`);
    process.stdout.write(`  export RAFTQ_TLS_CA=${tls.caFile} RAFTQ_TOKEN=$(cat ${adminTokenFile})\n`);
    process.stdout.write(`  raftq send jobs hello ; raftq user put app --allow 'queue:jobs=send,receive' ; raftq token create app\n`);
  } else if (leader !== undefined) process.stdout.write(`leader: ${leader.leader} (term ${leader.term}). Try: curl -X PUT localhost:8001/v1/queues/jobs\n`);
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

async function waitForLeader(httpPorts: number[], timeoutMs: number, allDead: () => boolean, ca: Buffer | undefined, token: string | undefined): Promise<{ leader: string; term: number } | undefined> {
  const until = Date.now() + timeoutMs;
  process.stdout.write('waiting for a leader');
  while (Date.now() < until && !allDead()) {
    for (const port of httpPorts) {
      try {
        const body = (ca !== undefined ? await getJsonTls(port, ca, token) : await (await fetch(`http://127.0.0.1:${port}/v1/cluster`, { signal: AbortSignal.timeout(500) })).json()) as { leader?: string | null; term?: number };
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

/** GET https://127.0.0.1:port/v1/cluster verified against `ca` (fetch cannot take a CA), with the admin token. */
function getJsonTls(port: number, ca: Buffer, token: string | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const headers = token !== undefined ? { authorization: `Bearer ${token}` } : {};
    const req = httpsGet({ host: '127.0.0.1', port, path: '/v1/cluster', ca, headers, timeout: 500 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
