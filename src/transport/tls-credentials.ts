/**
 * A node's TLS material (certificate, key, cluster CA), loaded from files and reloaded without
 * a restart: on reload() (SIGHUP) and when a file changes (polled). Every TLS listener
 * registered with serve() gets the new context for new connections; a bad new file keeps the
 * old context and logs an error. Also the cluster identity check: a peer certificate must name
 * this cluster as the SAN URI `urn:raftq:cluster:<clusterId>` (as `raftq certs` writes it).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext, type PeerCertificate, type SecureContext, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';

/** The three files of a node's TLS setup. */
export interface TlsFiles {
  /** PEM certificate of this node (may be followed by intermediates). */
  readonly certFile: string;
  /** PEM private key of certFile. */
  readonly keyFile: string;
  /** PEM certificate(s) of the cluster CA: peers and clients are verified against it. */
  readonly caFile: string;
}

/** The PEM contents, as the TLS server and connect options take them. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

/** Bad TLS files at startup (unreadable, not PEM, key not matching, wrong cluster). Code TLS_CONFIG. */
export class TlsConfigError extends Error {
  readonly code = 'TLS_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

/** How often the files are polled for changes: 1 s (cheap stat calls). */
export const tlsPollIntervalMsDefault = 1000;

/** The SAN URI naming the cluster of a certificate. */
export function clusterUri(clusterId: string): string {
  return `urn:raftq:cluster:${clusterId}`;
}

/** The SAN URI that binds a certificate to one node id (optional: `raftq certs` writes it). */
export function nodeUri(nodeId: string): string {
  return `urn:raftq:node:${nodeId}`;
}

/**
 * The node id a certificate is bound to (its SAN URI `urn:raftq:node:<id>`), or null when it
 * names none (certificates from other tools need not).
 */
export function certificateNodeId(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): string | null {
  const uri = (cert?.subjectaltname ?? '').split(', ').find((s) => s.startsWith('URI:urn:raftq:node:'));
  return uri === undefined ? null : uri.slice('URI:urn:raftq:node:'.length);
}

/**
 * Why a verified peer certificate is not of cluster `clusterId`, or null when it is. Node
 * renders SANs as "DNS:a, IP Address:b, URI:c".
 */
export function clusterMismatch(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined, clusterId: string): string | null {
  const sans = (cert?.subjectaltname ?? '').split(', ');
  if (sans.includes(`URI:${clusterUri(clusterId)}`)) return null;
  const other = sans.find((s) => s.startsWith('URI:urn:raftq:cluster:'));
  return other !== undefined ? `certificate of cluster ${other.slice('URI:urn:raftq:cluster:'.length)}, expected ${clusterId}` : `certificate names no raftq cluster (expected URI ${clusterUri(clusterId)})`;
}

/** A node's reloadable TLS credentials. */
export class TlsCredentials {
  readonly files: TlsFiles;
  readonly clusterId: string;
  readonly #logger: Logger;
  #material: TlsMaterial;
  #context: SecureContext;
  readonly #servers = new Set<TlsServer>();
  #watching = false;
  #debounce: NodeJS.Timeout | undefined;

  /** Loads and checks the files; throws TlsConfigError when they are unusable. */
  constructor(files: TlsFiles, clusterId: string, logger: Logger) {
    this.files = files;
    this.clusterId = clusterId;
    this.#logger = logger.child({ component: 'tls' });
    const { material, context } = this.#build();
    this.#material = material;
    this.#context = context;
  }

  /** The current PEM contents (for createServer / setSecureContext). */
  get material(): TlsMaterial {
    return this.#material;
  }

  /** The current secure context (for outbound connections). */
  get context(): SecureContext {
    return this.#context;
  }

  /**
   * Rereads the files. On success new connections of every served listener use them; on
   * failure the old ones stay and an error is logged. Returns whether it succeeded.
   */
  reload(reason: string): boolean {
    let next: { material: TlsMaterial; context: SecureContext };
    try {
      next = this.#build();
    } catch (e) {
      this.#logger.error({ reason, err: e instanceof Error ? e.message : String(e), ...this.files }, 'TLS reload failed; keeping the previous certificate');
      return false;
    }
    this.#material = next.material;
    this.#context = next.context;
    for (const server of this.#servers) server.setSecureContext({ ...next.material });
    this.#logger.info({ reason, ...this.describe() }, 'TLS certificate reloaded');
    return true;
  }

  /** Polls the files and reloads (debounced) when one changes, until close(). */
  watch(intervalMs = tlsPollIntervalMsDefault): void {
    if (this.#watching) return;
    this.#watching = true;
    const onChange = (): void => {
      clearTimeout(this.#debounce);
      // Files are often replaced one after another: wait for the set to settle.
      this.#debounce = setTimeout(() => this.reload('file change'), Math.min(250, intervalMs));
      this.#debounce.unref();
    };
    for (const f of this.#paths()) watchFile(f, { interval: intervalMs, persistent: false }, onChange);
  }

  /**
   * Registers a TLS listener: it gets every reloaded context, and a failed handshake (plain
   * text, an untrusted or missing client certificate) is logged and its socket closed.
   */
  serve(server: TlsServer, listener: string): void {
    this.#servers.add(server);
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      this.#logger.warn({ listener, addr: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, err: err.message }, 'TLS handshake failed; connection closed');
      socket.destroy();
    });
    server.once('close', () => this.#servers.delete(server));
  }

  /** Stops watching the files. */
  close(): void {
    clearTimeout(this.#debounce);
    if (this.#watching) for (const f of this.#paths()) unwatchFile(f);
    this.#watching = false;
    this.#servers.clear();
  }

  /** Subject, validity and fingerprint of the current certificate, for logs. */
  describe(): { subject: string; validTo: string; fingerprint256: string } {
    const x = new X509Certificate(this.#material.cert);
    return { subject: x.subject.replace(/\n/g, ', '), validTo: x.validTo, fingerprint256: x.fingerprint256 };
  }

  #paths(): string[] {
    return [...new Set([this.files.certFile, this.files.keyFile, this.files.caFile])];
  }

  #build(): { material: TlsMaterial; context: SecureContext } {
    const read = (what: string, file: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (e) {
        throw new TlsConfigError(`${what} ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    const material: TlsMaterial = { cert: read('certificate', this.files.certFile), key: read('key', this.files.keyFile), ca: read('CA', this.files.caFile) };
    let x: X509Certificate;
    let context: SecureContext;
    try {
      x = new X509Certificate(material.cert);
      new X509Certificate(material.ca);
      context = createSecureContext({ ...material });
    } catch (e) {
      throw new TlsConfigError(`${this.files.certFile}, ${this.files.keyFile}, ${this.files.caFile}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const mismatch = clusterMismatch({ subjectaltname: x.subjectAltName ?? '' }, this.clusterId);
    if (mismatch !== null) throw new TlsConfigError(`${this.files.certFile}: ${mismatch}; peers would refuse it`);
    if (Date.parse(x.validTo) < Date.now()) this.#logger.error({ validTo: x.validTo, certFile: this.files.certFile }, 'the node certificate has expired: peers and clients will refuse it');
    return { material, context };
  }
}
