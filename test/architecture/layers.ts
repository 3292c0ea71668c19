/**
 * The layer table: the one place that says which part of raft/ and src/ may import which.
 * docs/ARCHITECTURE.md explains it; test/architecture/imports.test.ts enforces it. To allow a
 * new edge, change this table and the document in the same commit and say why.
 */

/** One layer of the code base. */
export interface Layer {
  /** Short name used in messages and in `mayImport`. */
  readonly name: string;
  /** Repository-relative paths: a directory ending in `/`, or one file. */
  readonly paths: readonly string[];
  /** The layers this one may import besides itself. Every name must be a layer listed earlier. */
  readonly mayImport: readonly string[];
}

/** The layers from bottom to top. A layer may import itself and the layers in its `mayImport`. */
export const layers: readonly Layer[] = [
  { name: 'raft', paths: ['raft/'], mayImport: [] },
  { name: 'proto', paths: ['src/proto/'], mayImport: [] },
  { name: 'errors', paths: ['src/errors.ts'], mayImport: [] },
  { name: 'storage', paths: ['src/storage/'], mayImport: ['raft'] },
  { name: 'transport', paths: ['src/transport/'], mayImport: ['raft', 'proto'] },
  { name: 'queue', paths: ['src/queue/'], mayImport: ['raft', 'proto', 'errors'] },
  { name: 'server', paths: ['src/server/'], mayImport: ['raft', 'errors', 'storage', 'transport', 'queue'] },
  { name: 'api', paths: ['src/api/'], mayImport: ['proto', 'errors', 'transport', 'queue', 'server'] },
  { name: 'node', paths: ['src/node/'], mayImport: ['raft', 'proto', 'errors', 'storage', 'transport', 'queue', 'server', 'api'] },
  { name: 'client', paths: ['src/client/'], mayImport: ['proto', 'errors'] },
  { name: 'entry', paths: ['src/index.ts'], mayImport: ['errors', 'client'] },
  { name: 'cli', paths: ['src/cli/'], mayImport: ['errors', 'server', 'node', 'client'] },
  { name: 'bench', paths: ['src/bench/'], mayImport: ['errors', 'server', 'cli'] },
];

/** The directories the checker scans: every .ts file under them must belong to a layer. */
export const scannedRoots: readonly string[] = ['raft', 'src'];

/** The layer holding `path` (repository-relative, `/`-separated), by longest matching path. */
export function layerOf(path: string, table: readonly Layer[] = layers): Layer | undefined {
  let best: { layer: Layer; length: number } | undefined;
  for (const layer of table) {
    for (const p of layer.paths) {
      const hit = p.endsWith('/') ? path.startsWith(p) : path === p;
      if (hit && (best === undefined || p.length > best.length)) best = { layer, length: p.length };
    }
  }
  return best?.layer;
}
