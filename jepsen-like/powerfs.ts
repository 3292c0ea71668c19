import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../src/proto/load.js';

/**
 * powerfs: a FUSE filesystem (jepsen-like/powerfs/*.c) that shows a backing directory as it is
 * (the page cache view) while keeping what a power cut would leave: file data only once fsynced,
 * directory entries only once their parent directory is fsynced. `cut()` is the power loss.
 * The C process is driven over a Unix socket, one text line per command and per answer.
 */

/** Options of a powerfs mount. */
export interface PowerFsOptions {
  /** Where the mounted view's files really live (the "page cache" view). Created if missing. */
  readonly backing: string;
  /** The durable image (the "disk"): what survives a power cut. Created if missing. */
  readonly durable: string;
  /** Mount point (created if missing). */
  readonly mount: string;
  readonly logger?: (line: string) => void;
}

/** What one power cut discarded. */
export interface PowerCutResult {
  /** Files whose content was not durable, or that existed only in the page cache view. */
  readonly filesReverted: number;
  /** Bytes written but not made durable (less what a torn write kept). */
  readonly bytesDiscarded: number;
  /** Directory operations (create, mkdir, rename, unlink, rmdir) not made durable. */
  readonly entriesReverted: number;
}

/** Counters of a mount. */
export interface PowerFsStats {
  readonly writes: number;
  readonly fsyncs: number;
  readonly dirtyBytes: number;
  readonly cuts: number;
}

/** powerfs cannot run on this machine; the message says why. */
export class PowerFsUnavailable extends Error {
  override readonly name = 'PowerFsUnavailable';
}

const powerfsDir = (): string => join(packageRoot(), 'jepsen-like', 'powerfs');
const binaryPath = (): string => join(powerfsDir(), 'build', 'powerfs');
/** How long a mount may take to answer before it is given up. */
const mountWaitMs = 10_000;
/** How long one control command may take (a cut moves files; large dirs take longer). */
const commandTimeoutMs = 60_000;

let buildResult: { ok: true } | { ok: false; reason: string } | undefined;

/** Runs build.sh once per process (it is itself idempotent). */
function build(): { ok: true } | { ok: false; reason: string } {
  if (buildResult !== undefined) return buildResult;
  const r = spawnSync('bash', [join(powerfsDir(), 'build.sh')], { encoding: 'utf8' });
  buildResult = r.status === 0 && existsSync(binaryPath())
    ? { ok: true }
    : { ok: false, reason: `powerfs build failed: ${(r.stderr || r.stdout || String(r.error ?? '')).trim()}` };
  return buildResult;
}

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

function mounted(mountPoint: string): boolean {
  try {
    return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === mountPoint);
  } catch {
    return false;
  }
}

/** A mounted powerfs. */
export class PowerFs {
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(
    readonly mountPoint: string,
    private readonly socketPath: string,
    private readonly child: ChildProcess,
  ) {
    this.exitPromise = new Promise((res) => child.once('exit', () => {
      this.exited = true;
      res();
    }));
  }

