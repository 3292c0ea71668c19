import { readFileSync } from 'node:fs';
import { RaftqError } from '../errors.js';
import type { NodeRuntimeConfig } from './runtime-options.js';
import type { PeerConfig } from './peer-config.js';

/** Everything `raftq server` needs: the runtime settings plus the client-facing listeners. */
export interface ServerConfig extends NodeRuntimeConfig {
  /** HTTP API port (DESIGN.md: 800i locally). */
  readonly httpPort: number;
  /** Binary client protocol port (DESIGN.md: 700i locally). */
  readonly clientPort: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest HTTP request body in bytes; checked before parsing. Also the binary protocol's frame limit. */
  readonly httpBodyBytesMax: number;
  /** Binary protocol: milliseconds without a byte from a client before its connection is closed. */
  readonly clientIdleTimeoutMs: number;
  /** Binary protocol: requests (subscriptions included) in flight per connection before UNAVAILABLE. */
  readonly clientRequestsInflightMax: number;
  /** Test-only: honour clock offsets injected through RAFTQ_TEST_CLOCK_OFFSET_FILE. */
  readonly testMode: boolean;
  /** SQS API: the region in queue ARNs. */
  readonly sqsRegion: string;
  /** SQS API: the account id (12 digits) in queue URLs and ARNs. */
  readonly sqsAccountId: string;
  /** SQS API: JSON file of the SigV4 access keys it accepts ('' for none). */
  readonly sqsCredentialsFile: string;
  /** SQS API: accept requests without checking signatures, when no credentials are configured (local clusters). */
  readonly sqsOpen: boolean;
  /** TLS: this node's PEM certificate file ('' for plain text). With tlsKey and tlsCa, every listener uses TLS. */
  readonly tlsCert: string;
  /** TLS: the PEM private key file of tlsCert. */
  readonly tlsKey: string;
  /** TLS: the cluster CA's PEM file; peers must present a certificate it signed, naming this cluster. */
  readonly tlsCa: string;
  /** Authentication of clients: 'off' (default, no tokens) or 'required' (README "Authentication"). */
  readonly auth: 'off' | 'required';
  /** A file holding the bootstrap admin token ('' for none): not replicated, every permission. */
  readonly adminTokenFile: string;
  /** With auth required: serve /metrics without a token. */
  readonly metricsOpen: boolean;
}

type Kind = 'string' | 'int' | 'bool' | 'peers' | 'level' | 'auth';

interface Setting {
  readonly key: keyof ServerConfig;
  readonly flag: string;
  readonly env: string;
  readonly kind: Kind;
  readonly help: string;
  readonly min?: number;
  readonly max?: number;
}

