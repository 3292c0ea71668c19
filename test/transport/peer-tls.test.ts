/**
 * The peer transport over mutual TLS: peers of one cluster connect and exchange messages; a
 * dialer refuses a listener whose certificate names another cluster (same CA), and a listener
 * refuses a dialer whose certificate another CA signed; a certificate bound to one node id
 * (urn:raftq:node:<id>) cannot serve as another node, either way.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeDevCerts, type DevCertsResult } from '../../src/cli/dev-certs.js';
import { TlsCredentials } from '../../src/transport/index.js';
import { Harness, captureLogger, heartbeat, waitFor } from './helpers.js';

const harness = new Harness();
const dirs: string[] = [];
afterEach(async () => {
  await harness.closeAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftq-peer-tls-'));
  dirs.push(d);
  return d;
}

function creds(certs: DevCertsResult, id: string, clusterId: string): TlsCredentials {
  return new TlsCredentials({ certFile: certs.nodes[id]!.certFile, keyFile: certs.nodes[id]!.keyFile, caFile: certs.caFile }, clusterId, captureLogger().logger);
}

/** Node certificates for `clusterId` signed by the CA in `caDir`, written to a new directory. */
function sameCa(caDir: DevCertsResult, nodes: string[], clusterId: string): DevCertsResult {
  const dir = tmp();
  copyFileSync(caDir.caFile, join(dir, 'ca.pem'));
  copyFileSync(caDir.caKeyFile, join(dir, 'ca-key.pem'));
  return writeDevCerts({ outDir: dir, nodes, clusterId });
}

describe('peer transport over mutual TLS', () => {
  it('connects peers of one cluster and delivers their messages', async () => {
    const certs = writeDevCerts({ outDir: tmp(), nodes: ['a', 'b'], clusterId: 'test-cluster' });
    const a = await harness.start('a', { tls: creds(certs, 'a', 'test-cluster') });
    const b = await harness.start('b', { tls: creds(certs, 'b', 'test-cluster') });
    await harness.mesh([a, b]);
    a.t.send([heartbeat('a', 'b', 7)]);
    await waitFor('b receives the heartbeat', () => b.received.length === 1);
    expect(b.received[0]!.from).toBe('a');
  });

  it('a dialer refuses a listener whose certificate names another cluster', async () => {
    const certs = writeDevCerts({ outDir: tmp(), nodes: ['a'], clusterId: 'test-cluster' });
    const other = sameCa(certs, ['b'], 'other');
    const a = await harness.start('a', { tls: creds(certs, 'a', 'test-cluster') });
    const b = await harness.start('b', { clusterId: 'other', tls: creds(other, 'b', 'other') });
    a.t.addPeer('b', b.t.address());
    await waitFor('a refuses b', () => a.lines.some((l) => l.msg === 'peer TLS handshake failed' && /certificate of cluster other, expected test-cluster/.test(String(l['err']))));
    expect(a.t.isConnected('b')).toBe(false);
  });

  it('a listener refuses a dialer whose certificate another CA signed', async () => {
    const certs = writeDevCerts({ outDir: tmp(), nodes: ['a'], clusterId: 'test-cluster' });
    const foreign = writeDevCerts({ outDir: tmp(), nodes: ['b'], clusterId: 'test-cluster' });
    const a = await harness.start('a', { tls: creds(certs, 'a', 'test-cluster') });
    // b trusts a's CA (so only a's check can stop it) but presents a certificate of its own CA.
    const bCreds = new TlsCredentials({ certFile: foreign.nodes['b']!.certFile, keyFile: foreign.nodes['b']!.keyFile, caFile: certs.caFile }, 'test-cluster', captureLogger().logger);
    const b = await harness.start('b', { tls: bCreds });
    b.t.addPeer('a', a.t.address());
    a.t.addPeer('b', b.t.address());
    await waitFor('a refuses b', () => a.lines.some((l) => l.msg === 'refused peer TLS connection' && /untrusted client certificate/.test(String(l['reason']))));
    expect(b.t.isConnected('a')).toBe(false);
  });

  it('a certificate bound to one node cannot be used by another node, dialing or listening', async () => {
    const certs = writeDevCerts({ outDir: tmp(), nodes: ['a', 'b'], clusterId: 'test-cluster' });
    const b = await harness.start('b', { tls: creds(certs, 'b', 'test-cluster') });
    // Node c holds a's certificate (same CA and cluster).
    const c = await harness.start('c', { tls: creds(certs, 'a', 'test-cluster') });
    b.t.addPeer('c', c.t.address());
    c.t.addPeer('b', b.t.address());
    await waitFor('b refuses c claiming to be c with the certificate of a', () => c.lines.some((l) => l.msg === 'peer handshake failed' && /presented the TLS certificate of node a/.test(String(l['reason']))));
    await waitFor('b, dialing c, refuses the certificate of a', () => b.lines.some((l) => l.msg === 'peer TLS handshake failed' && /certificate of node a/.test(String(l['err']))));
    expect(b.t.isConnected('c')).toBe(false);
    expect(c.t.isConnected('b')).toBe(false);
  });
});