  /** Whether powerfs can run on this machine (binary buildable, /dev/fuse usable); the reason when not. */
  static async available(): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
    } catch (e) {
      return { ok: false, reason: `/dev/fuse is not usable (${(e as Error).message})` };
    }
    if (!onPath('fusermount3')) return { ok: false, reason: 'fusermount3 is missing (apt-get install -y fuse3)' };
    return build();
  }

  /** Builds the binary if needed, mounts, waits until the mount answers; throws PowerFsUnavailable (with the reason) when FUSE, the binary or libfuse3 is missing. */
  static async mount(o: PowerFsOptions): Promise<PowerFs> {
    const avail = await PowerFs.available();
    if (!avail.ok) throw new PowerFsUnavailable(avail.reason);
    const mountPoint = resolve(o.mount);
    for (const d of [o.backing, o.durable, mountPoint]) mkdirSync(d, { recursive: true });
    // A mount left by a crashed run answers "transport endpoint is not connected": clear it.
    if (mounted(mountPoint)) spawnSync('fusermount3', ['-u', '-z', mountPoint]);
    // A Unix socket path holds at most 107 bytes: a deep durable dir gets its socket in the temp dir.
    let socketPath = join(resolve(o.durable), 'control.sock');
    if (socketPath.length > 100) socketPath = join(tmpdir(), `powerfs-${process.pid}-${Math.floor(Math.random() * 1e9)}.sock`);
    const log = o.logger ?? ((line: string) => process.stderr.write(line + '\n'));
    const trace = process.env.POWERFS_TRACE === '1' ? ['--trace'] : [];
    const child = spawn(binaryPath(), [...trace, '--die-with-parent', '--backing', resolve(o.backing), '--durable', resolve(o.durable), '--control', socketPath, mountPoint], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const onData = (chunk: Buffer): void => {
      tail += chunk.toString('utf8');
      const lines = tail.split('\n');
      tail = lines.pop() ?? '';
      for (const l of lines) if (l.length > 0) log(l);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const fs = new PowerFs(mountPoint, socketPath, child);
    const deadline = Date.now() + mountWaitMs;
    for (;;) {
      if (fs.exited) throw new PowerFsUnavailable(`powerfs exited before mounting (exit code ${child.exitCode}); last output: ${tail}`);
      if (mounted(mountPoint)) {
        try {
          await fs.command('stats');
          return fs;
        } catch {
          // not listening yet
        }
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new PowerFsUnavailable(`powerfs did not mount ${mountPoint} within ${mountWaitMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Power loss. Call only after every process using the mount was killed (SIGKILL). Every write not made durable is discarded: file data not fsynced (fsync/fdatasync of that file), and directory entries (create, mkdir, rename, unlink, rmdir) not made durable by an fsync of their parent directory. With torn writes on, the last unsynced write of each file may survive as a prefix cut at a 512-byte boundary. Returns what was discarded. */
  async cut(): Promise<PowerCutResult> {
    return JSON.parse(await this.command('cut')) as PowerCutResult;
  }

  /** Torn writes at the next cuts; `seed` (default 0) makes the kept prefixes reproducible. */
  async setTornWrites(on: boolean, seed?: number): Promise<void> {
    await this.command(on ? `torn on${seed === undefined ? '' : ` ${Math.trunc(seed)}`}` : 'torn off');
  }

  /** While on: write, create, mkdir, fallocate, fsync answer ENOSPC. */
  async setEnospc(on: boolean): Promise<void> {
    await this.command(`enospc ${on ? 'on' : 'off'}`);
  }

  /** While on: fsync/fdatasync answer EIO and the dirty data of that file never becomes durable (as Linux drops it: "fsyncgate"). */
  async setFsyncEio(on: boolean): Promise<void> {
    await this.command(`eio-fsync ${on ? 'on' : 'off'}`);
  }

  /** Reads of files whose path (relative to the mount) matches `pathSubstring` answer EIO; undefined clears. */
  async setReadEio(pathSubstring: string | undefined): Promise<void> {
    if (pathSubstring !== undefined && (pathSubstring.length === 0 || pathSubstring === 'off' || /[\r\n]/.test(pathSubstring))) {
      throw new Error(`setReadEio: unusable substring ${JSON.stringify(pathSubstring)}`);
    }
    await this.command(`eio-read ${pathSubstring ?? 'off'}`);
  }

  async stats(): Promise<PowerFsStats> {
    return JSON.parse(await this.command('stats')) as PowerFsStats;
  }

  /** Unmounts (fusermount3 -u) and stops the process. */
  async unmount(): Promise<void> {
    if (!this.exited) {
      let r = spawnSync('fusermount3', ['-u', this.mountPoint], { encoding: 'utf8' });
      if (r.status !== 0) r = spawnSync('fusermount3', ['-u', '-z', this.mountPoint], { encoding: 'utf8' });
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      if (r.status !== 0) this.child.kill('SIGTERM');
      await this.exitPromise;
      clearTimeout(timer);
    }
    if (mounted(this.mountPoint)) spawnSync('fusermount3', ['-u', '-z', this.mountPoint]);
  }

  /** Sends one command line; resolves with the JSON text after "ok" (or ""), rejects on "err". */
  private command(line: string): Promise<string> {
    return new Promise((res, rej) => {
      const sock = connect(this.socketPath);
      let answer = '';
      const timer = setTimeout(() => {
        sock.destroy();
        rej(new Error(`powerfs: no answer to "${line}" within ${commandTimeoutMs} ms`));
      }, commandTimeoutMs);
      sock.on('connect', () => sock.write(line + '\n'));
      sock.on('data', (d) => {
        answer += d.toString('utf8');
        const nl = answer.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        sock.end();
        const reply = answer.slice(0, nl);
        if (reply === 'ok' || reply.startsWith('ok ')) res(reply.slice(3));
        else rej(new Error(`powerfs: ${line}: ${reply}`));
      });
      sock.on('error', (e) => {
        clearTimeout(timer);
        rej(e);
      });
    });
  }
}
