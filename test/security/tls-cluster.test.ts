/**
 * A real three-node cluster with TLS on every listener (`--tls-cert/--tls-key/--tls-ca`, peers
 * with mutual TLS): it elects a leader, serves HTTPS and the binary protocol over TLS through a
 * follower, forwards a leader transfer over https; plain text on each TLS port and peers of
 * another cluster (another CA, or the same CA with another cluster id) are refused while the
 * node stays healthy; replaced certificate files are picked up on SIGHUP without a restart.
 * Runs the compiled CLI: build first (`npm run build`).
 */
import { copyFileSync, mkdtempSync, readFileSync as readFile, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { writeDevCerts } from '../../src/cli/dev-certs.js';
import { connect } from '../../src/client/index.js';
import { Cluster, waitFor } from '../integration/cluster-harness.js';

/** Connects, writes plain text, resolves once the node closed the connection (or after 10 s: false). */
function plainTextClosed(port: number): Promise<boolean> {
  const s = netConnect({ host: '127.0.0.1', port }, () => s.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n'));
  return closedByPeer(s);
}

/** Resolves true once the other side closed `s`, false after 10 s (then `s` is destroyed). */
function closedByPeer(s: NodeJS.EventEmitter & { destroy(): void }): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 10_000);
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Dials a peer port with a client certificate and sends nothing; resolves once the node closed
 * the connection (true) or after 10 s (false). Our side trusts anything: the node decides.
 */
function peerProbeClosed(port: number, cert: { certFile: string; keyFile: string }, ca: string): Promise<boolean> {
  return closedByPeer(tlsConnect({ host: '127.0.0.1', port, cert: readFile(cert.certFile), key: readFile(cert.keyFile), ca: readFile(ca), rejectUnauthorized: false }));
}


/** The fingerprint of the certificate a new TLS connection to `port` is served. */
function servedFingerprint(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.on('error', reject);
  });
}

