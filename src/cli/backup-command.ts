import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { RaftqError, isErrorCode } from '../errors.js';
import { readBackup, restoreDataDir } from '../server/backup.js';
import { parsePeers } from '../server/config.js';
import { nodeFlagHelp, nodeFlags, nodeOf, parseOps, readText, requestNode } from './admin-http.js';
import { UsageError } from './cli-args.js';

const backupUsage = `usage: raftq backup FILE [--node HOST:HTTPPORT] [--tls-ca FILE]

Writes a consistent snapshot of the cluster's applied state to FILE. The node serving it first
passes a linearizable barrier (ReadIndex), so the backup holds every write acknowledged before
the command started. The file is written to FILE.partial, verified (checksums, trailer), then
renamed to FILE. Restore it with \`raftq restore\`.

flags:
${nodeFlagHelp}`;

const restoreUsage = `usage: raftq restore FILE --data-dir DIR --node-id ID --peers id=host:peerPort:clientPort:httpPort,... [--cluster-id ID]

Seeds the data directory of ONE node of a NEW cluster from a backup. Run it once per node of
the new cluster, every time with the same FILE, --peers and --cluster-id, then start every node
with \`raftq server\` and the same flags. DIR must not exist or be empty. The new cluster's
membership is --peers (all voters); its addresses come from --peers too. The cluster id may
differ from the backed-up cluster's (default: raftq).`;

/** `raftq backup FILE`. */
export async function backupCommand(argv: readonly string[]): Promise<number> {
  const args = parseOps(argv, backupUsage, { ...nodeFlags }, { min: 1, max: 1 });
  if (args.help) {
    process.stdout.write(backupUsage + '\n');
    return 0;
  }
  const file = args.positionals[0]!;
  const node = nodeOf(args.values);
  const partial = `${file}.partial`;
  const res = await requestNode(node, 'GET', '/v1/backup', undefined, 3_600_000);
  if (res.statusCode !== 200) {
    let body: { error?: { code?: unknown; message?: unknown } } | undefined;
    try {
      body = JSON.parse(await readText(res)) as typeof body;
    } catch {
      body = undefined;
    }
    const code = isErrorCode(body?.error?.code) ? body.error.code : 'INTERNAL';
    throw new RaftqError(code, typeof body?.error?.message === 'string' ? body.error.message : `backup failed with HTTP ${res.statusCode ?? 0}`);
  }
  try {
    await pipeline(res, createWriteStream(partial));
    const { header, chunks } = await readBackup(createReadStream(partial));
    let count = 0;
    for await (const _c of chunks) count++;
    renameSync(partial, file);
    const bytes = statSync(file).size;
    process.stdout.write(`backup of cluster ${header.clusterId} (from ${header.nodeId}) at index ${header.index}, term ${header.term}: ${count} chunks, ${bytes} bytes -> ${file}\n`);
    return 0;
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
}

/** `raftq restore FILE --data-dir DIR --node-id ID --peers ...`. */
export async function restoreCommand(argv: readonly string[]): Promise<number> {
  const args = parseOps(argv, restoreUsage, { 'data-dir': { type: 'string' }, 'node-id': { type: 'string' }, peers: { type: 'string' }, 'cluster-id': { type: 'string' } }, { min: 1, max: 1 });
  if (args.help) {
    process.stdout.write(restoreUsage + '\n');
    return 0;
  }
  const need = (k: string): string => {
    const v = args.values[k];
    if (typeof v !== 'string' || v === '') throw new UsageError(`--${k} is required`, restoreUsage);
    return v;
  };
  const dataDir = need('data-dir');
  const nodeId = need('node-id');
  const peers = parsePeers(need('peers'), '--peers');
  const clusterIdFlag = args.values['cluster-id'];
  const clusterId = typeof clusterIdFlag === 'string' && clusterIdFlag !== '' ? clusterIdFlag : 'raftq';
  const file = args.positionals[0]!;
  try {
    statSync(file);
  } catch {
    throw new RaftqError('INVALID_ARGUMENT', `backup file ${file} does not exist`);
  }
  const r = await restoreDataDir(createReadStream(file), { dataDir, clusterId, nodeId, voters: Object.keys(peers) });
  process.stdout.write(
    `restored ${file} (cluster ${r.header.clusterId} at index ${r.header.index}) into ${dataDir} as node ${nodeId} of cluster ${clusterId} ` +
      `(voters ${Object.keys(peers).sort().join(', ')}): ${r.pairCount} keys in ${r.chunkCount} chunks\n`,
  );
  return 0;
}
