import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseScenario, serializeScenario } from './parser.js';

/**
 * Translates one of etcd-io/raft's interaction scenarios into test/raft/testdata/: keeps the
 * commands, comments and recorded expected output, and drops etcd's log lines (raftq's
 * structured logger says different things; states are compared through Readies, raft-state
 * and status instead). Run once per scenario; differences raftq has on purpose are then
 * edited into the translated file by hand and listed in test/raft/interaction.test.ts.
 *
 *   node dist/test/raft/interaction/translate.js <etcd git dir> <commit> <name> <out dir>
 */

const logLine = /^\s*(DEBUG|INFO|WARN|ERROR|FATAL|PANIC) /;

/** The translated text of an etcd scenario. */
export function translate(etcdText: string, source: string): string {
  const { blocks, trailer } = parseScenario(etcdText);
  const outputs = blocks.map((b) => {
    const kept = b.expected.split('\n').filter((l) => !logLine.test(l));
    const s = kept.join('\n').trim() === '' ? 'ok' : kept.join('\n');
    return s;
  });
  const header = [`# Translated from ${source}: etcd's commands and recorded output, log lines dropped.`, ''];
  const first = blocks[0];
  if (first !== undefined) blocks[0] = { ...first, preamble: [...header, ...first.preamble] };
  return serializeScenario(blocks, trailer, outputs);
}

function main(): void {
  const [gitDir, commit, name, outDir] = process.argv.slice(2);
  if (gitDir === undefined || commit === undefined || name === undefined || outDir === undefined) {
    throw new Error('usage: translate <etcd git dir> <commit> <name> <out dir>');
  }
  const text = execFileSync('git', ['-C', gitDir, 'show', `${commit}:testdata/${name}.txt`], { encoding: 'utf8' });
  writeFileSync(`${outDir}/${name}.txt`, translate(text, `etcd-io/raft ${commit.slice(0, 7)} testdata/${name}.txt`));
}

if (process.argv[1]?.endsWith('translate.js')) main();
