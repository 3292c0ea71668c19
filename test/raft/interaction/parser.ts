/**
 * The scenario file format (the "datadriven" format of etcd-io/raft's testdata): blocks of
 *
 *   # comment lines
 *   command arg key=value key=(v1,v2)
 *   optional input lines
 *   ----
 *   expected output lines, up to a blank line
 *
 * Parsing keeps the comments, so a file can be written back with new expected output.
 */

/** One argument of a command: `key` alone, `key=value` or `key=(v1,v2,...)`. */
export interface CommandArg {
  readonly key: string;
  readonly vals: readonly string[];
}

/** One command block of a scenario file. */
export interface Block {
  /** Line number (1-based) of the command, for failure messages. */
  readonly line: number;
  /** Comment and blank lines before the command, verbatim. */
  readonly preamble: readonly string[];
  readonly cmd: string;
  readonly args: readonly CommandArg[];
  /** The command line as written. */
  readonly cmdLine: string;
  /** Lines between the command and `----`. */
  readonly input: readonly string[];
  /** Expected output, without the trailing newline. */
  readonly expected: string;
}

/** Parses a scenario file into blocks; throws on a malformed file. */
export function parseScenario(text: string): { blocks: Block[]; trailer: string[] } {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const blocks: Block[] = [];
  let i = 0;
  let preamble: string[] = [];
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === '' || l.startsWith('#')) {
      preamble.push(l);
      i++;
      continue;
    }
    const line = i + 1;
    const cmdLine = l;
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== '----') input.push(lines[i++]!);
    if (i >= lines.length) throw new Error(`line ${line}: command "${cmdLine}" has no ---- separator`);
    i++; // ----
    const out: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!);
    const { cmd, args } = parseCommandLine(cmdLine);
    blocks.push({ line, preamble, cmd, args, cmdLine, input, expected: out.join('\n') });
    preamble = [];
  }
  return { blocks, trailer: preamble };
}

/** Splits `cmd a b=c d=(e,f)` into the command and its arguments. */
export function parseCommandLine(s: string): { cmd: string; args: CommandArg[] } {
  const tokens = s.trim().match(/[^\s=]+(=\([^)]*\)|=[^\s]+)?/g) ?? [];
  const [cmd, ...rest] = tokens;
  if (cmd === undefined) throw new Error(`empty command line`);
  const args = rest.map((t): CommandArg => {
    const eq = t.indexOf('=');
    if (eq < 0) return { key: t, vals: [] };
    const key = t.slice(0, eq);
    let v = t.slice(eq + 1);
    if (v.startsWith('(') && v.endsWith(')')) v = v.slice(1, -1);
    return { key, vals: v === '' ? [] : v.split(',').map((x) => x.trim()) };
  });
  return { cmd, args };
}

/** Writes blocks back out, with `actual[i]` as the expected output of block i. */
export function serializeScenario(blocks: readonly Block[], trailer: readonly string[], actual: readonly string[]): string {
  const out: string[] = [];
  blocks.forEach((b, i) => {
    out.push(...b.preamble, b.cmdLine, ...b.input, '----', actual[i] ?? b.expected);
  });
  out.push(...trailer);
  return out.join('\n') + '\n';
}
