/**
 * TlsCredentials: loading checks, reload on demand and on file change (a new connection sees the
 * new certificate, no restart), a bad new file keeps the old context, plain text refused.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer, type Server } from 'node:tls';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { writeDevCerts } from '../../src/cli/dev-certs.js';
import { TlsConfigError, TlsCredentials, clusterMismatch } from '../../src/transport/tls-credentials.js';
import { waitFor } from '../integration/cluster-harness.js';

const cleanup: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftq-tls-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A logger that keeps its lines. */
function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger: Logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

async function listen(creds: TlsCredentials): Promise<{ server: Server; port: number }> {
  const server = createServer({ ...creds.material }, (s) => s.end('hi'));
  creds.serve(server, 'test');
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  const a = server.address();
  return { server, port: typeof a === 'object' && a !== null ? a.port : 0 };
}

/** The fingerprint of the certificate a new TLS connection to `port` sees. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.on('error', reject);
  });
}

describe('TlsCredentials', () => {
  it('refuses files naming another cluster, or a key of another certificate', () => {
    const a = writeDevCerts({ outDir: tmp(), nodes: ['n1', 'n2'], clusterId: 'c1' });
    const { logger } = memoryLogger();
    expect(() => new TlsCredentials({ certFile: a.nodes['n1']!.certFile, keyFile: a.nodes['n1']!.keyFile, caFile: a.caFile }, 'c2', logger)).toThrow(TlsConfigError);
    expect(() => new TlsCredentials({ certFile: a.nodes['n1']!.certFile, keyFile: a.nodes['n2']!.keyFile, caFile: a.caFile }, 'c1', logger)).toThrow(TlsConfigError);
    expect(() => new TlsCredentials({ certFile: join(tmp(), 'missing.pem'), keyFile: a.nodes['n1']!.keyFile, caFile: a.caFile }, 'c1', logger)).toThrow(/missing\.pem/);
  });

  it('checks the cluster URI of a certificate', () => {
    expect(clusterMismatch({ subjectaltname: 'DNS:localhost, URI:urn:raftq:cluster:c1' }, 'c1')).toBeNull();
    expect(clusterMismatch({ subjectaltname: 'DNS:localhost, URI:urn:raftq:cluster:c2' }, 'c1')).toMatch(/cluster c2, expected c1/);
    expect(clusterMismatch({ subjectaltname: 'DNS:localhost' }, 'c1')).toMatch(/names no raftq cluster/);
    expect(clusterMismatch(undefined, 'c1')).not.toBeNull();
  });

  it('reload() serves new connections the new certificate; a bad file keeps the old one', async () => {
    const dir = tmp();
    const first = writeDevCerts({ outDir: dir, nodes: ['n1'], clusterId: 'c1' });
    const live = { certFile: join(dir, 'live.pem'), keyFile: join(dir, 'live-key.pem'), caFile: first.caFile };
    copyFileSync(first.nodes['n1']!.certFile, live.certFile);
    copyFileSync(first.nodes['n1']!.keyFile, live.keyFile);
    const { logger, lines } = memoryLogger();
    const creds = new TlsCredentials(live, 'c1', logger);
    cleanup.push(() => creds.close());
    const { port } = await listen(creds);
    const ca = creds.material.ca.toString();
    const before = await servedFingerprint(port, ca);

    writeDevCerts({ outDir: dir, nodes: ['n1'], clusterId: 'c1' }); // same CA, new n1 key and certificate
    copyFileSync(first.nodes['n1']!.certFile, live.certFile);
    copyFileSync(first.nodes['n1']!.keyFile, live.keyFile);
    const expected = new X509Certificate(creds.material.cert).fingerprint256; // still the old one
    expect(expected).toBe(before);
    expect(creds.reload('test')).toBe(true);
    const after = await servedFingerprint(port, ca);
    expect(after).not.toBe(before);
    expect(after).toBe(new X509Certificate(creds.material.cert).fingerprint256);

    writeFileSync(live.keyFile, 'not a key');
    expect(creds.reload('test')).toBe(false);
    expect(lines.some((l) => l['msg'] === 'TLS reload failed; keeping the previous certificate')).toBe(true);
    expect(await servedFingerprint(port, ca)).toBe(after);
  });

  it('reloads by itself when the files change', async () => {
    const dir = tmp();
    const first = writeDevCerts({ outDir: dir, nodes: ['n1'], clusterId: 'c1' });
    const live = { certFile: join(dir, 'live.pem'), keyFile: join(dir, 'live-key.pem'), caFile: first.caFile };
    copyFileSync(first.nodes['n1']!.certFile, live.certFile);
    copyFileSync(first.nodes['n1']!.keyFile, live.keyFile);
    const { logger, lines } = memoryLogger();
    const creds = new TlsCredentials(live, 'c1', logger);
    cleanup.push(() => creds.close());
    creds.watch(50);
    const { port } = await listen(creds);
    const ca = creds.material.ca.toString();
    const before = await servedFingerprint(port, ca);
    writeDevCerts({ outDir: dir, nodes: ['n1'], clusterId: 'c1' });
    copyFileSync(first.nodes['n1']!.certFile, live.certFile);
    copyFileSync(first.nodes['n1']!.keyFile, live.keyFile);
    await waitFor('a reload after the file change', () => lines.find((l) => l['msg'] === 'TLS certificate reloaded' && l['reason'] === 'file change'), 10_000);
    expect(await servedFingerprint(port, ca)).not.toBe(before);
  });

  it('closes a plain-text connection to a TLS listener and logs it', async () => {
    const a = writeDevCerts({ outDir: tmp(), nodes: ['n1'], clusterId: 'c1' });
    const { logger, lines } = memoryLogger();
    const creds = new TlsCredentials({ certFile: a.nodes['n1']!.certFile, keyFile: a.nodes['n1']!.keyFile, caFile: a.caFile }, 'c1', logger);
    const { port } = await listen(creds);
    await new Promise<void>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
    await waitFor('the refusal log line', () => lines.find((l) => l['msg'] === 'TLS handshake failed; connection closed' && l['listener'] === 'test'), 5000);
    expect(await servedFingerprint(port, creds.material.ca.toString())).toBe(new X509Certificate(creds.material.cert).fingerprint256);
  });
});
