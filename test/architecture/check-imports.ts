/**
 * Checks a set of source files against a layer table: every relative import must stay inside
 * its layer or go to a layer it may import, and the file-level import graph must have no
 * cycle. Pure: it takes file contents in a map, so a test can feed it a small fixture.
 */
import { posix } from 'node:path';
import { type Layer, layerOf } from './layers.js';
import { scanImports } from './scan-imports.js';

/** A relative import from one file to another (or to a path that is no source file). */
export interface ImportEdge {
  /** Importing file, repository-relative. */
  readonly from: string;
  readonly line: number;
  /** The imported file: the `.ts` source when it exists, else the path as resolved. */
  readonly to: string;
}

/** An import the layer table forbids. */
export interface ForbiddenEdge extends ImportEdge {
  readonly fromLayer: string;
  /** The target's layer, or undefined when the target lies outside every layer. */
  readonly toLayer: string | undefined;
}

/** What the checker found; every list is sorted, so the report is deterministic. */
export interface ImportReport {
  readonly forbidden: readonly ForbiddenEdge[];
  /** One cycle per strongly connected set of files, as a path that ends where it starts. */
  readonly cycles: readonly (readonly string[])[];
  /** Scanned files that belong to no layer. */
  readonly unlayered: readonly string[];
}

/** Orders strings by code unit, the same in every locale. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Maps a relative specifier to the file it names: `./x.js` is the source `./x.ts`. */
function resolveSpecifier(from: string, specifier: string, files: ReadonlyMap<string, string>): string {
  const target = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, `${target}/index.ts`];
  return candidates.find((c) => files.has(c)) ?? target;
}

/** Every relative import in `files`, sorted by file, then line, then target. */
export function collectEdges(files: ReadonlyMap<string, string>): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const [file, src] of files) {
    for (const ref of scanImports(src)) {
      if (!ref.specifier.startsWith('./') && !ref.specifier.startsWith('../')) continue;
      edges.push({ from: file, line: ref.line, to: resolveSpecifier(file, ref.specifier, files) });
    }
  }
  return edges.sort((a, b) => byCodeUnit(a.from, b.from) || a.line - b.line || byCodeUnit(a.to, b.to));
}

/** The edges whose target layer is neither the source's own nor one it may import. */
export function forbiddenEdges(edges: readonly ImportEdge[], table: readonly Layer[]): ForbiddenEdge[] {
  const out: ForbiddenEdge[] = [];
  for (const e of edges) {
    const from = layerOf(e.from, table);
    if (from === undefined) continue; // reported as unlayered
    const to = layerOf(e.to, table);
    if (to !== undefined && (to === from || from.mayImport.includes(to.name))) continue;
    out.push({ ...e, fromLayer: from.name, toLayer: to?.name });
  }
  return out;
}

/** Strongly connected sets of more than one file, or of one file importing itself (Tarjan). */
function cyclicComponents(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) ?? 0);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w === undefined) break;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component.sort(byCodeUnit));
  };
  for (const v of [...graph.keys()].sort(byCodeUnit)) if (!index.has(v)) visit(v);
  return components;
}

/** A shortest cycle through `start` that stays inside `members` (breadth-first). */
function shortestCycle(start: string, members: ReadonlySet<string>, graph: ReadonlyMap<string, readonly string[]>): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head] ?? start;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = parent.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  throw new Error(`no cycle through ${start} in its strongly connected set`);
}

/** One cycle per cyclic strongly connected set of files, each through its first file. */
export function importCycles(edges: readonly ImportEdge[], files: ReadonlyMap<string, string>): string[][] {
  const graph = new Map<string, string[]>([...files.keys()].map((f) => [f, []]));
  for (const e of edges) {
    const targets = graph.get(e.from);
    if (files.has(e.to) && targets !== undefined && !targets.includes(e.to)) targets.push(e.to);
  }
  for (const targets of graph.values()) targets.sort(byCodeUnit);
  return cyclicComponents(graph)
    .map((c) => shortestCycle(c[0] ?? '', new Set(c), graph))
    .sort((a, b) => byCodeUnit(a[0] ?? '', b[0] ?? ''));
}

/** Checks `files` (repository-relative path to contents) against the layer table. */
export function checkImports(files: ReadonlyMap<string, string>, table: readonly Layer[]): ImportReport {
  const edges = collectEdges(files);
  return {
    forbidden: forbiddenEdges(edges, table),
    cycles: importCycles(edges, files),
    unlayered: [...files.keys()].filter((f) => layerOf(f, table) === undefined).sort(byCodeUnit),
  };
}

/** One line per finding, e.g. `src/server/a.ts:3 -> src/api/b.ts (server may not import api)`. */
export function formatReport(report: ImportReport): string[] {
  return [
    ...report.forbidden.map((e) => `${e.from}:${e.line} -> ${e.to} (${e.fromLayer} may not import ${e.toLayer ?? 'a path outside every layer'})`),
    ...report.cycles.map((c) => `cycle: ${c.join(' -> ')}`),
    ...report.unlayered.map((f) => `${f} belongs to no layer`),
  ];
}
