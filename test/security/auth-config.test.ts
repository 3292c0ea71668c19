/**
 * The authentication settings: --auth off|required (default off), --admin-token-file only with
 * required, --metrics-open; a missing or too short admin token file stops `raftq server` before
 * it opens its data directory, with INVALID_ARGUMENT (exit 2).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RaftqError } from '../../src/errors.js';
import { loadServerConfig } from '../../src/server/config.js';
import { cliMain } from '../integration/cluster-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'raftq-auth-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['--node-id', 'n1', '--peers', 'n1=127.0.0.1:7101:7001:8001'];

describe('auth settings', () => {
  it('default off; required from a flag or the environment; bad values refused', () => {
    const d = loadServerConfig(base, {});
    expect([d.auth, d.adminTokenFile, d.metricsOpen]).toEqual(['off', '', false]);
    const flags = loadServerConfig([...base, '--auth', 'required', '--admin-token-file', 'a.token', '--metrics-open'], {});
    expect([flags.auth, flags.adminTokenFile, flags.metricsOpen]).toEqual(['required', 'a.token', true]);
    expect(loadServerConfig(base, { RAFTQ_AUTH: 'required', RAFTQ_METRICS_OPEN: 'true' }).auth).toBe('required');
    expect(() => loadServerConfig([...base, '--auth', 'maybe'], {})).toThrow(/expected off or required/);
    expect(() => loadServerConfig([...base, '--admin-token-file', 'a.token'], {})).toThrow(RaftqError);
  });

  it('an unusable admin token file stops raftq server before it opens its data directory (exit 2)', () => {
    const dataDir = join(dir, 'n1');
    const run = (file: string): { status: number | null; stderr: string } => {
      const r = spawnSync(process.execPath, [cliMain, 'server', ...base, '--data-dir', dataDir, '--auth', 'required', '--admin-token-file', file], { encoding: 'utf8', timeout: 30_000 });
      return { status: r.status, stderr: r.stderr };
    };
    const missing = run(join(dir, 'nope.token'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/INVALID_ARGUMENT: admin token file .*nope\.token/);
    const short = join(dir, 'short.token');
    writeFileSync(short, 'abc\n');
    const tooShort = run(short);
    expect(tooShort.status).toBe(2);
    expect(tooShort.stderr).toMatch(/at least 16 characters/);
    expect(existsSync(dataDir)).toBe(false);
  });
});
