/**
 * Finds the module specifiers a TypeScript source imports, without the compiler: a small lexer
 * that skips comments, strings, template literals and regular expressions, then matches
 * - `import ... from 'x'`, `import type ... from 'x'`, `import 'x'`;
 * - `export * from 'x'`, `export * as ns from 'x'`, `export { a } from 'x'`, `export type { a } from 'x'`;
 * - `import('x')`, in code and in type positions (`typeof import('x')`, `import('x').T`).
 * Only string-literal specifiers are reported; `import(expr)` names no module and is skipped.
 */

/** One import of a module, as written. */
export interface ImportRef {
  /** The specifier as written, e.g. `'../server/config.js'` without the quotes. */
  readonly specifier: string;
  /** 1-based line of the specifier. */
  readonly line: number;
  /** `static` for import/export declarations, `dynamic` for `import('...')`. */
  readonly kind: 'static' | 'dynamic';
}

interface Token {
  readonly kind: 'word' | 'string' | 'punct';
  readonly text: string;
  readonly line: number;
}

/** Keywords after which a `/` starts a regular expression rather than a division. */
const regexAfterWords = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await']);

function isWordChar(c: string): boolean {
  return /[A-Za-z0-9_$]/.test(c);
}

/** Splits source into words, string literals and punctuation; comments and templates vanish. */
function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  /** One entry per open `${`: the depth of `{` opened inside it and not yet closed. */
  const templateBraces: number[] = [];
  let line = 1;
  let i = 0;

  const countLines = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (src[k] === '\n') line++;
  };
  /** Skips a template literal's text from `i` up to its closing backtick or the next `${`. */
  const skipTemplateText = (): void => {
    const start = i;
    while (i < src.length) {
      const c = src[i];
      if (c === '\\') i += 2;
      else if (c === '`') { i++; break; }
      else if (c === '$' && src[i + 1] === '{') { i += 2; templateBraces.push(0); break; }
      else i++;
    }
    countLines(start, Math.min(i, src.length));
  };
  const regexMayStart = (): boolean => {
    const prev = tokens[tokens.length - 1];
    if (prev === undefined) return true;
    if (prev.kind === 'word') return regexAfterWords.has(prev.text);
    if (prev.kind === 'string') return false;
    return prev.text !== ')' && prev.text !== ']' && prev.text !== '}';
  };

  while (i < src.length) {
    const c = src[i] ?? '';
    const next = src[i + 1];
    if (c === '\n') { line++; i++; continue; }
    if (/\s/.test(c)) { i++; continue; }
    if (c === '/' && next === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      countLines(i, stop);
      i = stop;
      continue;
    }
    if (c === "'" || c === '"') {
      const startLine = line;
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      tokens.push({ kind: 'string', text: src.slice(i + 1, j), line: startLine });
      countLines(i, j);
      i = src[j] === c ? j + 1 : j;
      continue;
    }
    if (c === '`') {
      i++;
      skipTemplateText();
      tokens.push({ kind: 'string', text: '', line });
      continue;
    }
    if (c === '/' && regexMayStart()) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && src[j] !== '\n') {
        const r = src[j];
        if (r === '\\') { j += 2; continue; }
        if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        j++;
      }
      i = j + 1;
      while (i < src.length && isWordChar(src[i] ?? '')) i++;
      tokens.push({ kind: 'string', text: '', line });
      continue;
    }
    if (isWordChar(c)) {
      let j = i + 1;
      while (j < src.length && isWordChar(src[j] ?? '')) j++;
      tokens.push({ kind: 'word', text: src.slice(i, j), line });
      i = j;
      continue;
    }
    const depth = templateBraces[templateBraces.length - 1];
    if (depth !== undefined && c === '{') templateBraces[templateBraces.length - 1] = depth + 1;
    if (depth !== undefined && c === '}') {
      if (depth === 0) {
        templateBraces.pop();
        i++;
        skipTemplateText();
        continue;
      }
      templateBraces[templateBraces.length - 1] = depth - 1;
    }
    tokens.push({ kind: 'punct', text: c, line });
    i++;
  }
  return tokens;
}

/** Index just past the `}` that closes the `{` at `open`, or -1. */
function skipBraces(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k];
    if (t?.kind !== 'punct') continue;
    if (t.text === '{') depth++;
    if (t.text === '}' && --depth === 0) return k + 1;
  }
  return -1;
}

/** The string token after a `from` at `k`, if that is what stands there. */
function fromClause(tokens: readonly Token[], k: number): Token | undefined {
  const from = tokens[k];
  const spec = tokens[k + 1];
  return from?.kind === 'word' && from.text === 'from' && spec?.kind === 'string' ? spec : undefined;
}

function isWord(t: Token | undefined, text: string): boolean {
  return t?.kind === 'word' && t.text === text;
}

function isPunct(t: Token | undefined, text: string): boolean {
  return t?.kind === 'punct' && t.text === text;
}

/** The specifier of the import starting at `import` token `k`, if any. */
function importAt(tokens: readonly Token[], k: number): ImportRef | undefined {
  const next = tokens[k + 1];
  if (isPunct(next, '(')) {
    const spec = tokens[k + 2];
    return spec?.kind === 'string' ? { specifier: spec.text, line: spec.line, kind: 'dynamic' } : undefined;
  }
  if (next?.kind === 'string') return { specifier: next.text, line: next.line, kind: 'static' };
  if (isPunct(next, '.')) return undefined; // import.meta
  for (let j = k + 1; j < tokens.length; j++) {
    const t = tokens[j];
    if (isPunct(t, ';') || isWord(t, 'import') || isWord(t, 'export')) return undefined;
    const spec = fromClause(tokens, j);
    if (spec !== undefined) return { specifier: spec.text, line: spec.line, kind: 'static' };
  }
  return undefined;
}

/** The specifier of a re-export starting at `export` token `k`, if it is one. */
function reExportAt(tokens: readonly Token[], k: number): ImportRef | undefined {
  let j = k + 1;
  if (isWord(tokens[j], 'type')) j++;
  if (isPunct(tokens[j], '{')) {
    j = skipBraces(tokens, j);
    if (j < 0) return undefined;
  } else if (isPunct(tokens[j], '*')) {
    j++;
    if (isWord(tokens[j], 'as')) j += 2;
  } else {
    return undefined;
  }
  const spec = fromClause(tokens, j);
  return spec === undefined ? undefined : { specifier: spec.text, line: spec.line, kind: 'static' };
}

/** Every import and re-export in `src` with a string-literal specifier, in source order. */
export function scanImports(src: string): ImportRef[] {
  const tokens = tokenize(src);
  const refs: ImportRef[] = [];
  tokens.forEach((t, k) => {
    if (t.kind !== 'word' || isPunct(tokens[k - 1], '.')) return;
    const ref = t.text === 'import' ? importAt(tokens, k) : t.text === 'export' ? reExportAt(tokens, k) : undefined;
    if (ref !== undefined) refs.push(ref);
  });
  return refs;
}
