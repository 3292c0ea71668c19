import { RaftqError } from '../errors.js';
import { loadServerConfig, settings } from '../server/config.js';
import { startServer } from '../node/start-server.js';

/** Help text of `raftq server`, generated from the settings schema. */
export function serverHelp(): string {
  const lines = settings.map((s) => `  ${(s.flag + ' ' + (s.kind === 'bool' ? '' : s.kind === 'int' ? 'N' : 'VALUE')).padEnd(38)} ${s.help} [${s.env}]`);
  return [
    'usage: raftq server [--config FILE.json] [flags]',
    '',
    'Runs one raftq node. Settings come from a JSON file (keys as below, camelCase), RAFTQ_*',
    'environment variables, then flags; later sources win.',
    '',
    '  --config FILE                          JSON config file [RAFTQ_CONFIG]',
    ...lines,
    '  --print-config                         print the resolved configuration and exit',
  ].join('\n');
}

/** `raftq server`: runs a node until SIGTERM/SIGINT, then shuts down gracefully. */
export async function serverCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serverHelp() + '\n');
    return 0;
  }
  const printOnly = argv.includes('--print-config');
  const config = loadServerConfig(
    argv.filter((a) => a !== '--print-config'),
    process.env,
  );
  if (printOnly) {
    process.stdout.write(JSON.stringify(config, null, 2) + '\n');
    return 0;
  }
  const server = await startServer(config);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      server.logger.info({ signal }, 'shutting down');
      server
        .stop()
        .catch((e: unknown) => server.logger.error({ err: e }, 'error during shutdown'))
        .finally(resolve);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // SIGHUP rereads the TLS files (a no-op without TLS, instead of the default: exit).
    process.on('SIGHUP', () => {
      if (!server.tls) server.logger.info('SIGHUP: no TLS files to reload');
      else server.reloadTls();
    });
  });
  return 0;
}

/** Formats a startup error for a person: the code, the message, and a hint. */
export function describeStartupError(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const msg = e instanceof Error ? e.message + causes(e) : String(e);
  if (e instanceof RaftqError) return `error ${e.code}: ${msg}`;
  if (code === 'DATA_DIR_LOCKED') return `error DATA_DIR_LOCKED: ${msg}\nhint: another raftq process is using this data directory; stop it or pick another --data-dir`;
  if (code === 'STORAGE_CORRUPT') return `error STORAGE_CORRUPT: ${msg}\nhint: the data directory is damaged and the automatic repair (move it aside as <dir>.damaged-<time>, start fresh, recover from the peers) did not help; check the disk (dmesg)`;
  if (code === 'STORAGE_FORMAT') return `error STORAGE_FORMAT: ${msg}\nhint: a newer raftq wrote this data directory; run that version (a downgrade cannot read it)`;
  if (code === 'CLUSTER_MISMATCH') return `error CLUSTER_MISMATCH: ${msg}\nhint: this data directory belongs to another cluster or node id`;
  if (code === 'STORAGE_FULL') return `error STORAGE_FULL: ${msg}\nhint: the disk of the data directory is full; free space, then start the node again (it catches up from its peers)`;
  if (code === 'STORAGE_IO') return `error STORAGE_IO: ${msg}\nhint: the disk of the data directory failed (EIO); check it (dmesg), repair or replace it, then start the node again`;
  if (code === 'EADDRINUSE') return `error EADDRINUSE: ${msg}\nhint: a port is taken; is another node running?`;
  return `error ${typeof code === 'string' ? code : 'INTERNAL'}: ${msg}`;
}

/** " (caused by: ...)" for each error in `e`'s cause chain (LevelDB puts the reason there). */
function causes(e: Error): string {
  let out = '';
  let c: unknown = e.cause;
  for (let depth = 0; c instanceof Error && depth < 4; depth++, c = c.cause) out += ` (caused by: ${c.message})`;
  return out;
}
