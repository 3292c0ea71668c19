/**
 * Authenticator: the admin token, user tokens against the replicated sha256, revoked and
 * expired tokens (an injected clock), malformed headers, auth off, and current() for sessions.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Authenticator, newUserToken, sha256 } from '../../../src/api/auth/authenticator.js';
import { RaftqError } from '../../../src/errors.js';
import { QueueStateMachine } from '../../../src/queue/state-machine.js';
import { MemoryStateStore } from '../../../src/queue/memory-state-store.js';
import type { Command } from '../../../src/queue/commands.js';

const admin = 'the-bootstrap-admin-token-123456';

function setup(): { sm: QueueStateMachine; apply: (cmd: Command) => void; clock: { now: number }; auth: Authenticator } {
  const sm = new QueueStateMachine();
  const store = new MemoryStateStore();
  let index = 0;
  const clock = { now: 1_700_000_000_000 };
  const apply = (cmd: Command): void => {
    const r = sm.apply(cmd, { index: ++index, nowMs: clock.now }, store);
    if (!r.ok) throw new Error(`${cmd.type}: ${r.code} ${r.message}`);
  };
  const auth = new Authenticator({ mode: 'required', adminTokenHash: sha256(admin) }, () => sm.principals, () => clock.now);
  return { sm, apply, clock, auth };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (e) {
    return e instanceof RaftqError ? e.code : 'THROWN';
  }
}

describe('Authenticator', () => {
  it('auth off: no principal, whatever the token', () => {
    const auth = new Authenticator({ mode: 'off' }, () => new QueueStateMachine().principals);
    expect(auth.authenticate(undefined)).toBeUndefined();
    expect(auth.authenticateHeader('Bearer nonsense')).toBeUndefined();
    expect(auth.metricsNeedToken).toBe(false);
  });

  it('the admin token is a superuser; missing, malformed and unknown tokens are UNAUTHENTICATED', () => {
    const { auth } = setup();
    expect(auth.authenticateHeader(`Bearer ${admin}`)).toEqual({ name: 'admin-token', permissions: [], superuser: true });
    expect(auth.authenticateHeader(`bearer   ${admin}`)?.superuser).toBe(true);
    for (const h of [undefined, '', 'Basic abc', 'Bearer', `Bearer ${admin}x`, 'Bearer rq_abcd_short', 'Bearer rq_abcd1234_AAAAAAAAAAAAAAAAAAAAAAAA']) {
      expect(codeOf(() => auth.authenticateHeader(h)), String(h)).toBe('UNAUTHENTICATED');
    }
    expect(auth.metricsNeedToken).toBe(true);
  });

  it('a user token authenticates as its user; a wrong secret with a right id does not', () => {
    const { apply, auth } = setup();
    apply({ type: 'putUser', name: 'alice', permissions: [{ resource: 'queue:*', actions: ['send'] }] });
    const t = newUserToken();
    expect(createHash('sha256').update(t.token.slice(t.token.indexOf('_', 3) + 1)).digest('hex')).toBe(t.hash);
    apply({ type: 'createToken', user: 'alice', tokenId: t.id, hash: t.hash, expiresAtMs: 0 });
    expect(auth.authenticate(t.token)).toEqual({ name: 'alice', permissions: [{ resource: 'queue:*', actions: ['send'] }], tokenId: t.id });
    expect(codeOf(() => auth.authenticate(`rq_${t.id}_${'B'.repeat(32)}`))).toBe('UNAUTHENTICATED');
  });

  it('revoked and expired tokens, and deleted users, are UNAUTHENTICATED; current() follows permission changes', () => {
    const { apply, auth, clock } = setup();
    apply({ type: 'putUser', name: 'bob', permissions: [] });
    const a = newUserToken();
    const b = newUserToken();
    apply({ type: 'createToken', user: 'bob', tokenId: a.id, hash: a.hash, expiresAtMs: clock.now + 1000 });
    apply({ type: 'createToken', user: 'bob', tokenId: b.id, hash: b.hash, expiresAtMs: 0 });
    const session = auth.authenticate(b.token)!;
    apply({ type: 'putUser', name: 'bob', permissions: [{ resource: 'cluster', actions: ['admin'] }] });
    expect(auth.current(session).permissions).toEqual([{ resource: 'cluster', actions: ['admin'] }]);
    expect(auth.authenticate(a.token)?.name).toBe('bob');
    clock.now += 1000;
    expect(() => auth.authenticate(a.token)).toThrow(/expired/);
    apply({ type: 'revokeToken', user: 'bob', tokenId: b.id });
    expect(() => auth.authenticate(b.token)).toThrow(/revoked/);
    expect(codeOf(() => auth.current(session))).toBe('UNAUTHENTICATED');
    apply({ type: 'deleteUser', name: 'bob' });
    expect(codeOf(() => auth.authenticate(b.token))).toBe('UNAUTHENTICATED');
  });
});
