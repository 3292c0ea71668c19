/**
 * The TLS settings: all three files or none, and unusable files stop `raftq server` before it
 * opens its storage, with INVALID_ARGUMENT naming the file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeDevCerts } from '../../src/cli/dev-certs.js';
import { RaftqError } from '../../src/errors.js';
import { loadServerConfig } from '../../src/server/config.js';
import { cliMain } from '../integration/cluster-harness.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftq-tls-config-'));
  dirs.push(d);
  return d;
}

const base = ['--node-id', 'n1', '--peers', 'n1=127.0.0.1:7101:7001:8001'];

describe('TLS settings', () => {
  it('take all three files or none', () => {
    expect(loadServerConfig(base, {}).tlsCert).toBe('');
    const all = loadServerConfig([...base, '--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-ca', 'ca.pem'], {});
    expect([all.tlsCert, all.tlsKey, all.tlsCa]).toEqual(['c.pem', 'k.pem', 'ca.pem']);
    const fromEnv = loadServerConfig(base, { RAFTQ_TLS_CERT: 'c.pem', RAFTQ_TLS_KEY: 'k.pem', RAFTQ_TLS_CA: 'ca.pem' });
    expect(fromEnv.tlsCa).toBe('ca.pem');
    expect(() => loadServerConfig([...base, '--tls-cert', 'c.pem'], {})).toThrow(RaftqError);
    expect(() => loadServerConfig([...base, '--tls-cert', 'c.pem', '--tls-key', 'k.pem'], {})).toThrow(/all of --tls-cert, --tls-key and --tls-ca/);
  });

  it('unusable files stop raftq server before it opens its data directory (exit 2)', () => {
    const dir = tmp();
    const certs = writeDevCerts({ outDir: join(dir, 'tls'), nodes: ['n1'], clusterId: 'raftq' });
    const dataDir = join(dir, 'n1');
    const run = (extra: string[]): { status: number | null; stderr: string } => {
      const r = spawnSync(process.execPath, [cliMain, 'server', ...base, '--data-dir', dataDir, ...extra], { encoding: 'utf8', timeout: 30_000 });
      return { status: r.status, stderr: r.stderr };
    };
    const missing = run(['--tls-cert', join(dir, 'nope.pem'), '--tls-key', certs.nodes['n1']!.keyFile, '--tls-ca', certs.caFile]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/INVALID_ARGUMENT: TLS settings: certificate .*nope\.pem/);
    const otherCluster = run(['--cluster-id', 'elsewhere', '--tls-cert', certs.nodes['n1']!.certFile, '--tls-key', certs.nodes['n1']!.keyFile, '--tls-ca', certs.caFile]);
    expect(otherCluster.status).toBe(2);
    expect(otherCluster.stderr).toMatch(/certificate of cluster raftq, expected elsewhere/);
    expect(existsSync(dataDir)).toBe(false);
  });
});
