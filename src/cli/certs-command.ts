/**
 * `raftq certs`: writes a development CA and node certificates (src/cli/dev-certs.ts).
 * Production users bring certificates of their own (README "TLS").
 */
import { RaftqError } from '../errors.js';
import { writeDevCerts } from './dev-certs.js';

const usage = `usage: raftq certs --out DIR [--nodes n1,n2,n3] [--hosts NAME,...] [--days N] [--cluster-id ID] [--namespace NS]

Writes a development certificate authority (DIR/ca.pem, DIR/ca-key.pem; an existing one in DIR
is reused) and, per node, DIR/<id>.pem and DIR/<id>-key.pem, valid for N days (default 825).
Node certificates name localhost, 127.0.0.1, ::1, the node id, the compose service raftqN, the
k8s StatefulSet pod raftq-(N-1).raftq-headless[.NS.svc.cluster.local] and Service raftq, any
--hosts, and the cluster (URI urn:raftq:cluster:ID, default ID raftq): peers of another cluster
are refused. For development only: production clusters bring their own certificates.`;

/** Runs `raftq certs`; returns the exit code. */
export function certsCommand(argv: readonly string[]): Promise<number> {
  let outDir: string | undefined;
  let nodes = ['n1', 'n2', 'n3'];
  let hosts: string[] = [];
  let days = 825;
  let clusterId = 'raftq';
  let namespace = 'default';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(usage + '\n');
      return Promise.resolve(0);
    }
    const v = argv[i + 1];
    if (v === undefined) throw bad(`flag ${a} needs a value`);
    i++;
    const list = (): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (a === '--out') outDir = v;
    else if (a === '--nodes') nodes = list();
    else if (a === '--hosts') hosts = list();
    else if (a === '--cluster-id') clusterId = v;
    else if (a === '--namespace') namespace = v;
    else if (a === '--days') {
      days = Number(v);
      if (!Number.isInteger(days) || days < 1 || days > 36_500) throw bad(`--days must be 1..36500, got ${v}`);
    } else throw bad(`unknown flag ${a}`);
  }
  if (outDir === undefined) throw bad('--out DIR is required');
  if (nodes.length === 0 || nodes.some((n) => !/^[A-Za-z0-9_-]{1,64}$/.test(n))) throw bad('--nodes takes node ids of [A-Za-z0-9_-], comma-separated');
  const out = writeDevCerts({ outDir, nodes, clusterId, extraHosts: hosts, days, namespace });
  process.stdout.write(`CA: ${out.caFile} (key ${out.caKeyFile})\n`);
  for (const [id, f] of Object.entries(out.nodes)) process.stdout.write(`${id}: ${f.certFile} (key ${f.keyFile})\n`);
  process.stdout.write(`Start a node with --tls-cert ${out.nodes[nodes[0]!]!.certFile} --tls-key ${out.nodes[nodes[0]!]!.keyFile} --tls-ca ${out.caFile}\n`);
  return Promise.resolve(0);
}

function bad(message: string): RaftqError {
  return new RaftqError('INVALID_ARGUMENT', `${message}\n${usage.split('\n')[0]}`);
}
