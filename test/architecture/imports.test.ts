/**
 * The layering rules of docs/ARCHITECTURE.md: every relative import under raft/ and src/
 * follows the table in layers.ts, and no file imports itself through a cycle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkImports, formatReport } from './check-imports.js';
import { type Layer, layerOf, layers, scannedRoots } from './layers.js';
import { scanImports } from './scan-imports.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every .ts file under `dir` (repository-relative), in sorted order. */
function tsFiles(dir: string): string[] {
  const entries = readdirSync(join(repoRoot, dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return entries.flatMap((e) => {
    const path = posix.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.isFile() && e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every scanned source file, path to contents. */
function readSources(): Map<string, string> {
  const files = scannedRoots.flatMap(tsFiles);
  return new Map(files.map((f) => [f, readFileSync(join(repoRoot, f), 'utf8')]));
}

describe('layering of raft/ and src/', () => {
  it('scans the real tree (guards against a vacuous pass)', () => {
    const files = readSources();
    expect(files.has('raft/raft.ts')).toBe(true);
    expect(files.has('src/node/start-server.ts')).toBe(true);
    expect(files.size).toBeGreaterThan(100);
  });

  it('has no forbidden import, no file-level cycle and no file outside a layer', () => {
    expect(formatReport(checkImports(readSources(), layers))).toEqual([]);
  });

  it('the table is layered: each layer imports only layers listed below it, and names are unique', () => {
    const seen = new Set<string>();
    for (const layer of layers) {
      expect(seen.has(layer.name), `${layer.name} listed twice`).toBe(false);
      for (const dep of layer.mayImport) expect(seen.has(dep), `${layer.name} may import ${dep}, which is not below it`).toBe(true);
      seen.add(layer.name);
    }
  });
});

describe('docs/ARCHITECTURE.md', () => {
  /** The layer rows of the document's table: name, paths and allowed imports, in order. */
  function documentedLayers(): Layer[] {
    const doc = readFileSync(join(repoRoot, 'docs', 'ARCHITECTURE.md'), 'utf8');
    const ticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
    return doc
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => {
        const [name = '', paths = '', , mayImport = ''] = l.split('|').slice(1, -1);
        return { name: ticked(name)[0] ?? '', paths: ticked(paths), mayImport: ticked(mayImport) };
      });
  }

  it('states the same layers, paths and allowed imports as layers.ts', () => {
    expect(documentedLayers()).toEqual(layers.map((l) => ({ name: l.name, paths: [...l.paths], mayImport: [...l.mayImport] })));
  });
});

describe('scanImports', () => {
  it('finds static, type-only, side-effect, re-export and dynamic imports with their lines', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "import './side.js';",
      "export * from './star.js';",
      "export type { C } from './c.js';",
      'const m = await import(\'./dyn.js\');',
      "type T = typeof import('./typed.js');",
      'import {',
      '  d,',
      "} from './multi.js';",
      "export * as ns from './ns.js';",
    ].join('\n');
    expect(scanImports(src).map((r) => [r.specifier, r.line, r.kind])).toEqual([
      ['./a.js', 1, 'static'],
      ['../b.js', 2, 'static'],
      ['./side.js', 3, 'static'],
      ['./star.js', 4, 'static'],
      ['./c.js', 5, 'static'],
      ['./dyn.js', 6, 'dynamic'],
      ['./typed.js', 7, 'dynamic'],
      ['./multi.js', 10, 'static'],
      ['./ns.js', 11, 'static'],
    ]);
  });

  it('ignores imports inside comments, strings, templates and regular expressions', () => {
    const src = [
      "// import { x } from './line-comment.js';",
      "/* import('./block-comment.js') */",
      "const s = \"import { y } from './string.js'\";",
      "const t = `import('./template.js') ${ { k: 1 }.k } import('./after.js')`;",
      "const r = /import\\('.\\/regex.js'\\)/;",
      'const q = 1 / 2;',
      'const meta = import.meta.url;',
      "export const from = Array.from('abc');",
      "import { z } from './real.js';",
    ].join('\n');
    expect(scanImports(src)).toEqual([{ specifier: './real.js', line: 9, kind: 'static' }]);
  });
});

describe('checkImports on a fixture', () => {
  const table: Layer[] = [
    { name: 'low', paths: ['src/low/'], mayImport: [] },
    { name: 'high', paths: ['src/high/'], mayImport: ['low'] },
  ];

  it('reports an upward import with file:line, a cycle as a path, and a file outside every layer', () => {
    const files = new Map([
      ['src/low/a.ts', "import { b } from './b.js';\nexport const a = 1;"],
      ['src/low/b.ts', "export const b = 2;\nimport type { C } from './c.js';"],
      ['src/low/c.ts', "import { a } from './a.js';\nimport { h } from '../high/h.js';"],
      ['src/high/g.ts', "import { b } from '../low/b.js';"],
      ['src/high/h.ts', "export const h = 1;\nconst t = await import('../../test/x.js');"],
      ['src/stray/s.ts', 'export const s = 0;'],
    ]);
    const report = checkImports(files, table);
    expect(formatReport(report)).toEqual([
      'src/high/h.ts:2 -> test/x.js (high may not import a path outside every layer)',
      'src/low/c.ts:2 -> src/high/h.ts (low may not import high)',
      'cycle: src/low/a.ts -> src/low/b.ts -> src/low/c.ts -> src/low/a.ts',
      'src/stray/s.ts belongs to no layer',
    ]);
  });

  it('reports a self-import and passes a clean tree', () => {
    expect(checkImports(new Map([['src/low/a.ts', "import './a.js';"]]), table).cycles).toEqual([['src/low/a.ts', 'src/low/a.ts']]);
    const clean = new Map([
      ['src/low/a.ts', 'export const a = 1;'],
      ['src/high/h.ts', "import { a } from '../low/a.js';"],
    ]);
    expect(formatReport(checkImports(clean, table))).toEqual([]);
  });

  it('maps files to layers by the longest matching path', () => {
    const nested: Layer[] = [...table, { name: 'entry', paths: ['src/low/index.ts'], mayImport: ['low'] }];
    expect(layerOf('src/low/index.ts', nested)?.name).toBe('entry');
    expect(layerOf('src/low/x.ts', nested)?.name).toBe('low');
    expect(layerOf('src/lower/x.ts', nested)).toBeUndefined();
  });
});
