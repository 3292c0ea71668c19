/**
 * One JSON request to another node's HTTP API (a follower forwarding to the leader), over http
 * or https (verifying the node against the cluster CA). node:http(s) rather than fetch: fetch
 * cannot take a CA without undici's Agent.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Where and what to send. */
export interface NodeRequestOptions {
  /** "host:port" of the node. */
  readonly address: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as JSON; undefined sends no body. */
  readonly body: unknown;
  /** PEM CA to verify the node against: present means https. */
  readonly ca?: Buffer;
  readonly signal: AbortSignal;
}

/** Sends and reads the whole JSON response ({} when not JSON); rejects on a network or TLS failure or abort. */
export function requestJson(o: NodeRequestOptions): Promise<{ status: number; body: unknown }> {
  const data = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  const url = new URL(`${o.ca !== undefined ? 'https' : 'http'}://${o.address}${o.path}`);
  const bodyHeaders = data === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(data.length) };
  const options = { method: o.method, headers: { ...o.headers, ...bodyHeaders }, signal: o.signal };
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        let body: unknown = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          // Not JSON: the caller reports the status.
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    };
    const req = o.ca !== undefined ? httpsRequest(url, { ...options, ca: o.ca }, onResponse) : httpRequest(url, options, onResponse);
    req.on('error', reject);
    req.end(data);
  });
}
