import { readFileSync } from 'node:fs';
import { Client } from '../client/client.js';
import { RaftqError } from '../errors.js';
import { globalFlagsHelp, intFlag, nodesOf, parseCommand, tlsCaOf, tokenOf, type CommandSpec, type ParsedArgs } from './cli-args.js';

/** A CLI command: its spec and what it does. */
export interface CliCommand {
  readonly summary: string;
  readonly spec: CommandSpec;
  run(args: ParsedArgs): Promise<number>;
}

/** Builds the runner main.ts registers: parses, prints --help, runs. */
export function runner(cmd: CliCommand): (argv: readonly string[]) => Promise<number> {
  return async (argv) => {
    const args = parseCommand(cmd.spec, argv);
    if (args.help) {
      process.stdout.write(`${cmd.spec.usage}\n\n${globalFlagsHelp}\n`);
      return 0;
    }
    return cmd.run(args);
  };
}

/**
 * Runs `fn` with a client connected to the cluster named by --nodes / RAFTQ_NODES, retrying
 * for --timeout milliseconds (default 5 s: a CLI should fail fast when nothing is running),
 * and closes it afterwards.
 */
export async function withClient<T>(args: ParsedArgs, spec: CommandSpec, fn: (client: Client) => Promise<T>): Promise<T> {
  const nodes = nodesOf(args, spec);
  const timeoutMs = intFlag(args, spec, 'timeout', 5000, 0, 3_600_000);
  const caFile = tlsCaOf(args);
  let ca: Buffer | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile);
    } catch (e) {
      throw new RaftqError('INVALID_ARGUMENT', `--tls-ca ${caFile}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  const token = tokenOf(args);
  const client = new Client({
    nodes,
    retryTimeoutMs: timeoutMs,
    connectTimeoutMs: Math.min(2000, Math.max(100, timeoutMs)),
    name: 'raftq-cli',
    ...(ca !== undefined ? { tls: { ca } } : {}),
    ...(token !== undefined ? { token } : {}),
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Writes a line to stdout. */
export function out(line: string): void {
  process.stdout.write(line + '\n');
}