/** The one schema of server settings: flag, environment variable, JSON key, type and range. */
export const settings: readonly Setting[] = [
  { key: 'nodeId', flag: '--node-id', env: 'RAFTQ_NODE_ID', kind: 'string', help: 'this node\'s id, one of the peer ids (e.g. n1)' },
  { key: 'clusterId', flag: '--cluster-id', env: 'RAFTQ_CLUSTER_ID', kind: 'string', help: 'cluster identity; peers with another id are refused' },
  { key: 'dataDir', flag: '--data-dir', env: 'RAFTQ_DATA_DIR', kind: 'string', help: 'data directory (locked by one process)' },
  { key: 'peers', flag: '--peers', env: 'RAFTQ_PEERS', kind: 'peers', help: 'every member as id=host:peerPort[:clientPort:httpPort], comma-separated' },
  { key: 'listenHost', flag: '--listen-host', env: 'RAFTQ_LISTEN_HOST', kind: 'string', help: 'address to listen on for peers and clients' },
  { key: 'httpPort', flag: '--http-port', env: 'RAFTQ_HTTP_PORT', kind: 'int', min: 0, max: 65535, help: 'HTTP API port' },
  { key: 'clientPort', flag: '--client-port', env: 'RAFTQ_CLIENT_PORT', kind: 'int', min: 0, max: 65535, help: 'binary client protocol port' },
  { key: 'tickMs', flag: '--tick-ms', env: 'RAFTQ_TICK_MS', kind: 'int', min: 1, max: 10_000, help: 'milliseconds per Raft tick' },
  { key: 'electionTicks', flag: '--election-ticks', env: 'RAFTQ_ELECTION_TICKS', kind: 'int', min: 3, max: 1000, help: 'election timeout in ticks (jittered to twice that)' },
  { key: 'heartbeatTicks', flag: '--heartbeat-ticks', env: 'RAFTQ_HEARTBEAT_TICKS', kind: 'int', min: 1, max: 1000, help: 'ticks between heartbeats' },
  { key: 'snapshotEntries', flag: '--snapshot-entries', env: 'RAFTQ_SNAPSHOT_ENTRIES', kind: 'int', min: 10, max: 100_000_000, help: 'compact the log after this many applied entries' },
  { key: 'compactionTrailingEntries', flag: '--compaction-trailing-entries', env: 'RAFTQ_COMPACTION_TRAILING_ENTRIES', kind: 'int', min: 0, max: 100_000_000, help: 'entries kept behind a compaction' },
  { key: 'snapshotBytes', flag: '--snapshot-bytes', env: 'RAFTQ_SNAPSHOT_BYTES', kind: 'int', min: 1 << 20, max: 1 << 40, help: 'compact the log once it holds this many bytes (the log is kept in memory too)' },
  { key: 'compactionTrailingBytes', flag: '--compaction-trailing-bytes', env: 'RAFTQ_COMPACTION_TRAILING_BYTES', kind: 'int', min: 0, max: 1 << 40, help: 'bytes of entries at most kept behind a compaction' },
  { key: 'segmentBytes', flag: '--segment-bytes', env: 'RAFTQ_SEGMENT_BYTES', kind: 'int', min: 4096, max: 1 << 30, help: 'largest segment file of the Raft log (space is reclaimed a segment at a time)' },
  { key: 'requestTimeoutMs', flag: '--request-timeout-ms', env: 'RAFTQ_REQUEST_TIMEOUT_MS', kind: 'int', min: 100, max: 600_000, help: 'end-to-end request timeout' },
  { key: 'leaderWaitMs', flag: '--leader-wait-ms', env: 'RAFTQ_LEADER_WAIT_MS', kind: 'int', min: 0, max: 600_000, help: 'how long a request waits for a leader' },
  { key: 'proposalsMax', flag: '--proposals-max', env: 'RAFTQ_PROPOSALS_MAX', kind: 'int', min: 1, max: 10_000_000, help: 'proposals in flight before UNAVAILABLE' },
  { key: 'httpBodyBytesMax', flag: '--http-body-bytes-max', env: 'RAFTQ_HTTP_BODY_BYTES_MAX', kind: 'int', min: 1024, max: 256 << 20, help: 'largest HTTP request body' },
  { key: 'clientIdleTimeoutMs', flag: '--client-idle-timeout-ms', env: 'RAFTQ_CLIENT_IDLE_TIMEOUT_MS', kind: 'int', min: 100, max: 3_600_000, help: 'close binary client connections silent this long' },
  { key: 'clientRequestsInflightMax', flag: '--client-requests-inflight-max', env: 'RAFTQ_CLIENT_REQUESTS_INFLIGHT_MAX', kind: 'int', min: 1, max: 1_000_000, help: 'binary requests in flight per connection before UNAVAILABLE' },
  { key: 'logLevel', flag: '--log-level', env: 'RAFTQ_LOG_LEVEL', kind: 'level', help: 'fatal|error|warn|info|debug|trace|silent' },
  { key: 'join', flag: '--join', env: 'RAFTQ_JOIN', kind: 'bool', help: 'join a running cluster: a new data directory starts with no membership (never campaigns) and waits for `raftq member add` (README "Operations")' },
  { key: 'sqsRegion', flag: '--sqs-region', env: 'RAFTQ_SQS_REGION', kind: 'string', help: 'SQS API: region in queue ARNs (default us-east-1)' },
  { key: 'sqsAccountId', flag: '--sqs-account-id', env: 'RAFTQ_SQS_ACCOUNT_ID', kind: 'string', help: 'SQS API: account id in queue URLs and ARNs, 12 digits (default 000000000000)' },
  { key: 'sqsCredentialsFile', flag: '--sqs-credentials-file', env: 'RAFTQ_SQS_CREDENTIALS_FILE', kind: 'string', help: 'SQS API: JSON file [{"accessKeyId","secretAccessKey"},...] of the SigV4 keys accepted' },
  { key: 'sqsOpen', flag: '--sqs-open', env: 'RAFTQ_SQS_OPEN', kind: 'bool', help: 'SQS API: accept unsigned requests when no credentials file is given (local clusters only)' },
  { key: 'tlsCert', flag: '--tls-cert', env: 'RAFTQ_TLS_CERT', kind: 'string', help: 'TLS: this node\'s PEM certificate; with --tls-key and --tls-ca every listener (HTTP, client, peer) uses TLS, peers mutual TLS (reloaded on SIGHUP and file change)' },
  { key: 'tlsKey', flag: '--tls-key', env: 'RAFTQ_TLS_KEY', kind: 'string', help: 'TLS: the PEM private key of --tls-cert' },
  { key: 'tlsCa', flag: '--tls-ca', env: 'RAFTQ_TLS_CA', kind: 'string', help: 'TLS: the cluster CA (PEM); peers need a certificate it signed that names this cluster (urn:raftq:cluster:ID)' },
  { key: 'auth', flag: '--auth', env: 'RAFTQ_AUTH', kind: 'auth', help: 'off|required: required makes HTTP take Authorization: Bearer <token> and the binary protocol a token in its Hello (/health and /ready stay open)' },
  { key: 'adminTokenFile', flag: '--admin-token-file', env: 'RAFTQ_ADMIN_TOKEN_FILE', kind: 'string', help: 'a file with the bootstrap admin token (every permission, not replicated); raftq cluster --secure writes data/admin.token' },
  { key: 'metricsOpen', flag: '--metrics-open', env: 'RAFTQ_METRICS_OPEN', kind: 'bool', help: 'with --auth required: serve /metrics without a token' },
  { key: 'testMode', flag: '--test-mode', env: 'RAFTQ_TEST_MODE', kind: 'bool', help: 'test-only fault hooks (never in production)' },
];

