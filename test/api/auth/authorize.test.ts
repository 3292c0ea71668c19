/** authorize(): the pattern matching table, FORBIDDEN naming principal, action and resource. */
import { describe, expect, test } from 'vitest';
import { authorize, canSee } from '../../../src/api/auth/authorize.js';
import { RaftqError } from '../../../src/errors.js';
import { globMatches, patternMatches, validatePermissions, validateResourcePattern, type Action, type Principal } from '../../../src/queue/permissions.js';

const alice: Principal = {
  name: 'alice',
  permissions: [
    { resource: 'queue:orders-*', actions: ['send', 'receive'] },
    { resource: 'queue:audit', actions: ['consume'] },
    { resource: 'topic:*.events', actions: ['send'] },
  ],
};

describe('pattern matching', () => {
  const table: Array<[string, string, boolean]> = [
    ['queue:orders-*', 'queue:orders-eu', true],
    ['queue:orders-*', 'queue:orders-', true],
    ['queue:orders-*', 'queue:orders', false],
    ['queue:orders-*', 'queue:xorders-eu', false],
    ['queue:*', 'queue:anything', true],
    ['queue:*', 'topic:anything', false],
    ['queue:a*b*c', 'queue:aXbYc', true],
    ['queue:a*b*c', 'queue:abc', true],
    ['queue:a*b*c', 'queue:acb', false],
    ['queue:a*a', 'queue:a', false],
    ['queue:exact', 'queue:exact', true],
    ['queue:exact', 'queue:exactly', false],
    ['topic:*.events', 'topic:billing.events', true],
    ['group:g-*', 'group:g-1', true],
    ['group:g-*', 'queue:g-1', false],
    ['cluster', 'cluster', true],
    ['cluster', 'queue:cluster', false],
    ['queue:*', 'cluster', false],
  ];
  test.each(table)('%s matches %s: %s', (pattern, resource, expected) => {
    expect(patternMatches(pattern, resource)).toBe(expected);
  });
  test('globMatches edge cases', () => {
    expect(globMatches('*', '')).toBe(true);
    expect(globMatches('**', 'x')).toBe(true);
    expect(globMatches('ab*ba', 'aba')).toBe(false);
  });
});

describe('authorize', () => {
  const cases: Array<[Action, string, boolean]> = [
    ['send', 'queue:orders-eu', true],
    ['receive', 'queue:orders-eu', true],
    ['consume', 'queue:orders-eu', false],
    ['admin', 'queue:orders-eu', false],
    ['consume', 'queue:audit', true],
    ['send', 'queue:audit', false],
    ['send', 'topic:billing.events', true],
    ['admin', 'cluster', false],
  ];
  test.each(cases)('alice %s on %s: %s', (action, resource, allowed) => {
    if (allowed) expect(() => authorize(alice, action, resource)).not.toThrow();
    else {
      let err: unknown;
      try {
        authorize(alice, action, resource);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RaftqError);
      expect((err as RaftqError).code).toBe('FORBIDDEN');
      expect((err as RaftqError).status).toBe(403);
      expect((err as RaftqError).message).toBe(`principal alice may not ${action} on ${resource}`);
    }
  });
  test('auth off (no principal) and the superuser allow everything', () => {
    expect(() => authorize(undefined, 'admin', 'cluster')).not.toThrow();
    expect(() => authorize({ name: 'admin-token', permissions: [], superuser: true }, 'admin', 'cluster')).not.toThrow();
  });
  test('canSee: any permission on the resource', () => {
    expect(canSee(alice, 'queue:orders-1')).toBe(true);
    expect(canSee(alice, 'queue:audit')).toBe(true);
    expect(canSee(alice, 'queue:payroll')).toBe(false);
    expect(canSee(undefined, 'queue:payroll')).toBe(true);
  });
});

describe('validation', () => {
  test('patterns', () => {
    for (const ok of ['cluster', 'queue:*', 'queue:orders-*', 'topic:a.b', 'group:g@x']) expect(validateResourcePattern(ok)).toBeUndefined();
    for (const bad of ['', 'queue:', 'queues:x', 'cluster:x', '*', 'queue:a b', `queue:${'x'.repeat(300)}`]) expect(validateResourcePattern(bad)?.code).toBe('INVALID_ARGUMENT');
  });
  test('actions and limits', () => {
    expect(validatePermissions([{ resource: 'queue:x', actions: ['send'] }])).toBeUndefined();
    expect(validatePermissions([{ resource: 'queue:x', actions: [] }])?.code).toBe('INVALID_ARGUMENT');
    expect(validatePermissions([{ resource: 'queue:x', actions: ['fly' as Action] }])?.code).toBe('INVALID_ARGUMENT');
    expect(validatePermissions(Array.from({ length: 101 }, () => ({ resource: 'queue:x', actions: ['send' as const] })))?.code).toBe('INVALID_ARGUMENT');
  });
});
