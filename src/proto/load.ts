import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * Loads a .proto schema from src/proto, the single source of truth for wire formats. The same
 * code runs from TypeScript sources (tests) and from compiled dist/, so the schema is located
 * from the package root rather than relative to this file.
 */
export function loadProto(fileName: string): protobuf.Root {
  const path = join(packageRoot(), 'src', 'proto', fileName);
  const parsed = protobuf.parse(readFileSync(path, 'utf8'), { keepCase: true });
  return parsed.root;
}

let cachedRoot: string | undefined;

/** The directory holding raftq's package.json. */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'proto'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('raftq package root not found from ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
