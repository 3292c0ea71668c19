/**
 * Development certificates: one cluster CA and a certificate per node, with the names a node
 * is reached by locally, in docker compose and in the k8s StatefulSet (deploy/), and the
 * cluster identity as the SAN URI `urn:raftq:cluster:<clusterId>` (peers refuse another).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createCertificate, newKeyPair, privateKeyPem, type Issuer, type SubjectAltName } from './x509.js';

/**
 * The SAN URI that names a node's cluster (src/transport/tls-credentials.ts checks it; node
 * certificates also carry urn:raftq:node:<id>, which binds the peer's Hello to that id).
 */
export function clusterUri(clusterId: string): string {
  return `urn:raftq:cluster:${clusterId}`;
}

/** What `raftq certs` makes. */
export interface DevCertsOptions {
  /** Directory to write into (created if missing). */
  readonly outDir: string;
  /** Node ids, e.g. ['n1', 'n2', 'n3']. */
  readonly nodes: readonly string[];
  readonly clusterId: string;
  /** Extra DNS names or IP addresses for every node certificate. */
  readonly extraHosts?: readonly string[];
  /** Validity in days (default 825). */
  readonly days?: number;
  /** The k8s namespace of the StatefulSet names (default "default"). */
  readonly namespace?: string;
  /** Start of validity (default now); tests move it to make expired certificates. */
  readonly notBefore?: Date;
  /** Keep an existing ca.pem / ca-key.pem in outDir instead of making a new CA (default true). */
  readonly reuseCa?: boolean;
}

/** The files written, by name. */
export interface DevCertsResult {
  readonly caFile: string;
  readonly caKeyFile: string;
  /** Per node id: its certificate and key files. */
  readonly nodes: Readonly<Record<string, { readonly certFile: string; readonly keyFile: string }>>;
}

/**
 * The names of node `id` (nN): localhost and loopback, the node id, the compose service raftqN,
 * the StatefulSet pod raftq-(N-1) behind the headless Service raftq-headless (short and fully
 * qualified), the client Service raftq, and `extra`; plus the URIs of the cluster and the node.
 */
export function nodeAltNames(id: string, clusterId: string, namespace: string, extra: readonly string[]): SubjectAltName[] {
  const dns = new Set<string>(['localhost', id]);
  const m = /^n(\d+)$/.exec(id);
  if (m !== null) {
    const n = Number(m[1]);
    dns.add(`raftq${n}`);
    const pod = `raftq-${n - 1}.raftq-headless`;
    for (const suffix of ['', `.${namespace}`, `.${namespace}.svc`, `.${namespace}.svc.cluster.local`]) dns.add(pod + suffix);
  }
  for (const suffix of ['', `.${namespace}`, `.${namespace}.svc`, `.${namespace}.svc.cluster.local`]) dns.add(`raftq${suffix}`);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const h of extra) {
    if (isIP(h) !== 0) ips.add(h);
    else dns.add(h);
  }
  return [...[...dns].map((d) => ({ dns: d })), ...[...ips].map((ip) => ({ ip })), { uri: clusterUri(clusterId) }, { uri: `urn:raftq:node:${id}` }];
}

/** Writes (or reuses) the CA and writes one certificate per node; keys are mode 0600. */
export function writeDevCerts(o: DevCertsOptions): DevCertsResult {
  mkdirSync(o.outDir, { recursive: true });
  const caFile = join(o.outDir, 'ca.pem');
  const caKeyFile = join(o.outDir, 'ca-key.pem');
  const notBefore = o.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (o.days ?? 825) * 86_400_000);
  const caName = { commonName: `raftq development CA (${o.clusterId})`, organizationalUnit: o.clusterId };
  let ca: Issuer;
  if ((o.reuseCa ?? true) && existsSync(caFile) && existsSync(caKeyFile)) {
    const privateKey = createPrivateKey(readFileSync(caKeyFile));
    ca = { ...existingCaName(caFile), privateKey, publicKey: createPublicKey(privateKey) };
  } else {
    const pair = newKeyPair();
    ca = { ...caName, ...pair };
    const caCert = createCertificate({ ...caName, notBefore, notAfter: new Date(Math.max(notAfter.getTime(), notBefore.getTime() + 3650 * 86_400_000)), isCa: true, altNames: [{ uri: clusterUri(o.clusterId) }], publicKey: pair.publicKey }, ca);
    writeFileSync(caKeyFile, privateKeyPem(pair.privateKey), { mode: 0o600 });
    writeFileSync(caFile, caCert);
  }
  const nodes: Record<string, { certFile: string; keyFile: string }> = {};
  for (const id of o.nodes) {
    const pair = newKeyPair();
    const cert = createCertificate(
      { commonName: id, organizationalUnit: o.clusterId, notBefore, notAfter, isCa: false, altNames: nodeAltNames(id, o.clusterId, o.namespace ?? 'default', o.extraHosts ?? []), publicKey: pair.publicKey },
      ca,
    );
    const certFile = join(o.outDir, `${id}.pem`);
    const keyFile = join(o.outDir, `${id}-key.pem`);
    writeFileSync(keyFile, privateKeyPem(pair.privateKey), { mode: 0o600 });
    writeFileSync(certFile, cert);
    nodes[id] = { certFile, keyFile };
  }
  return { caFile, caKeyFile, nodes };
}

/**
 * The TLS files of a local cluster in `dir` (`raftq cluster --secure`): made once, then
 * reused; only the missing node certificates are written (under the existing CA).
 */
export function ensureDevCerts(dir: string, nodes: readonly string[], clusterId: string): DevCertsResult {
  const files = (id: string): { certFile: string; keyFile: string } => ({ certFile: join(dir, `${id}.pem`), keyFile: join(dir, `${id}-key.pem`) });
  const missing = nodes.filter((id) => !existsSync(files(id).certFile) || !existsSync(files(id).keyFile));
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca-key.pem');
  if (missing.length > 0 || !existsSync(caFile)) {
    // A missing CA means new node certificates for every node, signed by the new CA.
    writeDevCerts({ outDir: dir, nodes: existsSync(caFile) && existsSync(caKeyFile) ? missing : nodes, clusterId });
  }
  return { caFile, caKeyFile, nodes: Object.fromEntries(nodes.map((id) => [id, files(id)])) };
}

/**
 * The subject of a CA this module wrote (O=raftq, OU, CN): a certificate's issuer must repeat
 * it exactly. Throws for a CA of another shape (bring your own certificates then).
 */
function existingCaName(caFile: string): { commonName: string; organizationalUnit?: string } {
  const lines = new X509Certificate(readFileSync(caFile)).subject.split('\n');
  const cn = lines.find((l) => l.startsWith('CN='))?.slice(3);
  const ou = lines.find((l) => l.startsWith('OU='))?.slice(3);
  const shape = ou === undefined ? ['O=raftq', `CN=${cn}`] : ['O=raftq', `OU=${ou}`, `CN=${cn}`];
  if (cn === undefined || lines.join('|') !== shape.join('|')) throw new Error(`${caFile} is not a CA written by raftq certs (subject ${lines.join(', ')}); sign node certificates with your own tools`);
  return { commonName: cn, ...(ou !== undefined ? { organizationalUnit: ou } : {}) };
}
