import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDevCerts, writeDevCerts } from '../../src/cli/dev-certs.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftq-certs-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('raftq development certificates', () => {
  it('writes a CA and node certificates with the local, compose and k8s names and the cluster id', () => {
    const out = writeDevCerts({ outDir: tmp(), nodes: ['n1', 'n2', 'n3'], clusterId: 'c7', extraHosts: ['mq.example.com', '10.0.0.9'], days: 30 });
    const ca = new X509Certificate(readFileSync(out.caFile));
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    const n2 = new X509Certificate(readFileSync(out.nodes['n2']!.certFile));
    expect(n2.ca).toBe(false);
    expect(n2.checkIssued(ca)).toBe(true);
    expect(n2.verify(ca.publicKey)).toBe(true);
    const sans = n2.subjectAltName!.split(', ');
    for (const name of ['DNS:localhost', 'DNS:n2', 'DNS:raftq2', 'DNS:raftq-1.raftq-headless', 'DNS:raftq-1.raftq-headless.default.svc.cluster.local', 'DNS:raftq', 'DNS:mq.example.com', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:10.0.0.9', 'URI:urn:raftq:cluster:c7', 'URI:urn:raftq:node:n2']) {
      expect(sans).toContain(name);
    }
    expect(n2.checkHost('raftq-1.raftq-headless.default.svc.cluster.local')).toBeDefined();
    expect(n2.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(n2.subject).toContain('OU=c7');
    const days = (Date.parse(n2.validTo) - Date.parse(n2.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    expect(statSync(out.nodes['n2']!.keyFile).mode & 0o077).toBe(0);
  });

  it('reuses an existing CA, so certificates made later still chain to it', () => {
    const dir = tmp();
    const first = writeDevCerts({ outDir: dir, nodes: ['n1'], clusterId: 'c1' });
    const caPem = readFileSync(first.caFile, 'utf8');
    const second = writeDevCerts({ outDir: dir, nodes: ['n4'], clusterId: 'c1' });
    expect(readFileSync(second.caFile, 'utf8')).toBe(caPem);
    expect(new X509Certificate(readFileSync(second.nodes['n4']!.certFile)).verify(new X509Certificate(caPem).publicKey)).toBe(true);
    // Also for another cluster id: the issuer must still name the CA as it is.
    const third = writeDevCerts({ outDir: dir, nodes: ['n5'], clusterId: 'c2' });
    expect(new X509Certificate(readFileSync(third.nodes['n5']!.certFile)).checkIssued(new X509Certificate(caPem))).toBe(true);
  });

  it('ensureDevCerts (raftq cluster --secure) makes the files once, then reuses them, writing only missing nodes', () => {
    const dir = tmp();
    const first = ensureDevCerts(dir, ['n1', 'n2', 'n3'], 'raftq');
    const read = (f: string): string => readFileSync(f, 'utf8');
    const snapshot = [first.caFile, ...Object.values(first.nodes).flatMap((n) => [n.certFile, n.keyFile])].map(read);
    const again = ensureDevCerts(dir, ['n1', 'n2', 'n3'], 'raftq');
    expect([again.caFile, ...Object.values(again.nodes).flatMap((n) => [n.certFile, n.keyFile])].map(read)).toEqual(snapshot);
    rmSync(first.nodes['n2']!.certFile);
    const third = ensureDevCerts(dir, ['n1', 'n2', 'n3'], 'raftq');
    expect(read(third.nodes['n1']!.certFile)).toBe(snapshot[1]);
    expect(read(third.caFile)).toBe(snapshot[0]);
    const ca = new X509Certificate(read(third.caFile));
    expect(new X509Certificate(read(third.nodes['n2']!.certFile)).verify(ca.publicKey)).toBe(true);
  });

  it('can make a certificate that is already expired (for tests)', () => {
    const out = writeDevCerts({ outDir: tmp(), nodes: ['n1'], clusterId: 'c1', notBefore: new Date(Date.now() - 10 * 86_400_000), days: 1 });
    const cert = new X509Certificate(readFileSync(out.nodes['n1']!.certFile));
    expect(Date.parse(cert.validTo)).toBeLessThan(Date.now());
  });
});