/**
 * Defaults. Tick 25 ms with a 20-tick election timeout gives 500–1000 ms: long enough to ride
 * out event-loop stalls on a busy 2-core machine (CheckQuorum and PreVote stop a slow node from
 * disrupting), short enough for sub-second failover; a crashed leader's closed sockets trigger
 * an election sooner (see NodeRuntime.#detectLeaderLoss).
 */
export const defaults: Omit<ServerConfig, 'nodeId' | 'peers' | 'dataDir' | 'httpPort' | 'clientPort'> = {
  clusterId: 'raftq',
  listenHost: '127.0.0.1',
  tickMs: 25,
  electionTicks: 20,
  heartbeatTicks: 2,
  snapshotEntries: 20_000,
  compactionTrailingEntries: 2_000,
  // The log is held in memory as well as on disk: bound it by bytes, not only by entries (20k
  // entries of batched 1 KiB messages are 2 GB). 32 MiB, keeping at most 8 MiB behind a
  // compaction for followers that lag briefly (a second of replication at 8 MB/s), keeps a
  // node's memory bounded by metadata; a compaction costs one synced write and a few deletes.
  snapshotBytes: 32 << 20,
  compactionTrailingBytes: 8 << 20,
  requestTimeoutMs: 10_000,
  leaderWaitMs: 5_000,
  proposalsMax: 50_000,
  httpBodyBytesMax: 8 << 20,
  // Clients ping every 10 s when idle (src/client), so 30 s rides out two lost pings.
  clientIdleTimeoutMs: 30_000,
  // 4096 pipelined requests keep a fast producer busy; beyond that a client is better told to
  // slow down than given more memory (each one may hold a 1 MiB body).
  clientRequestsInflightMax: 4096,
  logLevel: 'info',
  testMode: false,
  sqsRegion: 'us-east-1',
  sqsAccountId: '000000000000',
  sqsCredentialsFile: '',
  sqsOpen: false,
  tlsCert: '',
  tlsKey: '',
  tlsCa: '',
  auth: 'off',
  adminTokenFile: '',
  metricsOpen: false,
};

type Raw = Partial<Record<keyof ServerConfig, unknown>>;

/**
 * Builds and validates the server configuration from a JSON file (--config / RAFTQ_CONFIG),
 * environment variables and flags, later sources winning. Throws RaftqError INVALID_ARGUMENT
 * naming the bad setting and where it came from.
 */