/** One unsigned SQS JSON-protocol call over https (the nodes run with --sqs-open). */
function sqsCall(port: number, ca: Buffer, action: string, input: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const data = Buffer.from(JSON.stringify(input));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, method: 'POST', path: '/', ca, agent: false, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}`, 'content-length': data.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('a TLS cluster', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  const dirs: string[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start({ name: 'tls', tls: true, clusterId: 'tls-it', args: ['--sqs-open'] });
  });

  afterAll(async () => {
    await cluster?.stopAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function tmp(): string {
    const d = mkdtempSync(join(tmpdir(), 'raftq-tls-it-'));
    dirs.push(d);
    return d;
  }

  test('elects a leader and serves HTTPS and the binary protocol over TLS, through a follower too', async () => {
    onTestFailed(() => console.error(cluster.logTails(40)));
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    await cluster.ok(follower, 'PUT', '/v1/queues/secure', {});
    await cluster.ok(follower, 'POST', '/v1/queues/secure/messages', { body: 'over https' });
    const client = await connect({ nodes: [`127.0.0.1:${cluster.node(follower).clientPort}`], tls: { ca: cluster.tls!.ca } });
    try {
      await client.send('secure', 'over tls');
      const got = await client.receive('secure', { max: 10, waitMs: 2000 });
      expect(got.map((m) => m.text()).sort()).toEqual(['over https', 'over tls']);
    } finally {
      await client.close();
    }
    // The SQS API on the same HTTPS port answers https queue URLs.
    const created = await sqsCall(cluster.node(follower).httpPort, cluster.tls!.ca, 'CreateQueue', { QueueName: 'sqs-secure' });
    expect(created.status).toBe(200);
    expect(String(created.body['QueueUrl'])).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/\d{12}\/sqs-secure$/);
    // A follower forwards a leader transfer to the leader's HTTP address, over https.
    const other = cluster.ids.find((id) => id !== leader.id && id !== follower)!;
    const r = await cluster.ok<{ leader: string }>(follower, 'POST', '/v1/cluster/transfer-leader', { to: other });
    expect(r.leader).toBe(other);
  });

  test('the CLI (client and operator commands) reaches it with --tls-ca, and not without', async () => {
    onTestFailed(() => console.error(cluster.logTails(40)));
    const nodes = cluster.ids.map((id) => `127.0.0.1:${cluster.node(id).clientPort}`).join(',');
    const ok = cluster.spawnExtra('cli-tls', ['send', '--nodes', nodes, '--tls-ca', cluster.tls!.caFile, 'secure', 'from the cli']);
    expect((await ok.exited).code).toBe(0);
    const plain = cluster.spawnExtra('cli-plain', ['send', '--nodes', nodes, '--timeout', '500', 'secure', 'refused']);
    expect((await plain.exited).code).toBe(1);
    // The operator commands that speak HTTP: member list and backup, over https.
    // Through a follower, which forwards to the leader over https (a failed forward would answer its local view).
    const leader = await cluster.waitForLeader();
    const http = `127.0.0.1:${cluster.node(cluster.ids.find((id) => id !== leader.id)!).httpPort}`;
    const members = cluster.spawnExtra('cli-members', ['member', 'list', '--node', http, '--tls-ca', cluster.tls!.caFile]);
    expect((await members.exited).code).toBe(0);
    expect(readFile(members.stdoutFile, 'utf8')).toMatch(/n1/);
    expect(readFile(members.stdoutFile, 'utf8')).not.toMatch(/leader unreachable/);
    const backupFile = join(tmp(), 'backup.bin');
    const backup = cluster.spawnExtra('cli-backup', ['backup', backupFile, '--node', http, '--tls-ca', cluster.tls!.caFile]);
    expect((await backup.exited).code).toBe(0);
    expect(readFile(backup.stdoutFile, 'utf8')).toMatch(/backup of cluster tls-it/);
    const plainMembers = cluster.spawnExtra('cli-members-plain', ['member', 'list', '--node', http]);
    expect((await plainMembers.exited).code).toBe(1);
  });

  test('plain text on each TLS port is refused and logged; the node stays healthy', async () => {
    onTestFailed(() => console.error(cluster.logTails(40)));
    const n = cluster.node('n1');
    for (const [port, listener] of [[n.httpPort, 'http'], [n.clientPort, 'client'], [n.peerPort, 'peer']] as const) {
      expect(await plainTextClosed(port)).toBe(true);
      await cluster.waitForLog('n1', 'TLS handshake failed; connection closed', { listener });
    }
    expect((await cluster.http('n1', 'GET', '/health')).status).toBe(200);
    await cluster.waitForLeader();
  });

  test('a peer certificate of another CA, or of the same CA for another cluster, is refused', async () => {
    onTestFailed(() => console.error(cluster.logTails(40)));
    const tls = cluster.tls!;
    const otherCa = writeDevCerts({ outDir: tmp(), nodes: ['n1'], clusterId: cluster.clusterId });
    expect(await peerProbeClosed(cluster.node('n2').peerPort, otherCa.nodes['n1']!, otherCa.caFile)).toBe(true);
    await waitFor('the untrusted peer certificate refusal', () => cluster.findLogs('n2', 'refused peer TLS connection').find((l) => /untrusted client certificate/.test(String(l['reason']))), 10_000);

    const sameCaDir = tmp();
    copyFileSync(tls.caFile, join(sameCaDir, 'ca.pem'));
    copyFileSync(tls.caKeyFile, join(sameCaDir, 'ca-key.pem'));
    const otherCluster = writeDevCerts({ outDir: sameCaDir, nodes: ['n1'], clusterId: 'another-cluster' });
    expect(await peerProbeClosed(cluster.node('n2').peerPort, otherCluster.nodes['n1']!, tls.caFile)).toBe(true);
    await waitFor('the other cluster refusal', () => cluster.findLogs('n2', 'refused peer TLS connection').find((l) => /certificate of cluster another-cluster, expected tls-it/.test(String(l['reason']))), 10_000);
    expect((await cluster.http('n2', 'GET', '/health')).status).toBe(200);
    await cluster.waitForLeader();
  });

  test('replaced certificate files are served to new connections after SIGHUP, without a restart', async () => {
    onTestFailed(() => console.error(cluster.logTails(40)));
    const tls = cluster.tls!;
    const pid = cluster.pid('n1')!;
    const before = await servedFingerprint(cluster.node('n1').httpPort, tls.ca);
    // Same CA, new key and certificate: sign with the cluster CA by working in a copy of its directory.
    const staging = tmp();
    copyFileSync(tls.caFile, join(staging, 'ca.pem'));
    copyFileSync(tls.caKeyFile, join(staging, 'ca-key.pem'));
    const renewed = writeDevCerts({ outDir: staging, nodes: ['n1'], clusterId: cluster.clusterId });
    copyFileSync(renewed.nodes['n1']!.keyFile, tls.nodes['n1']!.keyFile);
    copyFileSync(renewed.nodes['n1']!.certFile, tls.nodes['n1']!.certFile);
    process.kill(pid, 'SIGHUP');
    await cluster.waitForLog('n1', 'TLS certificate reloaded', { reason: 'SIGHUP' });
    for (const port of [cluster.node('n1').httpPort, cluster.node('n1').clientPort]) {
      const after = await servedFingerprint(port, tls.ca);
      expect(after).not.toBe(before);
    }
    expect(cluster.pid('n1')).toBe(pid);
    // The cluster still works with n1's new certificate: a write replicates to every node.
    const leader = await cluster.waitForLeader();
    await cluster.ok(leader.id, 'POST', '/v1/queues/secure/messages', { body: 'after reload' });
    await cluster.waitForConvergence();
  });
});
