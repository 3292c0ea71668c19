/**
 * The layering the client library relies on: src/proto is the bottom layer (it imports nothing
 * from raft/ or other src/ directories), and src/client imports only src/client, src/proto and
 * src/errors.ts, so the client never pulls in the server, the transport or the Raft core.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every module specifier a TypeScript file imports or re-exports (static and dynamic). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  return found;
}

/**
 * The relative imports of the .ts files directly in `dir` (repository-relative) that resolve
 * outside `allowed` (repository-relative directories or files), as "file -> target".
 */
function importsOutside(dir: string, allowed: readonly string[]): string[] {
  const bad: string[] = [];
  for (const name of readdirSync(join(repoRoot, dir)).filter((n) => n.endsWith('.ts'))) {
    const file = join(repoRoot, dir, name);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = relative(repoRoot, resolve(dirname(file), spec));
      if (!allowed.some((a) => target === a.replace(/\.ts$/, '.js') || target.startsWith(`${a}/`))) bad.push(`${dir}/${name} -> ${target}`);
    }
  }
  return bad;
}

describe('layering', () => {
  it('finds the imports it checks', () => {
    expect(specifiers(`import a from './a.js';\nexport { b } from "x";\nimport type { C } from '../c.js';\nconst d = await import('./d.js');`)).toStrictEqual(['./a.js', 'x', '../c.js', './d.js']);
    expect(importsOutside('src/proto', []).length).toBeGreaterThan(0);
  });

  it('src/proto imports nothing outside src/proto', () => {
    expect(importsOutside('src/proto', ['src/proto'])).toStrictEqual([]);
  });

  it('src/client imports only src/client, src/proto and src/errors.ts', () => {
    expect(importsOutside('src/client', ['src/client', 'src/proto', 'src/errors.ts'])).toStrictEqual([]);
  });
});
