/**
 * The client library over TLS refuses a node whose certificate it cannot trust: signed by a CA
 * it was not given, or expired. (A trusted node is covered by tls-cluster.test.ts.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { writeDevCerts } from '../../src/cli/dev-certs.js';
import { connect } from '../../src/client/index.js';
import { RaftqError } from '../../src/errors.js';

const cleanup: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftq-client-tls-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A TLS listener with the given certificate that never speaks the raftq protocol. */
async function tlsListener(certFile: string, keyFile: string): Promise<number> {
  const server: Server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (s) => s.destroy());
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  const a = server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

async function connectError(port: number, ca: Buffer): Promise<RaftqError> {
  try {
    const c = await connect({ nodes: [`127.0.0.1:${port}`], tls: { ca }, retryTimeoutMs: 0, connectTimeoutMs: 5000 });
    await c.close();
  } catch (e) {
    if (e instanceof RaftqError) return e;
    throw e;
  }
  throw new Error('connected');
}

describe('client library TLS', () => {
  it('refuses a node certificate signed by another CA', async () => {
    const theirs = writeDevCerts({ outDir: tmp(), nodes: ['n1'], clusterId: 'c1' });
    const ours = writeDevCerts({ outDir: tmp(), nodes: ['n1'], clusterId: 'c1' });
    const port = await tlsListener(theirs.nodes['n1']!.certFile, theirs.nodes['n1']!.keyFile);
    const err = await connectError(port, readFileSync(ours.caFile));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/certificate/);
  });

  it('refuses an expired node certificate', async () => {
    const expired = writeDevCerts({ outDir: tmp(), nodes: ['n1'], clusterId: 'c1', notBefore: new Date(Date.now() - 10 * 86_400_000), days: 1 });
    const port = await tlsListener(expired.nodes['n1']!.certFile, expired.nodes['n1']!.keyFile);
    const err = await connectError(port, readFileSync(expired.caFile));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/expired/);
  });
});
