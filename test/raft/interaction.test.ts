import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBlock } from './interaction/commands.js';
import { InteractionEnv } from './interaction/env.js';
import { parseScenario, serializeScenario } from './interaction/parser.js';

/**
 * etcd-io/raft's interaction scenarios (testdata/*.txt), run against raftq's RawNode.
 *
 * Each file in test/raft/testdata/ was translated from etcd's file of the same name by
 * interaction/translate.ts: etcd's commands, comments and recorded output, with etcd's log
 * lines dropped. The expected output is etcd's, not raftq's: where the two differ, either raftq
 * had a bug (fixed, the scenario is its test) or raftq differs on purpose; each such place is
 * edited in the file with a `# raftq:` comment and listed in `deliberateDifferences` below.
 *
 * RAFTQ_REWRITE=1 writes raftq's actual output into the files, for `git diff` against etcd's;
 * never commit a rewrite that is not understood and listed below.
 */

const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

/**
 * Differences in form that hold in every scenario, applied to etcd's expected output before it
 * is compared. Each is a deliberate difference, with its reason.
 */
const rewrites: ReadonlyArray<{ readonly etcd: RegExp; readonly raftq: string; readonly reason: string }> = [
  {
    etcd: /Ready MustSync=false:(\n\s*(?:Lead|HardState)[^\n]*)*(\n\s*Snapshot )/g,
    raftq: 'Ready MustSync=true:$1$2',
    reason: 'raftq fsyncs an installed snapshot with the Ready that carries it (mustSync covers the snapshot); etcd leaves that to the application',
  },
  {
    etcd: /EntryConfChangeV2/g,
    raftq: 'EntryConfChange',
    reason: 'raftq has one conf change entry type (single-server changes); a V2 change with one operation and an auto transition is that change',
  },
];

/**
 * Places where raftq deliberately differs from etcd in behaviour. The expected output of these
 * blocks was edited in the scenario file (each edit under a `# raftq:` comment); everything
 * else in the files is etcd's recorded output.
 */
export const deliberateDifferences: Record<string, readonly string[]> = {};

/** etcd scenarios not run, with the raftq feature they need and raftq does not have. */
export const notRun: Record<string, string> = {};

const files = readdirSync(testdata)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('etcd-io/raft interaction scenarios', () => {
  for (const file of files) {
    it(file, () => {
      const path = join(testdata, file);
      const { blocks, trailer } = parseScenario(readFileSync(path, 'utf8'));
      const env = new InteractionEnv();
      const actual: string[] = [];
      const mismatches: string[] = [];
      for (const b of blocks) {
        let out: string;
        try {
          out = runBlock(env, b);
        } catch (e) {
          out = `error: ${e instanceof Error ? e.message : String(e)}`;
          if (process.env['RAFTQ_REWRITE'] !== '1') throw new Error(`${file}:${b.line} ${b.cmdLine}: ${out}`, { cause: e });
        }
        actual.push(out);
        const expected = rewrites.reduce((text, r) => text.replace(r.etcd, r.raftq), b.expected);
        if (out !== expected && mismatches.length === 0) {
          mismatches.push(`${file}:${b.line} ${b.cmdLine}\n--- expected (etcd)\n${expected}\n--- actual (raftq)\n${out}`);
        }
      }
      if (process.env['RAFTQ_REWRITE'] === '1') {
        writeFileSync(path, serializeScenario(blocks, trailer, actual));
        return;
      }
      expect(mismatches, mismatches[0]).toEqual([]);
    });
  }
});
