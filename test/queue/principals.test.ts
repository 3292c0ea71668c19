/**
 * The replicated principal state: putUser / deleteUser / createToken / revokeToken through the
 * state machine, their validation and limits, the log codec, restart (load of the keyspace)
 * and the binary forward-reply codec of their results.
 */
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../src/queue/codec.js';
import type { Command, CommandResult } from '../../src/queue/commands.js';
import { principalLimits } from '../../src/queue/permissions.js';
import { tokenLive } from '../../src/queue/principals.js';
import { QueueStateMachine } from '../../src/queue/state-machine.js';
import { validateCommand } from '../../src/queue/validate.js';
import { queueReplyBinaryCodec } from '../../src/server/queue-reply-binary.js';
import type { QueueReply } from '../../src/server/queue-reply-types.js';
import { Harness, t0Ms } from './harness.js';

const hashA = 'a'.repeat(64);
const hashB = 'b'.repeat(64);

function code(r: CommandResult): string {
  return r.ok ? 'OK' : r.code;
}

describe('users and tokens', () => {
  it('putUser creates then replaces permissions, keeping tokens', () => {
    const h = new Harness();
    expect(h.ok({ type: 'putUser', name: 'alice', permissions: [{ resource: 'queue:orders-*', actions: ['send'] }] })).toEqual({ ok: true, type: 'putUser', created: true });
    h.ok({ type: 'createToken', user: 'alice', tokenId: 'abcd1234', hash: hashA, expiresAtMs: 0 });
    expect(h.ok({ type: 'putUser', name: 'alice', permissions: [{ resource: 'queue:*', actions: ['receive', 'send'] }] })).toEqual({ ok: true, type: 'putUser', created: false });
    const alice = h.sm.principals.getUser('alice')!;
    expect(alice.permissions).toEqual([{ resource: 'queue:*', actions: ['receive', 'send'] }]);
    expect(alice.tokens).toEqual([{ id: 'abcd1234', hash: hashA, createdAtMs: t0Ms, expiresAtMs: 0, revoked: false }]);
    expect(h.sm.principals.findToken('abcd1234')?.user.name).toBe('alice');
  });

  it('revokeToken marks the token revoked (idempotent); unknown users and tokens are NOT_FOUND', () => {
    const h = new Harness();
    h.ok({ type: 'putUser', name: 'bob', permissions: [] });
    h.ok({ type: 'createToken', user: 'bob', tokenId: 'tok1', hash: hashA, expiresAtMs: 0 });
    h.ok({ type: 'revokeToken', user: 'bob', tokenId: 'tok1' });
    h.ok({ type: 'revokeToken', user: 'bob', tokenId: 'tok1' });
    const found = h.sm.principals.findToken('tok1')!;
    expect(found.token.revoked).toBe(true);
    expect(tokenLive(found.token, h.nowMs)).toBe(false);
    expect(code(h.apply({ type: 'revokeToken', user: 'bob', tokenId: 'nope' }))).toBe('NOT_FOUND');
    expect(code(h.apply({ type: 'revokeToken', user: 'nobody', tokenId: 'tok1' }))).toBe('NOT_FOUND');
    expect(code(h.apply({ type: 'createToken', user: 'nobody', tokenId: 'tok2', hash: hashA, expiresAtMs: 0 }))).toBe('NOT_FOUND');
    expect(code(h.apply({ type: 'deleteUser', name: 'nobody' }))).toBe('NOT_FOUND');
  });

  it('token ids are unique across users; expiry is on the state machine clock', () => {
    const h = new Harness();
    h.ok({ type: 'putUser', name: 'a', permissions: [] });
    h.ok({ type: 'putUser', name: 'b', permissions: [] });
    h.ok({ type: 'createToken', user: 'a', tokenId: 'same', hash: hashA, expiresAtMs: t0Ms + 1000 });
    expect(code(h.apply({ type: 'createToken', user: 'b', tokenId: 'same', hash: hashB, expiresAtMs: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(h.apply({ type: 'createToken', user: 'b', tokenId: 'past', hash: hashB, expiresAtMs: t0Ms }))).toBe('INVALID_ARGUMENT');
    const t = h.sm.principals.findToken('same')!.token;
    expect(tokenLive(t, t0Ms + 999)).toBe(true);
    expect(tokenLive(t, t0Ms + 1000)).toBe(false);
  });

  it('deleteUser removes the user and its tokens', () => {
    const h = new Harness();
    h.ok({ type: 'putUser', name: 'carol', permissions: [] });
    h.ok({ type: 'createToken', user: 'carol', tokenId: 'ctok', hash: hashA, expiresAtMs: 0 });
    h.ok({ type: 'deleteUser', name: 'carol' });
    expect(h.sm.principals.getUser('carol')).toBeUndefined();
    expect(h.sm.principals.findToken('ctok')).toBeUndefined();
    // The id is free again.
    h.ok({ type: 'putUser', name: 'carol', permissions: [] });
    h.ok({ type: 'createToken', user: 'carol', tokenId: 'ctok', hash: hashB, expiresAtMs: 0 });
  });

  it('at most 100 live tokens a user; dead tokens make room', () => {
    const h = new Harness();
    h.ok({ type: 'putUser', name: 'u', permissions: [] });
    for (let i = 0; i < principalLimits.tokensPerUser; i++) h.ok({ type: 'createToken', user: 'u', tokenId: `t${String(i).padStart(3, '0')}`, hash: hashA, expiresAtMs: 0 });
    expect(code(h.apply({ type: 'createToken', user: 'u', tokenId: 'tmore', hash: hashA, expiresAtMs: 0 }))).toBe('INVALID_ARGUMENT');
    h.ok({ type: 'revokeToken', user: 'u', tokenId: 't000' });
    h.ok({ type: 'createToken', user: 'u', tokenId: 'tmore', hash: hashA, expiresAtMs: 0 });
    const tokens = h.sm.principals.getUser('u')!.tokens;
    expect(tokens.length).toBe(100);
    expect(tokens.some((t) => t.id === 't000')).toBe(false);
    expect(h.sm.principals.findToken('t000')).toBeUndefined();
  });

  it('at most 10,000 users', () => {
    const h = new Harness();
    for (let i = 0; i < principalLimits.users; i++) h.ok({ type: 'putUser', name: `u${i}`, permissions: [] });
    expect(code(h.apply({ type: 'putUser', name: 'onemore', permissions: [] }))).toBe('INVALID_ARGUMENT');
    // Replacing an existing user is not a new one.
    h.ok({ type: 'putUser', name: 'u1', permissions: [{ resource: 'cluster', actions: ['admin'] }] });
  });

  it('validation: names, patterns, actions, ids, hashes, permission count', () => {
    const bad: Command[] = [
      { type: 'putUser', name: '', permissions: [] },
      { type: 'putUser', name: 'a b', permissions: [] },
      { type: 'putUser', name: 'x'.repeat(65), permissions: [] },
      { type: 'putUser', name: 'a', permissions: [{ resource: 'queues:x', actions: ['send'] }] },
      { type: 'putUser', name: 'a', permissions: Array.from({ length: 101 }, () => ({ resource: 'queue:x', actions: ['send' as const] })) },
      { type: 'createToken', user: 'a', tokenId: 'AB', hash: hashA, expiresAtMs: 0 },
      { type: 'createToken', user: 'a', tokenId: 'abcd', hash: 'xyz', expiresAtMs: 0 },
      { type: 'createToken', user: 'a', tokenId: 'abcd', hash: hashA, expiresAtMs: -1 },
      { type: 'revokeToken', user: 'a', tokenId: '' },
      { type: 'deleteUser', name: 'no/slash' },
    ];
    for (const cmd of bad) expect(validateCommand(cmd)?.code, JSON.stringify(cmd).slice(0, 80)).toBe('INVALID_ARGUMENT');
    expect(validateCommand({ type: 'putUser', name: 'svc.orders@eu-1', permissions: [{ resource: 'queue:orders-*', actions: ['send', 'receive'] }] })).toBeUndefined();
  });

  it('principal commands round-trip through the log codec', () => {
    const cmds: Command[] = [
      { type: 'putUser', name: 'alice', permissions: [{ resource: 'queue:orders-*', actions: ['send', 'receive'] }, { resource: 'cluster', actions: ['admin'] }] },
      { type: 'deleteUser', name: 'alice' },
      { type: 'createToken', user: 'alice', tokenId: 'abcd1234', hash: hashA, expiresAtMs: 1_800_000_000_000 },
      { type: 'revokeToken', user: 'alice', tokenId: 'abcd1234' },
    ];
    for (const cmd of cmds) expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
  });

  it('a restart (load of the keyspace) restores users, permissions and tokens', async () => {
    const h = new Harness();
    h.ok({ type: 'putUser', name: 'alice', permissions: [{ resource: 'queue:*', actions: ['send'] }] });
    h.ok({ type: 'putUser', name: 'bob', permissions: [] });
    h.ok({ type: 'createToken', user: 'alice', tokenId: 'tok1', hash: hashA, expiresAtMs: 0 });
    h.ok({ type: 'createToken', user: 'alice', tokenId: 'tok2', hash: hashB, expiresAtMs: t0Ms + 5000 });
    h.ok({ type: 'revokeToken', user: 'alice', tokenId: 'tok1' });
    h.ok({ type: 'deleteUser', name: 'bob' });
    const loaded = await QueueStateMachine.load(h.store);
    expect(loaded.principals.listUsers()).toEqual(h.sm.principals.listUsers());
    expect(loaded.principals.findToken('tok2')?.token.hash).toBe(hashB);
    expect(loaded.principals.getUser('bob')).toBeUndefined();
  });

  it('principal results survive the binary forward-reply codec', () => {
    const replies: QueueReply[] = [
      { ok: true, type: 'putUser', created: true },
      { ok: true, type: 'putUser', created: false },
      { ok: true, type: 'deleteUser' },
      { ok: true, type: 'createToken' },
      { ok: true, type: 'revokeToken' },
    ];
    for (const r of replies) expect(queueReplyBinaryCodec.decode(queueReplyBinaryCodec.encode(r))).toEqual(r);
  });
});