export function loadServerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServerConfig {
  const raw: Raw = {};
  const origin: Partial<Record<keyof ServerConfig, string>> = {};
  const flagValues = parseFlags(argv);
  const file = flagValues.get('--config') ?? env['RAFTQ_CONFIG'];
  if (file !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw bad(`config file ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad(`config file ${file}: must hold a JSON object`);
    for (const [k, v] of Object.entries(json)) {
      const s = settings.find((x) => x.key === k);
      if (s === undefined) throw bad(`config file ${file}: unknown setting "${k}"`);
      raw[s.key] = v;
      origin[s.key] = `config file key "${k}"`;
    }
  }
  for (const s of settings) {
    const v = env[s.env];
    if (v !== undefined && v !== '') {
      raw[s.key] = v;
      origin[s.key] = `environment variable ${s.env}`;
    }
  }
  for (const [flag, v] of flagValues) {
    if (flag === '--config') continue;
    const s = settings.find((x) => x.flag === flag);
    if (s === undefined) throw bad(`unknown flag ${flag} (see raftq server --help)`);
    raw[s.key] = v;
    origin[s.key] = `flag ${flag}`;
  }
  return validate(raw, origin);
}

function validate(raw: Raw, origin: Partial<Record<keyof ServerConfig, string>>): ServerConfig {
  const out: Record<string, unknown> = { ...defaults };
  for (const s of settings) {
    if (raw[s.key] === undefined) continue;
    out[s.key] = coerce(s, raw[s.key], origin[s.key] ?? s.flag);
  }
  const nodeId = out['nodeId'];
  if (typeof nodeId !== 'string') throw bad('missing setting nodeId: pass --node-id or RAFTQ_NODE_ID');
  const peers = out['peers'] as Record<string, PeerConfig> | undefined;
  if (peers === undefined) throw bad('missing setting peers: pass --peers id=host:peerPort[:clientPort:httpPort],... or RAFTQ_PEERS');
  const self = peers[nodeId];
  if (self === undefined) throw bad(`setting nodeId: "${nodeId}" is not one of the peers (${Object.keys(peers).join(', ')})`);
  out['dataDir'] ??= `./data/${nodeId}`;
  out['httpPort'] ??= self.httpPort;
  out['clientPort'] ??= self.clientPort;
  if (out['httpPort'] === undefined) throw bad(`missing setting httpPort: pass --http-port or give it in the peer entry of ${nodeId}`);
  if (out['clientPort'] === undefined) throw bad(`missing setting clientPort: pass --client-port or give it in the peer entry of ${nodeId}`);
  if ((out['heartbeatTicks'] as number) >= (out['electionTicks'] as number)) throw bad('setting heartbeatTicks must be below electionTicks');
  const tls = [out['tlsCert'], out['tlsKey'], out['tlsCa']].filter((f) => f !== '').length;
  if (tls !== 0 && tls !== 3) throw bad('settings tlsCert, tlsKey and tlsCa go together: pass all of --tls-cert, --tls-key and --tls-ca, or none');
  if (out['auth'] === 'off' && out['adminTokenFile'] !== '') throw bad('setting adminTokenFile needs auth required: pass --auth required with --admin-token-file');
  return out as unknown as ServerConfig;
}

function coerce(s: Setting, v: unknown, from: string): unknown {
  const where = `setting ${s.key} (${from})`;
  switch (s.kind) {
    case 'string': {
      if (typeof v !== 'string' || v.trim() === '') throw bad(`${where}: expected a non-empty string`);
      if (s.key === 'nodeId' && !/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw bad(`${where}: node ids are 1-64 characters of [A-Za-z0-9_-]`);
      if (s.key === 'sqsAccountId' && !/^\d{12}$/.test(v)) throw bad(`${where}: an account id is 12 digits`);
      if (s.key === 'sqsRegion' && !/^[a-z0-9-]{1,32}$/.test(v)) throw bad(`${where}: a region is 1-32 characters of [a-z0-9-]`);
      return v;
    }
    case 'int': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isInteger(n)) throw bad(`${where}: expected an integer, got ${JSON.stringify(v)}`);
      if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) throw bad(`${where}: ${n} is outside ${s.min}..${s.max}`);
      return n;
    }
    case 'bool': {
      if (v === true || v === 'true' || v === '1' || v === '') return true;
      if (v === false || v === 'false' || v === '0') return false;
      throw bad(`${where}: expected true or false`);
    }
    case 'level': {
      const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
      if (typeof v !== 'string' || !levels.includes(v)) throw bad(`${where}: expected one of ${levels.join('|')}`);
      return v;
    }
    case 'auth': {
      if (v !== 'off' && v !== 'required') throw bad(`${where}: expected off or required`);
      return v;
    }
    case 'peers':
      return parsePeers(v, where);
  }
}

/** Parses `id=host:peerPort[:clientPort:httpPort],...` or a JSON object of PeerConfig. */
export function parsePeers(v: unknown, where = 'peers'): Record<string, PeerConfig> {
  const out: Record<string, PeerConfig> = {};
  const port = (x: unknown, what: string): number => {
    const n = typeof x === 'number' ? x : typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw bad(`${where}: ${what} must be a port 1..65535, got ${JSON.stringify(x)}`);
    return n;
  };
  if (typeof v === 'string') {
    for (const part of v.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const m = /^([A-Za-z0-9_-]{1,64})=([^:]+):(\d+)(?::(\d+):(\d+))?$/.exec(part);
      if (m === null) throw bad(`${where}: "${part}" is not id=host:peerPort[:clientPort:httpPort]`);
      const [, id, host, pp, cp, hp] = m;
      if (out[id!] !== undefined) throw bad(`${where}: node ${id} listed twice`);
      out[id!] = { host: host!, peerPort: port(pp, `${id} peer port`), ...(cp !== undefined ? { clientPort: port(cp, `${id} client port`) } : {}), ...(hp !== undefined ? { httpPort: port(hp, `${id} http port`) } : {}) };
    }
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const [id, p] of Object.entries(v)) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw bad(`${where}: bad node id "${id}"`);
      if (typeof p !== 'object' || p === null) throw bad(`${where}: entry ${id} must be an object {host, peerPort, clientPort?, httpPort?}`);
      const o = p as Record<string, unknown>;
      if (typeof o['host'] !== 'string' || o['host'] === '') throw bad(`${where}: ${id}.host must be a string`);
      out[id] = {
        host: o['host'],
        peerPort: port(o['peerPort'], `${id}.peerPort`),
        ...(o['clientPort'] !== undefined ? { clientPort: port(o['clientPort'], `${id}.clientPort`) } : {}),
        ...(o['httpPort'] !== undefined ? { httpPort: port(o['httpPort'], `${id}.httpPort`) } : {}),
      };
    }
  } else {
    throw bad(`${where}: expected id=host:port,... or an object`);
  }
  if (Object.keys(out).length === 0) throw bad(`${where}: at least one peer is required`);
  return out;
}

/** Splits `--flag value` / `--flag=value` pairs; boolean flags may stand alone. */
function parseFlags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw bad(`unexpected argument "${a}" (flags look like --name value)`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      out.set(a.slice(0, eq), a.slice(eq + 1));
      continue;
    }
    const s = settings.find((x) => x.flag === a);
    if (s?.kind === 'bool') {
      out.set(a, 'true');
      continue;
    }
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith('--') && a !== '--config')) throw bad(`flag ${a} needs a value`);
    out.set(a, v);
    i++;
  }
  return out;
}

function bad(message: string): RaftqError {
  return new RaftqError('INVALID_ARGUMENT', message);
}

/** The local three-node cluster of DESIGN.md: node i serves clients on 700i, HTTP 800i, peers 710i. */
export function localClusterPeers(count = 3, host = '127.0.0.1'): Record<string, PeerConfig> {
  const peers: Record<string, PeerConfig> = {};
  for (let i = 1; i <= count; i++) peers[`n${i}`] = { host, peerPort: 7100 + i, clientPort: 7000 + i, httpPort: 8000 + i };
  return peers;
}

/** Renders peers back into the --peers syntax. */
export function formatPeers(peers: Readonly<Record<string, PeerConfig>>): string {
  return Object.entries(peers)
    .map(([id, p]) => `${id}=${p.host}:${p.peerPort}${p.clientPort !== undefined && p.httpPort !== undefined ? `:${p.clientPort}:${p.httpPort}` : ''}`)
    .join(',');
}
