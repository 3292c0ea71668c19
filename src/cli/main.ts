#!/usr/bin/env node
import { clusterCommand } from './cluster-command.js';
import { describeStartupError, serverCommand } from './server-command.js';

const commands: Record<string, { run: (argv: readonly string[]) => Promise<number>; help: string }> = {
  server: { run: serverCommand, help: 'run one node (raftq server --help)' },
  cluster: { run: clusterCommand, help: 'run a local three-node cluster in the foreground' },
};

function usage(): string {
  return ['usage: raftq COMMAND [flags]', '', 'commands:', ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(18)} ${c.help}`), '', 'Every command takes --help.'].join('\n');
}

/** The `raftq` command line. Exit codes: 0 ok, 1 failure, 2 bad usage. */
async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const cmd = commands[name];
  if (cmd === undefined) {
    process.stderr.write(`error INVALID_ARGUMENT: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    process.stderr.write(describeStartupError(e) + '\n');
    const code = (e as { code?: unknown }).code;
    return code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
