#!/usr/bin/env node
import { backupCommand, restoreCommand } from './backup-command.js';
import { benchCommand } from './bench-command.js';
import { describeError, exitCodeOf } from './cli-errors.js';
import { runner, type CliCommand } from './client-session.js';
import { clusterCommands } from './cluster-commands.js';
import { memberCommand } from './member-command.js';
import { queueCommands } from './queue-commands.js';
import { tokenCommand, userCommand } from './user-command.js';

const clientCommands: Readonly<Record<string, CliCommand>> = { ...queueCommands, ...clusterCommands, ...benchCommand };

// The node runtime (LevelDB, metrics, ...) loads only for the commands that run a node, so the
// client commands start fast.
const commands: Record<string, { run: (argv: readonly string[]) => Promise<number>; help: string }> = {
  server: { run: async (argv) => (await import('./server-command.js')).serverCommand(argv), help: 'run one node (raftq server --help)' },
  cluster: { run: async (argv) => (await import('./cluster-command.js')).clusterCommand(argv), help: 'run a local three-node cluster in the foreground' },
  certs: { run: async (argv) => (await import('./certs-command.js')).certsCommand(argv), help: 'write a development CA and node certificates for TLS' },
  member: { run: memberCommand, help: 'add (learner, catch up, promote), remove or list cluster members' },
  backup: { run: backupCommand, help: 'write a consistent snapshot of the cluster to a file' },
  restore: { run: restoreCommand, help: 'seed a new node\'s data directory from a backup' },
  user: { run: userCommand, help: 'create, change, delete or list users and their permissions' },
  token: { run: tokenCommand, help: 'create or revoke a user\'s token' },
  ...Object.fromEntries(Object.entries(clientCommands).map(([name, c]) => [name, { run: runner(c), help: c.summary }])),
};

function usage(): string {
  return [
    'usage: raftq COMMAND [flags]',
    '',
    'commands:',
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(18)} ${c.help}`),
    '',
    'Client commands reach the cluster at --nodes HOST:PORT,... or RAFTQ_NODES',
    '(default: the local cluster, 127.0.0.1:7001-7003). Every command takes --help.',
    'Exit codes: 0 ok, 1 failure, 2 bad usage, 3 a node stopped by a disk fault (STORAGE_FULL, STORAGE_IO).',
  ].join('\n');
}

/** The `raftq` command line. Exit codes: 0 ok, 1 failure, 2 bad usage, 3 disk fault. */
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
    process.stderr.write((await describeError(e)) + '\n');
    return exitCodeOf(e);
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
