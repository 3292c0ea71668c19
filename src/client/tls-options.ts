/**
 * TLS settings of the client library: to talk to a cluster started with --tls-cert/--tls-key/--tls-ca.
 */

/** How the client reaches a TLS cluster. The node's certificate is always verified. */
export interface ClientTlsOptions {
  /** PEM CA certificate(s) the nodes' certificates chain to (e.g. data/tls/ca.pem); default: the system roots. */
  readonly ca?: string | Buffer;
  /** The name to verify the node's certificate against; default the host of each address. */
  readonly servername?: string;
  /** A PEM client certificate to present (for a later, certificate-based identity); optional. */
  readonly cert?: string | Buffer;
  /** The PEM key of `cert`. */
  readonly key?: string | Buffer;
}
